"""Pretraining on one process vs several (DDP over gloo on CPU), the same global batch (issue 20).

Whole commands as a user runs them: `jacode train pretrain` alone, and under
`ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes N`. Reported per run: wall time of the
command, and the steady-state training throughput (median tokens/s of the logged intervals after the first,
which holds start-up and the first step's allocations). Runs alternate (1, N, 1, N, ...); medians.

    python benchmarks/bench_multiprocess.py --size mini --steps 30 --repeats 3 --processes 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path


def corpus(tmp: Path) -> Path:
    std = Path(sysconfig.get_paths()["stdlib"])
    docs = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(std.glob("*.py"))[:200]]
    path = tmp / "code.jsonl"
    path.write_text("".join(json.dumps({"text": d}) + "\n" for d in docs), encoding="utf-8")
    return path


def run(model: Path, data: Path, out: Path, processes: int, global_batch: int, args) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    cmd = ["-m", "jacode", "train", "pretrain", "--model", str(model), "--data", str(data), "--out", str(out),
           "--seq-len", str(args.seq_len), "--batch-size", str(global_batch // processes), "--max-steps",
           str(args.steps), "--warmup-steps", "2", "--log-every", "5", "--save-every", str(args.steps),
           "--fim-rate", "0"]
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes",
              str(processes)] if processes > 1 else [sys.executable]
    t = time.perf_counter()
    subprocess.run([*launch, *cmd], check=True, capture_output=True, env={**os.environ, "ACCELERATE_USE_CPU": "1"})
    wall = time.perf_counter() - t
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    return {"wall_s": wall, "tokens_per_s": statistics.median(r["tokens_per_s"] for r in rows[1:])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="mini")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--global-batch", type=int, default=8)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        subprocess.run([sys.executable, "-m", "jacode", "model", "init", "--size", args.size, "--out",
                        str(tmp / "model")], check=True, capture_output=True)
        data = corpus(tmp)
        results: dict[int, list[dict]] = {1: [], args.processes: []}
        for _ in range(args.repeats):
            for n in (1, args.processes):
                results[n].append(run(tmp / "model", data, tmp / f"out{n}", n, args.global_batch, args))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; model {args.size}, seq_len {args.seq_len}, "
          f"global batch {args.global_batch}, {args.steps} steps, median of {args.repeats}")
    base = statistics.median(r["tokens_per_s"] for r in results[1])
    for n, rs in results.items():
        tps = statistics.median(r["tokens_per_s"] for r in rs)
        print(f"{n} process(es): wall {statistics.median(r['wall_s'] for r in rs):.1f} s, "
              f"{tps:,.0f} tokens/s ({tps / base:.2f}x one process)")


if __name__ == "__main__":
    main()
