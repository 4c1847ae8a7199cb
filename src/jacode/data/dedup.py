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
from collections import deque
from itertools import islice

import numpy as np
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.dedup.exact_dedup import ExactDedupConfig
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
from datatrove.utils.hashing import HashConfig

from jacode.data.minhash import MinHashConfig, MinHasher

BATCH = 1000  # documents whose signatures are computed together in the MinHash signature stage
_PRECOMPUTED = np.ones(1, dtype=np.uint64)

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

    def get_shingles(self, text: str) -> np.ndarray:
        # The signature of this document was computed with its batch (run); datatrove only needs a non-empty
        # array here (every document has at least one shingle: short ones are padded into one).
        return _PRECOMPUTED

    def get_signature(self, shingles: np.ndarray) -> list[list[int]]:
        sig = self._pending.popleft()
        rows = self.config.hashes_per_bucket
        return [sig[b * rows:(b + 1) * rows] for b in range(self.config.num_buckets)]

    def run(self, data, rank: int = 0, world_size: int = 1):
        """datatrove's stage 1, with the signatures computed a batch of documents at a time (numpy shingles for the
        batch, rensa's permutations): the parent's loop takes each document from `batched` and then asks
        get_shingles / get_signature for it, in order, so a queue hands each its own signature."""
        self._pending: deque[list[int]] = deque()

        def batched(docs):
            it = iter(docs)
            while batch := list(islice(it, BATCH)):
                is_code = [doc.metadata.get("kind", "text") == "code" for doc in batch]
                rows = iter(self.text_hasher.signature_rows([d.text for d, c in zip(batch, is_code) if not c]))
                code_rows = iter(self.code_hasher.signature_rows([d.text for d, c in zip(batch, is_code) if c]))
                for doc, code in zip(batch, is_code):
                    self._pending.append(next(code_rows) if code else next(rows))
                    yield doc

        return super().run(batched(data), rank, world_size)
