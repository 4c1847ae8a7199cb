"""Code filters on the Python standard library, one core: jacode's steps vs the bare tree-sitter parse + heuristics.

jacode: CodeHeuristicsFilter → SyntaxFilter (tree-sitter in a crash-isolated worker, ast on errors and on a 1-in-10
sample) → ComplexityFilter (lizard, skipped when the tree-sitter screen proves the bounds hold), the same steps as
`jacode data run`. Reference: `check_code(text)` and `parser.parse(text)` in-process, nothing else. The process
and its workers are pinned to one CPU, so "one core" is literal. Also measured: the complexity step with lizard on
every file (no screen) and whether the screen changed any decision; pathological inputs given to the parsers.

    python benchmarks/bench_code_filters.py
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import string
import sysconfig
import time
from pathlib import Path

from datatrove.data import Document
from tree_sitter_language_pack import get_parser

from jacode.data.code_filters import CodeHeuristicsFilter, check_code
from jacode.data.complexity import ComplexityFilter
from jacode.data.syntax import SyntaxFilter


def load_stdlib() -> list[str]:
    root = Path(sysconfig.get_paths()["stdlib"])
    texts = []
    for p in sorted(root.rglob("*.py")):
        if "site-packages" in p.parts:
            continue
        try:
            texts.append(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, OSError):
            pass
    return texts


def reference(texts: list[str]) -> float:
    parser = get_parser("python")
    t = time.perf_counter()
    for text in texts:
        if check_code(text, "python") is None:
            parser.parse(text.encode("utf-8"))
    return time.perf_counter() - t


def jacode_steps(texts: list[str], use_screen: bool = True) -> tuple[float, list[str], dict]:
    docs = [Document(text=t, id=str(i), metadata={"language": "python", "kind": "code"}) for i, t in enumerate(texts)]
    steps = [CodeHeuristicsFilter(), SyntaxFilter(timeout_s=10), ComplexityFilter(use_screen=use_screen)]
    for s in steps[1:]:  # start the workers outside the timed region, as a long pipeline would have them
        s.worker.ask("python", "x = 1\n", 30)
    t = time.perf_counter()
    stream = docs
    for s in steps:
        stream = s.run(stream)
    kept = [d.id for d in stream]
    elapsed = time.perf_counter() - t
    counters = {k: v.total for s in steps for k, v in s.stats.stats.items()
                if k.startswith(("dropped_", "screened", "lizard", "parsers"))}
    return elapsed, kept, counters


def pathological() -> list[tuple[str, str, float, object]]:
    rng = random.Random(0)
    cases = {"10 MB single line": "x = [" + "1, " * (10_000_000 // 3) + "]\n",
             "2 MB random punctuation": "".join(rng.choice(string.punctuation) for _ in range(2_000_000))}
    rows = []
    for name, text in cases.items():
        for step in (SyntaxFilter(timeout_s=10), ComplexityFilter(use_screen=False, timeout_s=10)):
            doc = Document(text=text, id=name, metadata={"language": "python", "kind": "code"})
            t = time.perf_counter()
            verdict = step.filter(doc)
            rows.append((name, step.name, time.perf_counter() - t, verdict))
    return rows


def main() -> None:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # workers inherit it
    texts = load_stdlib()
    print(f"{len(texts)} files, {sum(map(len, texts)) / 1e6:.1f} M characters; {platform.machine()}, "
          f"{os.cpu_count()} cores (pinned to 1)")
    ref, ours, lizard_all = [], [], []
    for _ in range(3):
        ref.append(reference(texts))
        elapsed, kept, counters = jacode_steps(texts)
        ours.append(elapsed)
        elapsed_all, kept_all, _ = jacode_steps(texts, use_screen=False)
        lizard_all.append(elapsed_all)
    n = len(texts)
    r, o, a = statistics.median(ref), statistics.median(ours), statistics.median(lizard_all)
    print(f"reference (tree-sitter parse + heuristics): {n / r:7.1f} files/s")
    print(f"jacode code filters (screened lizard):     {n / o:7.1f} files/s  = {o / r:.2f}x the reference time")
    print(f"jacode code filters (lizard on every file): {n / a:7.1f} files/s  = {a / r:.2f}x")
    print(f"same decisions with and without the screen: {kept == kept_all} ({len(kept)} kept of {n})")
    print(f"counters: {counters}")
    for name, step, seconds, verdict in pathological():
        print(f"pathological {name:<24} {step:<24} {seconds:6.2f} s  -> {verdict}")


if __name__ == "__main__":
    main()
