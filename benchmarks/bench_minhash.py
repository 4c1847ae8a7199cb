"""MinHash signatures per second, one core: jacode vs rensa vs datasketch, same documents, same run (issue 17).

Documents, all distinct: short Japanese paragraphs (the test corpus, each with a distinct suffix, ~170
characters) and Python standard-library files (~20 kB and more); character 5-grams, 128 permutations.
- jacode: `MinHasher.signature_rows` on batches of 1,000 documents (numpy shingle hashes over the batch, rensa's
  permutations from them), and per document (`signature`, as the datatrove step calls it).
- jacode before issue 17: a numpy (shingles x permutations) product per document (transcribed below).
- rensa alone: the 5-gram strings built in Python, `RMinHash.update` + `digest` (its README's usage), and its
  batch `digests_from_token_sets`; the faster is reported.
- datasketch (`pip install datasketch`): `MinHash.update_batch` on UTF-8 5-grams.

    python benchmarks/bench_minhash.py
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sysconfig
import time
from pathlib import Path

import numpy as np
import rensa
from datasketch import MinHash

from jacode.data.minhash import MinHasher

MERSENNE = np.uint64((1 << 61) - 1)


def datasketch_sig(text: str) -> None:
    m = MinHash(num_perm=128)
    m.update_batch([text[i:i + 5].encode("utf-8") for i in range(max(1, len(text) - 4))])


def grams(text: str) -> list[str]:
    return [text[i:i + 5] for i in range(max(1, len(text) - 4))]


def rensa_update(docs: list[str]) -> None:
    for d in docs:
        m = rensa.RMinHash(128, 1)
        m.update(grams(d))
        m.digest()


def rensa_batch(docs: list[str]) -> None:
    rensa.RMinHash.digests_from_token_sets([grams(d) for d in docs], 128, 1)


def before(hasher: MinHasher):
    """jacode's signature before issue 17: per document, unique shingles, (a*h + b) mod 2^61-1, min."""
    rng = np.random.default_rng(1)
    a = rng.integers(1, 1 << 32, 128, dtype=np.uint64)
    b = rng.integers(0, 1 << 32, 128, dtype=np.uint64)

    def run(docs: list[str]) -> None:
        for d in docs:
            h = np.unique(hasher.shingle_hashes(d))
            ((np.outer(h, a) + b) % MERSENNE).min(axis=0)

    return run


def batched(hasher: MinHasher, size: int = 1000):
    def run(docs: list[str]) -> None:
        for i in range(0, len(docs), size):
            hasher.signature_rows(docs[i:i + size])

    return run


def per_doc(hasher: MinHasher):
    def run(docs: list[str]) -> None:
        for d in docs:
            hasher.signature_of_shingles(hasher.shingle_hashes(d))

    return run


def rate(fn, docs, repeats=5) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(docs)
        times.append(time.perf_counter() - t)
    return len(docs) / statistics.median(times)


def main() -> None:
    base = [json.loads(x)["text"] for x in (Path(__file__).parents[1] / "tests" / "fixtures" / "ja_corpus.jsonl")
            .read_text(encoding="utf-8").splitlines()]
    ja = [f"{t}（{i}番）" for i in range(100) for t in base]  # distinct documents
    std = Path(sysconfig.get_paths()["stdlib"])
    code = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(std.glob("*.py"))[:100]]
    hasher = MinHasher()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores (one used); 128 permutations, char 5-grams; "
          f"median of 5; rensa {getattr(rensa, '__version__', '0.5.0')}")
    print("| documents | jacode batch | jacode per document | jacode before | rensa alone (best) | datasketch "
          "| jacode batch / rensa |")
    print("|---|---|---|---|---|---|---|")
    sets = ((f"{len(ja):,} Japanese paragraphs (~{sum(map(len, ja)) // len(ja)} chars)", ja),
            (f"{len(code)} stdlib files (~{sum(map(len, code)) // len(code) // 1000} kB)", code))
    for name, docs in sets:
        ours, one, old = rate(batched(hasher), docs), rate(per_doc(hasher), docs), rate(before(hasher), docs)
        ref = max(rate(rensa_update, docs), rate(rensa_batch, docs))
        ds = rate(lambda ds_docs: [datasketch_sig(d) for d in ds_docs], docs, repeats=3)
        print(f"| {name} | {ours:,.0f} | {one:,.0f} | {old:,.0f} | {ref:,.0f} | {ds:,.0f} | {ours / ref:.2f}x |",
              flush=True)


if __name__ == "__main__":
    main()
