"""`jacode watch CHECKPOINT_DIR`: evaluate every checkpoint as it appears, append to a metrics table, and draw
learning curves (baselines as dashed horizontal lines).

A checkpoint is any subdirectory holding an HF model (config.json plus safetensors weights) whose files have not
changed for `settle_s` seconds (so a checkpoint still being written is not read). Finished (checkpoint, benchmark)
pairs are in watch_metrics.jsonl; after a restart they are not evaluated again.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from jacode.errors import JacodeError
from jacode.io import JsonlAppender, appended_records, read_jsonl

STEP = re.compile(r"(\d+)$")


def checkpoints(root: Path, settle_s: float) -> list[tuple[int, Path]]:
    found = []
    for d in root.iterdir() if root.is_dir() else []:
        if not d.is_dir() or not (d / "config.json").exists():
            continue
        weights = list(d.glob("*.safetensors")) + list(d.glob("model.safetensors.index.json"))
        if not weights:
            continue
        newest = max(f.stat().st_mtime for f in d.iterdir() if f.is_file())
        if time.time() - newest < settle_s:
            continue
        m = STEP.search(d.name)
        # `final` (no number) sorts after every numbered checkpoint.
        found.append((int(m.group(1)) if m else 10**12, d))
    return sorted(found)


def watch(root: str | Path, benchmarks: list[str], out: str | Path, data: dict[str, str] | None = None,
          limit: int | None = None, max_new_tokens: int = 256, baselines: dict | None = None, once: bool = False,
          interval_s: float = 60.0, settle_s: float = 10.0, echo=print) -> Path:
    from jacode.evals.run import run_benchmark

    root, out = Path(root), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    metrics = out / "watch_metrics.jsonl"
    done = {(r["checkpoint"], r["benchmark"]) for r in appended_records(metrics)}
    while True:
        for step, ckpt in checkpoints(root, settle_s):
            for bench in benchmarks:
                if (ckpt.name, bench) in done:
                    continue
                echo(f"evaluating {ckpt.name} on {bench}")
                try:
                    r = run_benchmark(bench, str(ckpt), out / ckpt.name / bench, data=(data or {}).get(bench),
                                      limit=limit, max_new_tokens=max_new_tokens)
                except JacodeError as e:
                    raise JacodeError(f"{ckpt.name} on {bench}: {e}") from e
                with JsonlAppender(metrics) as sink:
                    sink.write({"checkpoint": ckpt.name, "step": step, "benchmark": bench, "pass@1": r["pass@1"],
                                "n_tasks": r["n_tasks"], "time": time.time()})
                done.add((ckpt.name, bench))
                plot_curves(metrics, out / "learning_curves.png", baselines)
                echo(f"  pass@1 {100 * (r['pass@1'] or 0):.2f}%")
        if once:
            break
        time.sleep(interval_s)
    if metrics.exists():
        plot_curves(metrics, out / "learning_curves.png", baselines)
    return metrics


def plot_curves(metrics: Path, png: Path, baselines: dict[str, dict[str, float]] | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in read_jsonl(metrics, skip_torn_tail=True) if r.get("pass@1") is not None]
    benches = sorted({r["benchmark"] for r in rows})
    fig, axes = plt.subplots(1, max(1, len(benches)), figsize=(4.5 * max(1, len(benches)), 3.5), squeeze=False)
    for ax, bench in zip(axes[0], benches):
        pts = sorted((r["step"], r["pass@1"], r["checkpoint"]) for r in rows if r["benchmark"] == bench)
        xs = [p[0] if p[0] < 10**12 else (max([q[0] for q in pts if q[0] < 10**12], default=0) + 1) for p in pts]
        ax.plot(xs, [100 * p[1] for p in pts], marker="o", label="checkpoints")
        for i, (name, scores) in enumerate(sorted((baselines or {}).items())):
            if bench in scores:
                ax.axhline(100 * scores[bench], linestyle="--", color=f"C{i + 1}", label=name)
        ax.set_title(bench)
        ax.set_xlabel("step")
        ax.set_ylabel("pass@1 (%)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    plt.close(fig)
    return png


def parse_baselines(values: list[str]) -> dict[str, dict[str, float]]:
    """NAME:BENCH=VALUE[,BENCH=VALUE] (pass@1 as a fraction) → {NAME: {BENCH: VALUE}}."""
    out: dict[str, dict[str, float]] = {}
    for v in values:
        name, _, rest = v.partition(":")
        try:
            out[name] = {b: float(x) for b, x in (kv.split("=") for kv in rest.split(","))}
        except ValueError as e:
            raise JacodeError(f"--baseline {v!r}: expected NAME:BENCH=VALUE[,BENCH=VALUE]") from e
    return out


def load_json(path: str | None) -> dict | None:
    return json.loads(Path(path).read_text()) if path else None
