"""Generation on CPU on a quiet and on a busy machine: torch's default threads vs jacode's choice (issue 17).

Busy: one CPU-bound process per usable core runs beside the measurement (as on a shared runner, or beside
sandbox workers). Each measurement is a fresh process: load a model with jacode's transformers engine and
generate greedily. "torch default" forces one thread per core (JACODE_TORCH_THREADS=cores, what torch does on
its own); "jacode" lets jacode.threads choose (free cores, from the load average). Median of --repeats runs,
the two settings interleaved.

    python benchmarks/bench_threads.py --size mini --repeats 3
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jacode.threads import usable_cpus

CHILD = r"""
import json, sys, time
from jacode.engines import make_engine
from jacode.engines.base import Request, SamplingParams
engine = make_engine("transformers", model=sys.argv[1], batch_size=8)
import torch
reqs = [Request(prompt=f"def function_{i}(x):\n    ") for i in range(16)]
t = time.perf_counter()
engine.generate(reqs, SamplingParams(max_new_tokens=32, temperature=0.0))
print(json.dumps({"samples_per_s": len(reqs) / (time.perf_counter() - t), "threads": torch.get_num_threads()}))
"""


def burn(stop_at: float) -> None:
    x = 0
    while time.time() < stop_at:
        x += 1


def measure(model: Path, threads: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "JACODE_TORCH_THREADS"}
    if threads:
        env["JACODE_TORCH_THREADS"] = threads
    out = subprocess.run([sys.executable, "-c", CHILD, str(model)], env=env, capture_output=True, text=True,
                         check=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="mini")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from jacode.models.init import init_model

    cpus = usable_cpus()
    with tempfile.TemporaryDirectory() as tmp:
        model = init_model(Path(tmp) / "m", args.size, seed=0)
        print(f"# {platform.machine()}, {cpus} usable cores, python {platform.python_version()}; random "
              f"'{args.size}' Llama, 16 prompts, batch 8, 32 new tokens greedy; median of {args.repeats}\n")
        print("| machine | torch default (threads) | jacode (threads) | jacode / default |")
        print("|---|---|---|---|")
        for busy in (False, True):
            burners = []
            if busy:
                stop = time.time() + 3600
                burners = [mp.Process(target=burn, args=(stop,), daemon=True) for _ in range(cpus)]
                for b in burners:
                    b.start()
                time.sleep(65)  # let the 1-minute load average see them
            runs = {"default": [], "jacode": []}
            for _ in range(args.repeats):
                runs["default"].append(measure(model, str(cpus)))
                runs["jacode"].append(measure(model, None))
            for b in burners:
                b.terminate()
            d = statistics.median(r["samples_per_s"] for r in runs["default"])
            j = statistics.median(r["samples_per_s"] for r in runs["jacode"])
            jt = sorted({r["threads"] for r in runs["jacode"]})
            print(f"| {'busy (' + str(cpus) + ' CPU-bound processes)' if busy else 'quiet'} | {d:.2f} samples/s "
                  f"({cpus}) | {j:.2f} samples/s ({'/'.join(map(str, jt))}) | {j / d:.2f}x |", flush=True)
            if busy:
                time.sleep(1)


if __name__ == "__main__":
    main()
