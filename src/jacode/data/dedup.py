"""Deduplication on datatrove's multi-stage design, so that it scales out like the rest of the pipeline.

Exact: datatrove's ExactDedup stages (signature per task → find duplicates → filter) on a hash of the normalized
content. Normalization ignores what does not change the content: Unicode NFKC, line-ending style and trailing
whitespace.

Near: datatrove's MinHash stages (signature per task → LSH buckets → cluster → filter) with jacode's shingles:
character 5-grams for text (Japanese has no spaces, so word shingles would need a tokenizer) and word 5-grams
for code (minhash.py). Both keep the first document of each cluster.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.dedup.exact_dedup import ExactDedupConfig
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
from datatrove.utils.hashing import HashConfig

from jacode.data.minhash import MinHashConfig, MinHasher

_TRAILING = re.compile(r"[ \t]+$", re.M)


def normalized(text: str) -> str:
    norm = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    return _TRAILING.sub("", norm).strip("\n")


def content_hash(text: str) -> str:
    return hashlib.sha256(normalized(text).encode("utf-8")).hexdigest()


def normalized_content(doc) -> bytes:
    return normalized(doc.text).encode("utf-8")


# datatrove picks its hash function from this annotation, and `from __future__ import annotations` made it a string.
normalized_content.__annotations__["return"] = bytes


def exact_config() -> ExactDedupConfig:
    return ExactDedupConfig(content_getter=normalized_content, hash_config=HashConfig(precision=64))


def datatrove_minhash_config(cfg: MinHashConfig) -> MinhashConfig:
    return MinhashConfig(n_grams=cfg.ngram, num_buckets=cfg.bands, hashes_per_bucket=cfg.rows, seed=cfg.seed,
                         hash_config=HashConfig(precision=64))


class ShingleMinhashSignature(MinhashDedupSignature):
    """datatrove's MinHash stage 1 with jacode's shingles: char n-grams for text, word n-grams for code."""

    name = "🎯 MinHash signatures (jacode shingles)"

    def __init__(self, output_folder, cfg: MinHashConfig = MinHashConfig()):
        # The parent's __init__ loads a spaCy word tokenizer that these shingles never use; set its fields here
        # (datatrove is pinned, and the test suite runs this stage end to end).
        PipelineStep.__init__(self)
        self.output_folder = get_datafolder(output_folder)
        self.config = datatrove_minhash_config(cfg)
        self.num_hashes = self.config.num_buckets * self.config.hashes_per_bucket
        self._parameters = None
        self.language, self.word_tokenizer, self.skip_existing_sigs = "none", None, False
        self.text_hasher = MinHasher(MinHashConfig(**{**cfg.__dict__, "unit": "char"}))
        self.code_hasher = MinHasher(MinHashConfig(**{**cfg.__dict__, "unit": "word"}))
        self._kind = "text"

    def get_shingles(self, text: str) -> np.ndarray:
        hasher = self.code_hasher if self._kind == "code" else self.text_hasher
        return hasher.shingle_hashes(text).reshape((-1, 1))

    def run(self, data, rank: int = 0, world_size: int = 1):
        def noting_kind(docs):
            # The parent's loop calls get_shingles(doc.text) right after taking each document from this
            # generator, so the kind noted here is the kind of the document being shingled.
            for doc in docs:
                self._kind = doc.metadata.get("kind", "text")
                yield doc

        return super().run(noting_kind(data), rank, world_size)
