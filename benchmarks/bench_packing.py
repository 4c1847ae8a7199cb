"""Packed vs padded training on a code + Japanese mix with a realistic length spread (issue 4).

Same tiny model, optimizer, sequence length and number of sequences per step. Padded: one document per row
(cut at seq_len), padded to seq_len, pad tokens masked out of the loss. Packed: jacode's PackedStream (EOS
between documents, no padding). Reported: padding fraction, and real (non-pad) tokens trained per second.

    python benchmarks/bench_packing.py --steps 30 --seq-len 512 --batch-size 8
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sysconfig
import tempfile
import time
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from jacode.models.init import init_model
from jacode.tokenizer.train import TokenizerConfig, train_tokenizer
from jacode.train.packing import PackedStream


def corpus(tmp: Path) -> Path:
    """Real code (standard library, long and short files) + short Japanese documents: a wide length spread."""
    std = Path(sysconfig.get_paths()["stdlib"])
    docs = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(std.glob("*.py"))[:150]]
    ja = [json.loads(x)["text"] for x in (Path(__file__).parents[1] / "tests" / "fixtures" / "ja_corpus.jsonl")
          .read_text(encoding="utf-8").splitlines()]
    docs += ja * 10
    random.Random(0).shuffle(docs)
    path = tmp / "mix.jsonl"
    path.write_text("".join(json.dumps({"text": d}, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    return path


def train_steps(model, batches, steps: int, pad_id: int | None) -> tuple[float, int, int]:
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    real = total = 0
    t = time.perf_counter()
    for _ in range(steps):
        ids, mask = next(batches)
        labels = ids.masked_fill(mask == 0, -100) if pad_id is not None else ids
        loss = model(input_ids=ids, attention_mask=mask if pad_id is not None else None, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        real += int(mask.sum())
        total += ids.numel()
    return time.perf_counter() - t, real, total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    data = corpus(tmp)
    train_tokenizer(TokenizerConfig(inputs=[str(data)], vocab_size=4000), tmp / "tok")
    model_dir = init_model(tmp / "model", "tiny", tokenizer=str(tmp / "tok"))
    tok = AutoTokenizer.from_pretrained(model_dir)
    torch.manual_seed(0)

    def packed():
        it = iter(PackedStream([data], tok, args.seq_len, fim=None))
        while True:
            ids = torch.tensor([next(it)["input_ids"] for _ in range(args.batch_size)])
            yield ids, torch.ones_like(ids)

    def padded():
        docs = [json.loads(x)["text"] for x in data.read_text(encoding="utf-8").splitlines()]
        i = 0
        while True:
            rows = []
            for _ in range(args.batch_size):
                ids = tok(docs[i % len(docs)], add_special_tokens=False)["input_ids"][: args.seq_len - 1]
                rows.append(ids + [tok.eos_token_id])
                i += 1
            ids = torch.full((len(rows), args.seq_len), tok.pad_token_id)
            mask = torch.zeros_like(ids)
            for r, row in enumerate(rows):
                ids[r, : len(row)] = torch.tensor(row)
                mask[r, : len(row)] = 1
            yield ids, mask

    results = {"padded": [], "packed": []}
    for _ in range(args.repeats):
        for name, gen, pad in (("padded", padded, tok.pad_token_id), ("packed", packed, None)):
            model = AutoModelForCausalLM.from_pretrained(model_dir)
            secs, real, total = train_steps(model, gen(), args.steps, pad)
            results[name].append((real / secs, 1 - real / total))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}; tiny model; "
          f"seq_len {args.seq_len} x batch {args.batch_size}, {args.steps} steps, median of {args.repeats}")
    print("| mode | padding fraction | real tokens/s | vs padded |")
    print("|---|---|---|---|")
    base = statistics.median(r[0] for r in results["padded"])
    for name, rs in results.items():
        tps = statistics.median(r[0] for r in rs)
        print(f"| {name} | {100 * rs[0][1]:.1f}% | {tps:.0f} | {tps / base:.2f}x |")


if __name__ == "__main__":
    main()
