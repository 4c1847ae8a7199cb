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
from typing import Optional

import typer

from jacode.cli_util import friendly
from jacode.errors import JacodeError
from jacode.evals.cli import EXECUTION, JUDGE, SETTINGS, execution_of, judge_of, settings_of, with_options
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
          limit: int | None = None, max_new_tokens: int | None = None, baselines: dict | None = None,
          once: bool = False, interval_s: float = 60.0, settle_s: float = 10.0, echo=print, *,
          settings: dict | None = None, judge: dict | None = None, execution: dict | None = None) -> Path:
    """Each benchmark runs with its registry defaults (jacode.evals.registry), so a watched checkpoint scores as
    `jacode eval run` would score it; `settings` (and the older `max_new_tokens`) override them for every one.
    `execution`: run_benchmark's execution arguments (workers, sandbox, timeout_s, memory_mb, dedup, time_limit)."""
    from jacode.evals import time_limits
    from jacode.evals.run import preflight, run_benchmark

    settings = {**(settings or {}), **({"max_new_tokens": max_new_tokens} if max_new_tokens else {})}
    # Before the first checkpoint: a typo, a missing judge or a time limit a benchmark cannot take fails now, not
    # hours later.
    found = [preflight(bench, settings=settings, judge=judge, data=(data or {}).get(bench)) for bench in benchmarks]
    for problem in time_limits.problems((execution or {}).get("time_limit", "fixed"), found)[:1]:
        raise JacodeError(problem)
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
                    r = run_benchmark(bench, out / ckpt.name / bench, model=str(ckpt), data=(data or {}).get(bench),
                                      limit=limit, settings=settings, judge=judge, **(execution or {}))
                except JacodeError as e:
                    raise JacodeError(f"{ckpt.name}: {e}") from e
                value = r["scores"][r["primary"]]
                row = {"checkpoint": ckpt.name, "step": step, "benchmark": bench, "metric": r["primary"],
                       "value": value, "n_tasks": r["n_tasks"], "time": time.time()}
                if r["primary"] == "pass@1":
                    row["pass@1"] = value  # the field older readers of this table know
                with JsonlAppender(metrics) as sink:
                    sink.write(row)
                done.add((ckpt.name, bench))
                plot_curves(metrics, out / "learning_curves.png", baselines)
                echo(f"  {_shown(r['primary'], value)}")
        if once:
            break
        time.sleep(interval_s)
    if metrics.exists():
        plot_curves(metrics, out / "learning_curves.png", baselines)
    return metrics


def _percent(metric: str) -> bool:
    return metric.startswith("pass@")


def _shown(metric: str, value: float) -> str:
    return f"{metric} {100 * value:.2f}%" if _percent(metric) else f"{metric} {value:.3f}"


def plot_curves(metrics: Path, png: Path, baselines: dict[str, dict[str, float]] | None = None) -> Path:
    """One panel per benchmark: its headline score per checkpoint (pass@k in %, others in their own units)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = []
    for r in read_jsonl(metrics, skip_torn_tail=True):
        metric, value = r.get("metric", "pass@1"), r.get("value", r.get("pass@1"))  # rows before "metric": pass@1
        if value is not None:
            rows.append({**r, "metric": metric, "value": value})
    benches = sorted({r["benchmark"] for r in rows})
    fig, axes = plt.subplots(1, max(1, len(benches)), figsize=(4.5 * max(1, len(benches)), 3.5), squeeze=False)
    for ax, bench in zip(axes[0], benches):
        metric = next(r["metric"] for r in rows if r["benchmark"] == bench)
        scale = 100 if _percent(metric) else 1
        pts = sorted((r["step"], r["value"], r["checkpoint"]) for r in rows if r["benchmark"] == bench)
        xs = [p[0] if p[0] < 10**12 else (max([q[0] for q in pts if q[0] < 10**12], default=0) + 1) for p in pts]
        ax.plot(xs, [scale * p[1] for p in pts], marker="o", label="checkpoints")
        for i, (name, scores) in enumerate(sorted((baselines or {}).items())):
            if bench in scores:
                ax.axhline(scale * scores[bench], linestyle="--", color=f"C{i + 1}", label=name)
        ax.set_title(bench)
        ax.set_xlabel("step")
        ax.set_ylabel(f"{metric} (%)" if _percent(metric) else metric)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    plt.close(fig)
    return png


def parse_baselines(values: list[str]) -> dict[str, dict[str, float]]:
    """NAME:BENCH=VALUE[,BENCH=VALUE] (pass@k as a fraction, other scores in their units) → {NAME: {BENCH: VALUE}}."""
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


# ---- the command (jacode.cli registers it: `app.command("watch")(watch_command)`) ----------------------------------
@friendly
@with_options(SETTINGS, JUDGE, EXECUTION)
def watch_command(
    checkpoints: Path = typer.Argument(..., help="Directory whose subdirectories are HF checkpoints."),
    benchmarks: str = typer.Option("humaneval", "--benchmarks", help="Comma-separated benchmark names."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Default: CHECKPOINTS/watch."),
    data: list[str] = typer.Option([], "--data", help="BENCH=PATH for benchmarks that need local data."),
    limit: Optional[int] = typer.Option(None, "--limit", help="First N tasks of each benchmark."),
    baseline: list[str] = typer.Option([], "--baseline", help="NAME:BENCH=SCORE[,BENCH=...] dashed lines "
                                                              "(pass@1 as a fraction)."),
    once: bool = typer.Option(False, "--once", help="Evaluate what is there now and exit."),
    interval: float = typer.Option(60.0, "--interval", help="Seconds between scans."),
    settle: float = typer.Option(10.0, "--settle", help="A checkpoint must be unchanged this long."),
    *, o,
):
    """Evaluate each new checkpoint as it appears; metrics table and learning curves (restart-safe)."""
    data_map = {}
    for d in data:
        bench, sep, path = d.partition("=")
        if not sep:
            raise JacodeError(f"--data {d!r}: expected BENCH=PATH")
        data_map[bench] = path
    metrics = watch(checkpoints, [b.strip() for b in benchmarks.split(",") if b.strip()], out or checkpoints / "watch",
                    data_map, limit, baselines=parse_baselines(baseline), once=once, interval_s=interval,
                    settle_s=settle, echo=typer.echo, settings=settings_of(o), judge=judge_of(o),
                    execution=execution_of(o))
    typer.echo(f"metrics: {metrics}   curves: {metrics.parent / 'learning_curves.png'}")
