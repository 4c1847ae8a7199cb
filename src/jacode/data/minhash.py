"""Near-duplicate detection: MinHash signatures and LSH banding, keep one per cluster.

Shingles: character 5-grams for Japanese and other text, word 5-grams for code (configurable). A shingle's
hash is a polynomial rolling hash over code points (character n-grams) or over crc32 word ids (word n-grams),
computed with numpy for a whole batch of documents at once (one pass over their concatenation, shingles that
would cross a document boundary left out). The `num_perm` minimum hashes of each document's shingle hashes come
from rensa (a MinHash written in Rust: `RMinHash.digest_matrix_from_flat_token_hashes`), which is where the
time went before (a numpy (shingles × permutations) product per document). A shingle repeated in a document
counts once either way (min is idempotent), so no per-document `unique`. Two documents collide when any of
`bands` bands of `rows` signature values is identical; colliding documents are joined with union-find and the
first of each cluster is kept.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_MASK = np.uint64(0xFFFFFFFF)
_BASE = np.uint64(1_000_003)


@dataclass(frozen=True)
class MinHashConfig:
    num_perm: int = 128
    bands: int = 16
    rows: int = 8  # bands * rows must equal num_perm
    ngram: int = 5
    unit: str = "char"  # char | word
    seed: int = 1

    def __post_init__(self) -> None:
        if self.bands * self.rows != self.num_perm:
            raise ValueError(f"bands * rows ({self.bands} * {self.rows}) must equal num_perm ({self.num_perm})")
        if self.unit not in ("char", "word"):
            raise ValueError("unit must be char or word")


def _rolling(units: np.ndarray, n: int) -> np.ndarray:
    """Hash of every n-gram of `units` (len(units) - n + 1 of them), kept below 2^32."""
    h = np.zeros(len(units) - n + 1, dtype=np.uint64)
    for j in range(n):
        h = (h * _BASE + units[j: len(units) - n + 1 + j]) & _MASK
    return h


class MinHasher:
    def __init__(self, cfg: MinHashConfig = MinHashConfig()):
        self.cfg = cfg

    def _units(self, text: str) -> np.ndarray:
        if self.cfg.unit == "char":
            return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        return np.array([zlib.crc32(w.encode()) for w in _WORD.findall(text)], dtype=np.uint64)

    def shingle_hashes(self, text: str) -> np.ndarray:
        """One document's shingle hashes (with repeats). A text shorter than one shingle is padded with zeros
        into one shingle, so that every document, even an empty one, has a signature."""
        units, n = self._units(text), self.cfg.ngram
        if len(units) < n:
            units = np.concatenate([units, np.zeros(n - len(units), dtype=np.uint64)])
        return _rolling(units, n)

    def batch_shingles(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(flat shingle hashes of all texts, row offsets): row i is flat[offsets[i]:offsets[i + 1]]."""
        n = self.cfg.ngram
        if self.cfg.unit != "char" or len(texts) < 2:
            rows = [self.shingle_hashes(t) for t in texts]
            counts = np.array([len(r) for r in rows], dtype=np.uint64)
            flat = np.concatenate(rows) if rows else np.zeros(0, dtype=np.uint64)
        else:
            lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
            units = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
            units = np.concatenate([units, np.zeros(n - 1, dtype=np.uint64)])  # every position starts a shingle
            h = _rolling(units, n)
            # Drop the shingles that run past their document's end: the last min(n - 1, len) start positions of
            # each document (a few per document, so one np.delete instead of a mask over every position).
            ends = np.cumsum(lengths)
            tail = np.minimum(lengths, n - 1)
            crossing = np.repeat(ends - tail, tail) + (np.arange(int(tail.sum())) - np.repeat(np.cumsum(tail) - tail,
                                                                                                   tail))
            flat = np.delete(h, crossing)
            counts = np.maximum(lengths - n + 1, 0).astype(np.uint64)
            short = np.flatnonzero(lengths < n)
            if len(short):  # padded into one shingle each (rare: texts under n characters)
                at = np.cumsum(counts)[short] - counts[short]
                flat = np.insert(flat, at.astype(np.int64), [self.shingle_hashes(texts[i])[0] for i in short])
                counts[short] = 1
        offsets = np.zeros(len(texts) + 1, dtype=np.uint64)
        np.cumsum(counts, out=offsets[1:])
        return flat, offsets

    def signature_rows(self, texts: list[str], chunk_chars: int = 1 << 16, long_chars: int = 4096) -> list[list[int]]:
        """Each text's MinHash signature as a list of num_perm ints (rensa's own output: turning 5,000 of them
        into a numpy array costs more than computing them)."""
        return [row for rows in self._chunk_rows(texts, chunk_chars, long_chars) for row in rows]

    def _chunk_rows(self, texts: list[str], chunk_chars: int = 1 << 16, long_chars: int = 4096) -> Iterator[list]:
        """The signatures chunk by chunk. Short texts are shingled together in chunks of about `chunk_chars`
        characters (one numpy pass instead of one call per paragraph); a text of `long_chars` or more is shingled
        alone (measured: batching 20-30 kB files together was slower than one at a time)."""
        from rensa import RMinHash

        chunks, start, size = [], 0, 0
        for i, t in enumerate(texts):
            if len(t) >= long_chars or size + len(t) > chunk_chars:
                if i > start:
                    chunks.append((start, i))
                start, size = i, 0
            size += len(t)
            if len(t) >= long_chars:
                chunks.append((i, i + 1))
                start, size = i + 1, 0
        if start < len(texts):
            chunks.append((start, len(texts)))
        for lo, hi in chunks:
            flat, offsets = self.batch_shingles(texts[lo:hi])
            yield RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, self.cfg.num_perm,
                                                                self.cfg.seed).to_rows()

    def signatures(self, texts: list[str]) -> np.ndarray:
        """(len(texts), num_perm) MinHash signatures as an array, converted chunk by chunk (as Python lists all of
        them would take ~40 times the array's memory)."""
        parts = [np.array(rows, dtype=np.uint64) for rows in self._chunk_rows(texts)]
        return np.concatenate(parts).reshape(len(texts), self.cfg.num_perm) if parts else \
            np.zeros((0, self.cfg.num_perm), dtype=np.uint64)

    def signature(self, text: str) -> np.ndarray:
        return self.signatures([text])[0]

    def signature_of_shingles(self, shingles: np.ndarray) -> np.ndarray:
        """The signature of given shingle hashes (datatrove's signature step hands them over one document at a
        time)."""
        from rensa import RMinHash

        offsets = np.array([0, len(shingles)], dtype=np.uint64)
        rows = RMinHash.digest_matrix_from_flat_token_hashes(np.ascontiguousarray(shingles, dtype=np.uint64),
                                                             offsets, self.cfg.num_perm, self.cfg.seed)
        return np.array(rows.to_rows()[0], dtype=np.uint64)


def estimated_jaccard(s1: np.ndarray, s2: np.ndarray) -> float:
    return float(np.mean(s1 == s2))


def near_duplicate_clusters(texts: list[str], cfg: MinHashConfig = MinHashConfig(),
                            threshold: float | None = None) -> list[int]:
    """For each text, the index of its cluster's first member (itself when it is unique or first).

    threshold None: a document is joined to the first document of every band bucket it falls in (LSH alone, as
    datatrove's MinHash dedup). With a threshold, it is joined to those of the first `_COMPARED` documents of a
    shared bucket whose signatures agree on at least that share of values (estimated Jaccard): with few rows per
    band, unrelated short texts share a band now and then, and union-find chains such pairs into clusters that
    grow with the corpus (at 100,000 short instructions one swallowed three quarters of them).
    Buckets are found per band by sorting (numpy), not in a dict of every band of every document: 100,000
    documents × 32 bands took 1.5 GB that way.
    """
    sigs = MinHasher(cfg).signatures(texts)
    parent = np.arange(len(texts))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return int(i)

    compared = 1 if threshold is None else _COMPARED
    for band in range(cfg.bands):
        keys = np.ascontiguousarray(sigs[:, band * cfg.rows:(band + 1) * cfg.rows]).view(f"V{8 * cfg.rows}").ravel()
        _, labels = np.unique(keys, return_inverse=True)
        order = np.argsort(labels, kind="stable")  # each bucket's documents together, in index order
        starts = np.flatnonzero(np.diff(labels[order], prepend=-1))
        sizes = np.diff(np.append(starts, len(order)))
        for start, size in zip(starts[sizes > 1], sizes[sizes > 1]):
            members = order[start:start + size]
            for k in range(1, size):
                i = members[k]
                firsts = members[:min(k, compared)]
                if threshold is not None:
                    firsts = firsts[(sigs[firsts] == sigs[i]).mean(axis=1) >= threshold]
                for j in firsts:
                    ri, rj = find(i), find(j)
                    if ri != rj:
                        parent[max(ri, rj)] = min(ri, rj)
    return [find(i) for i in range(len(texts))]


_COMPARED = 8  # documents of a bucket a new member is compared with, when a threshold confirms candidates
