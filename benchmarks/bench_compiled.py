"""C++ and Java per-sample cost: jacode vs the plain per-sample pipeline, on jacode's reference solutions x 5.

Plain pipeline (the reference): for every sample, MultiPL-E's own program (prompt + completion + tests with
their asserts) compiled with `g++ -std=c++17` and run, or `javac` then `java -ea`, no sandbox, same worker count.
jacode: the candidate's values-only program in the sandbox, expected values from the trusted program (computed
once per task and cached: the first row of a language includes computing them), its C++ precompiled header and
Java batch compilation; identical samples executed once (the x 5 copies); `--no-dedup` rows execute every copy.
Verdicts of all three must be identical.

    python benchmarks/bench_compiled.py --workers 2 --copies 5
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from jacode.evals.references import REFERENCES
from jacode.evals.registry import get_benchmark, load_problems
from jacode.io import read_jsonl
from jacode.languages import get_language
from jacode.sandbox.checks import run_checks
from jacode.sandbox.isolation import Limits, Sandbox

JAR = "/usr/share/java/javatuples.jar"


def plain_one(lang: str, program: str) -> bool:
    d = Path(tempfile.mkdtemp(prefix="plain-"))
    try:
        if lang == "cpp":
            (d / "p.cpp").write_text(program)
            if subprocess.run(["g++", "-std=c++17", "-o", str(d / "p"), str(d / "p.cpp")],
                              capture_output=True).returncode:
                return False
            return subprocess.run([str(d / "p")], capture_output=True, timeout=20).returncode == 0
        (d / "Problem.java").write_text(program)
        if subprocess.run(["javac", "-cp", JAR, str(d / "Problem.java")], capture_output=True).returncode:
            return False
        return subprocess.run(["java", "-ea", "-cp", f"{JAR}:{d}", "Problem"], capture_output=True,
                              timeout=20).returncode == 0
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--copies", type=int, default=5)
    ap.add_argument("--languages", default="cpp,java", help="comma-separated: cpp, java (default both)")
    ap.add_argument("--data", default=os.environ.get("JACODE_BENCHMARK_DATA", "../shared/benchmarks") + "/multipl-e")
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {args.workers} workers; "
          f"references x {args.copies}")
    print("| language | pipeline | samples | wall s | s/sample | vs plain | verdicts = plain |")
    print("|---|---|---|---|---|---|---|")
    for lang in args.languages.split(","):
        bench = get_benchmark(f"multiple-{lang}")
        problems = load_problems(bench, args.data)
        refs = list(read_jsonl(REFERENCES / f"humaneval-{lang}.jsonl"))
        pairs = [(problems[r["name"]], r[k]) for r in refs for k in ("completion", "wrong_completion")] * args.copies
        programs = [p["prompt"] + c + "\n" + p["tests"] for p, c in pairs]  # MultiPL-E's program
        # Plain: runs on the raw MultiPL-E program (its own main, no wrapper, no sandbox).
        t = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as pool:
            plain = list(pool.map(plain_one, [lang] * len(programs), programs))
        plain_s = time.perf_counter() - t
        rows = [("plain", plain_s, plain)]
        checks = [bench.build_check(p, c) for p, c in pairs]
        for dedup in (True, False):
            t = time.perf_counter()
            with Sandbox(Limits(timeout_s=20, memory_kind=get_language(lang).memory_kind)) as sb:
                v = run_checks(checks, sb, workers=args.workers, dedup=dedup)
            rows.append((f"jacode{'' if dedup else ' --no-dedup'}", time.perf_counter() - t,
                         [v[i].passed for i in range(len(programs))]))
        for name, secs, verdicts in rows:
            print(f"| {lang} | {name} | {len(programs)} | {secs:.1f} | {secs / len(programs):.3f} | "
                  f"{plain_s / secs:.2f}x | {verdicts == plain} |")


if __name__ == "__main__":
    main()
