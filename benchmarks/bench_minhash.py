"""MinHash signatures per second, one core: jacode (numpy) vs datasketch, same documents, same run.

Needs `pip install datasketch` (the reference; not a jacode dependency). Documents: short Japanese paragraphs
(the test corpus, ~170 characters each) and Python standard-library files (~20 kB each); character 5-grams,
128 permutations for both.

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

from datasketch import MinHash

from jacode.data.minhash import MinHasher


def rate(fn, docs, repeats=3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for d in docs:
            fn(d)
        times.append(time.perf_counter() - t)
    return len(docs) / statistics.median(times)


def datasketch_sig(text: str) -> None:
    m = MinHash(num_perm=128)
    m.update_batch([text[i:i + 5].encode("utf-8") for i in range(max(1, len(text) - 4))])


def main() -> None:
    ja = [json.loads(x)["text"] for x in (Path(__file__).parents[1] / "tests" / "fixtures" / "ja_corpus.jsonl")
          .read_text(encoding="utf-8").splitlines()] * 20
    std = Path(sysconfig.get_paths()["stdlib"])
    code = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(std.glob("*.py"))[:100]]
    hasher = MinHasher()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores (one used); 128 permutations, char 5-grams; "
          "median of 3")
    print("| documents | jacode docs/s | datasketch docs/s | ratio |")
    print("|---|---|---|---|")
    sets = ((f"{len(ja)} Japanese paragraphs (~170 chars)", ja), (f"{len(code)} stdlib files (~20 kB)", code))
    for name, docs in sets:
        ours, ref = rate(hasher.signature, docs), rate(datasketch_sig, docs)
        print(f"| {name} | {ours:.0f} | {ref:.0f} | {ours / ref:.1f}x |")


if __name__ == "__main__":
    main()
