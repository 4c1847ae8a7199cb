"""Tokenizer training time and fertility: jacode (SentencePiece + MeCab pre-segmentation) vs BPE without it.

Corpus: Python standard library source (code) + the Japanese test corpus (small: the Japanese numbers are
indicative only). Fertility = characters per token on held-out documents (higher is better).

    python benchmarks/bench_tokenizer.py --vocab-size 8000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sysconfig
import tempfile
import time
from pathlib import Path

from jacode.tokenizer.train import TokenizerConfig, train_tokenizer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab-size", type=int, default=8000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    std = Path(sysconfig.get_paths()["stdlib"])
    ja = Path(__file__).parents[1] / "tests" / "fixtures" / "ja_corpus.jsonl"
    code = tmp / "code.jsonl"
    code.write_text("".join(json.dumps({"text": p.read_text(encoding="utf-8", errors="replace"),
                                        "metadata": {"kind": "code"}}) + "\n" for p in sorted(std.glob("*.py"))))
    rows = []
    variants = (("jacode: unigram + MeCab", "unigram", True), ("unigram, no MeCab", "unigram", False),
                ("BPE, no MeCab", "bpe", False))
    for name, model_type, mecab in variants:
        t = time.perf_counter()
        rep = train_tokenizer(TokenizerConfig(inputs=[str(code), str(ja)], vocab_size=args.vocab_size,
                                              model_type=model_type, mecab=mecab, heldout_every=10), tmp / name[:3])
        rows.append((name, time.perf_counter() - t, rep["fertility_chars_per_token"]))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; vocab {args.vocab_size}; "
          f"{sum(1 for _ in code.open())} code files + {sum(1 for _ in ja.open())} Japanese documents")
    print("| tokenizer | train s | fertility ja | fertility code |")
    print("|---|---|---|---|")
    for name, secs, f in rows:
        print(f"| {name} | {secs:.1f} | {f['ja'] or float('nan'):.2f} | {f['code'] or float('nan'):.2f} |")


if __name__ == "__main__":
    main()
