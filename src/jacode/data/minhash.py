"""Near-duplicate detection: MinHash signatures (vectorised with numpy) and LSH banding, keep one per cluster.

Shingles: character 5-grams for Japanese and other text, word 5-grams for code (configurable). A shingle's
hash is a polynomial rolling hash over code points (character n-grams) or over crc32 word ids (word n-grams),
computed for the whole document at once; each of `num_perm` permutations is (a * h + b) mod (2^61 - 1), as in
datasketch. Two documents collide when any of `bands` bands of `rows` signature values is identical; colliding
documents are joined with union-find and the first of each cluster is kept. (Single process; the multi-process
datatrove-style version is still to come.)
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np

MERSENNE = np.uint64((1 << 61) - 1)
_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


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


class MinHasher:
    def __init__(self, cfg: MinHashConfig = MinHashConfig()):
        self.cfg = cfg
        rng = np.random.default_rng(cfg.seed)
        self.a = rng.integers(1, 1 << 32, cfg.num_perm, dtype=np.uint64)
        self.b = rng.integers(0, 1 << 32, cfg.num_perm, dtype=np.uint64)

    def shingle_hashes(self, text: str) -> np.ndarray:
        n = self.cfg.ngram
        if self.cfg.unit == "char":
            units = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        else:
            units = np.array([zlib.crc32(w.encode()) for w in _WORD.findall(text)], dtype=np.uint64)
        if len(units) < n:
            units = np.concatenate([units, np.zeros(n - len(units), dtype=np.uint64)])
        h = np.zeros(len(units) - n + 1, dtype=np.uint64)
        for j in range(n):  # rolling polynomial hash, all shingles at once; kept below 2^32
            h = (h * np.uint64(1_000_003) + units[j: len(units) - n + 1 + j]) & np.uint64(0xFFFFFFFF)
        return np.unique(h)

    def signature(self, text: str) -> np.ndarray:
        h = self.shingle_hashes(text)
        # (a * h + b) < 2^64 for a, b, h < 2^32: no overflow before the modulo.
        return ((np.outer(h, self.a) + self.b) % MERSENNE).min(axis=0)


def estimated_jaccard(s1: np.ndarray, s2: np.ndarray) -> float:
    return float(np.mean(s1 == s2))


def near_duplicate_clusters(texts: list[str], cfg: MinHashConfig = MinHashConfig()) -> list[int]:
    """For each text, the index of its cluster's first member (itself when it is unique or first)."""
    hasher = MinHasher(cfg)
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    buckets: dict[tuple[int, bytes], int] = {}
    for i, text in enumerate(texts):
        sig = hasher.signature(text)
        for band in range(cfg.bands):
            key = (band, sig[band * cfg.rows:(band + 1) * cfg.rows].tobytes())
            j = buckets.setdefault(key, i)
            if j != i:
                ri, rj = find(i), find(j)
                if ri != rj:
                    parent[max(ri, rj)] = min(ri, rj)
    return [find(i) for i in range(len(texts))]
