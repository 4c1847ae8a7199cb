"""Where the middle of a FIM example is trained: in the same window as its prefix and suffix, or not (issue 16).

Document-level FIM (the FIM paper's description: permute each whole document, then pack) puts the middle of a
document longer than the window into another window than its context, where it is learned as plain text.
Context-level FIM (bigcode's Megatron-LM, jacode's default) permutes each document fragment inside the window,
so every middle that is trained is trained beside its context; the price is the tail of a window that FIM
lengthened (3 sentinels + re-tokenization at the cuts), which is cut off as in Megatron.

Corpus: the standard library's top-level modules (real code, long files). Tokenizer: jacode's, trained on it.
Reported per seq_len: the share of middle tokens in the same window as their <fim_prefix> ... <fim_middle>
context, and (context level) the share of tokens truncated away. The document-level figures come from the
stream's own arithmetic (each document permuted or not, + EOS, cut every seq_len), checked against jacode's
PackedStream on the first windows.

    python benchmarks/bench_fim_window.py --seq-lens 256 2048 8192
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sysconfig
import tempfile
import time
from pathlib import Path

from transformers import AutoTokenizer

from jacode.tokenizer.plain import PlainEncoder
from jacode.tokenizer.train import TokenizerConfig, train_tokenizer
from jacode.train.fim import FimConfig, Sentinels, permute, split_points
from jacode.train.packing import PackedStream


def corpus(tmp: Path) -> tuple[Path, list[str]]:
    std = Path(sysconfig.get_paths()["stdlib"])
    docs = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(std.glob("*.py"))]
    path = tmp / "stdlib.jsonl"
    path.write_text("".join(json.dumps({"text": d}) + "\n" for d in docs), encoding="utf-8")
    return path, docs


def document_level(docs, tok, L: int, seed: int, check_path: Path) -> dict:
    cfg = FimConfig(level="document")
    enc, s, rng = PlainEncoder(tok), Sentinels.of(tok, cfg), random.Random(seed)
    pos, middle, in_window, stream = 0, 0, 0, []
    for doc in docs:
        replay = random.Random()
        replay.setstate(rng.getstate())
        fim = permute(doc, cfg, rng, enc, s)
        ids = (fim[0] if fim else enc(doc)) + [tok.eos_token_id]
        if fim:  # both layouts end with the middle: [..., <fim_middle>, (prefix,) middle] + EOS
            replay.random()
            a, b = split_points(len(doc), replay)
            n_mid = len(enc(doc[a:b]))
            for j in range(len(ids) - 1 - n_mid, len(ids) - 1):
                middle += 1
                in_window += (pos + j) // L == pos // L  # same window as the document's <fim_prefix>
        stream += ids
        pos += len(ids)
    # The arithmetic is the stream's: the first windows equal PackedStream's (document level, same seed).
    real = PackedStream([check_path], tok, L, fim=cfg, seed=seed, loop=False)
    for i, w in zip(range(20), real):
        assert w["input_ids"] == stream[i * L:(i + 1) * L], "document-level arithmetic differs from PackedStream"
    return {"middle_tokens": middle, "in_window": in_window / middle, "windows": len(stream) // L}


def context_level(path: Path, tok, L: int, seed: int) -> dict:
    stream = PackedStream([path], tok, L, fim=FimConfig(level="context"), seed=seed, loop=False)
    s = stream.sentinels
    windows = middles_cut = 0
    for w in stream:
        windows += 1
        ids = w["input_ids"][: w["length"]]
        # A fragment whose <fim_middle> did not fit lost its middle (and is the window's last fragment).
        middles_cut += ids.count(s.prefix) - ids.count(s.middle)
    st = stream.stats
    return {"in_window": 1.0, "windows": windows, "fim_fragments": st["fim_fragments"],
            "dropped_share": st["dropped_tokens"] / (windows * L), "padded_share": st["padded_tokens"] / (windows * L),
            "middles_cut": middles_cut}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seq-lens", type=int, nargs="+", default=[256, 2048, 8192])
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path, docs = corpus(tmp)
        t0 = time.perf_counter()
        train_tokenizer(TokenizerConfig(inputs=[str(path)], vocab_size=args.vocab), tmp / "tok")
        tok = AutoTokenizer.from_pretrained(tmp / "tok")
        print(f"# {len(docs)} stdlib modules, {sum(map(len, docs)) / 1e6:.1f} M chars; tokenizer {args.vocab} "
              f"({time.perf_counter() - t0:.0f} s); {platform.processor() or platform.machine()}, "
              f"python {platform.python_version()}; fim_rate 0.5, fim_spm_rate 0.5, seed {args.seed}\n")
        print("| seq_len | document level: middle tokens in the window of their context | context level (default) "
              "| context level: tokens truncated / padded | FIM fragments (of which middle cut off) |")
        print("|---|---|---|---|---|")
        for L in args.seq_lens:
            d = document_level(docs, tok, L, args.seed, path)
            c = context_level(path, tok, L, args.seed)
            print(f"| {L} | {d['in_window']:.1%} of {d['middle_tokens']:,} | {c['in_window']:.0%} "
                  f"| {c['dropped_share']:.2%} / {c['padded_share']:.3%} "
                  f"| {c['fim_fragments']:,} ({c['middles_cut']}) |", flush=True)


if __name__ == "__main__":
    main()
