"""Chat-vector merge of a ~1B-parameter model: wall time and peak RSS vs just reading and writing the models.

The benchmark writes three random bf16 Llama models (B, I = B + noise, T = B + noise; ~0.94B parameters,
1.9 GB each) under a scratch directory, then alternates, 3 times each:
  reference  a child process that reads all three models' files and writes one file of T's size (64 MB chunks)
  jacode     `jacode merge chat-vector --base B --instruct I --target T --out OUT` in a child process
Peak RSS is the child's ru_maxrss. Files are in the page cache for both (they were just written/read).

    python benchmarks/bench_merge.py [--dir /tmp/jacode-bench-merge] [--keep]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

READ_WRITE = """
import sys
chunk = 64 << 20
out = open(sys.argv[1], "wb")
size = 0
for path in sys.argv[2:]:
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            if path == sys.argv[-1]:
                out.write(b)
out.close()
"""


def make_models(root: Path) -> tuple[Path, Path, Path]:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(vocab_size=32000, hidden_size=2048, intermediate_size=5504, num_hidden_layers=16,
                      num_attention_heads=16, num_key_value_heads=16, tie_word_embeddings=False)
    torch.manual_seed(0)
    with torch.device("cpu"):
        model = LlamaForCausalLM(cfg).to(torch.bfloat16)
    paths = []
    for name, seed in (("base", None), ("instruct", 1), ("target", 2)):
        path = root / name
        if seed is not None:
            g = torch.Generator().manual_seed(seed)
            state = {k: v.clone() for k, v in model.state_dict().items()}
            with torch.no_grad():
                for p in model.parameters():
                    p.add_((0.001 * torch.randn(p.shape, generator=g)).to(p.dtype))
        model.save_pretrained(path)
        if seed is not None:
            model.load_state_dict(state)
        paths.append(path)
    return paths[0], paths[1], paths[2]


def child(cmd: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in GB) of a child process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, rusage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd[:5])}")
    return time.perf_counter() - t, rusage.ru_maxrss / 1e6  # ru_maxrss is in kB on Linux


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="/tmp/jacode-bench-merge")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--make-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    root = Path(args.dir)
    root.mkdir(parents=True, exist_ok=True)
    if args.make_only:
        make_models(root)
        return
    # Models are made in a child: a forked child's ru_maxrss counts the parent's pages, so the parent stays small.
    subprocess.run([sys.executable, __file__, "--dir", str(root), "--make-only"], check=True,
                   stderr=subprocess.DEVNULL)
    base, instruct, target = root / "base", root / "instruct", root / "target"
    files = [f for d in (base, instruct, target) for f in sorted(d.glob("*.safetensors"))]
    model_gb = sum(f.stat().st_size for f in sorted(target.glob("*.safetensors"))) / 1e9
    ref, ours = [], []
    for _ in range(3):
        ref.append(child([sys.executable, "-c", READ_WRITE, str(root / "copy.bin"), *map(str, files)]))
        shutil.rmtree(root / "out", ignore_errors=True)
        ours.append(child([sys.executable, "-m", "jacode", "merge", "chat-vector", "--base", str(base),
                           "--instruct", str(instruct), "--target", str(target), "--out", str(root / "out")]))
    r_t, o_t = statistics.median(t for t, _ in ref), statistics.median(t for t, _ in ours)
    o_rss = max(m for _, m in ours)
    print(f"{platform.machine()}, {os.cpu_count()} cores; model: {model_gb:.2f} GB on disk (bf16), 3 models read")
    print(f"reference read 3 + write 1: {r_t:6.1f} s   peak RSS {max(m for _, m in ref):.2f} GB")
    print(f"jacode chat-vector merge:   {o_t:6.1f} s   peak RSS {o_rss:.2f} GB")
    print(f"time ratio {o_t / r_t:.2f}x (target <= 2x); peak RSS / model size {o_rss / model_gb:.2f} (target <= 1.5)")
    if not args.keep:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
