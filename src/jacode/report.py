"""`jacode report RUN_DIR`: one self-contained HTML file for a recipe run — stages and versions, data stats,
tokenizer fertility, training curves, evaluation tables, baselines, learning curves from `jacode watch`, and the
recipe itself. Images are embedded (base64 PNG) and every value from the run is HTML-escaped."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from jacode.io import atomic_write_text, read_jsonl


def _esc(x) -> str:
    return html.escape("" if x is None else str(x))


def _table(table_id: str, header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _manifests(run_dir: Path) -> list[dict]:
    out = []
    for m in sorted(run_dir.glob("*/manifest.json"), key=lambda p: p.stat().st_mtime):
        try:
            out.append(json.loads(m.read_text()))
        except ValueError:
            continue
    return out


def _training_curves(stage_dir: Path) -> list[tuple[int, float]]:
    metrics = stage_dir / "metrics.jsonl"
    if metrics.exists():
        return [(r["step"], r["loss"]) for r in read_jsonl(metrics, skip_torn_tail=True) if "loss" in r]
    states = sorted(stage_dir.glob("**/trainer_state.json"), key=lambda p: p.stat().st_mtime)
    if states:
        log = json.loads(states[-1].read_text()).get("log_history", [])
        return [(r["step"], r["loss"]) for r in log if "loss" in r and "step" in r]
    return []


def build_report(run_dir: str | Path, out: str | Path, title: str | None = None,
                 baselines: dict[str, dict[str, float]] | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_dir, out = Path(run_dir), Path(out)
    manifests = _manifests(run_dir)
    sections = []
    sections.append("<h2>Stages</h2>" + _table("stages", ["stage", "kind", "status", "seconds"], [
        [m["stage"], m["kind"], "writing this report" if m["kind"] == "report" and m["status"] == "running"
         else m["status"], m.get("seconds", "")] for m in manifests]))
    for m in manifests:
        stage_dir = run_dir / m["stage"]
        if m["kind"] == "data" and (stage_dir / "stats.json").exists():
            stats = json.loads((stage_dir / "stats.json").read_text())
            languages = [[k, v.get("files"), v.get("bytes"), v.get("tokens_est")]
                         for k, v in sorted(stats["languages"].items())]
            sections.append(f"<h2>Data ({_esc(m['stage'])})</h2>" + _table("data", [
                "kind:language", "files", "bytes", "tokens (estimated)"], languages)
                + _table("data-steps", ["step", "in", "kept", "dropped", "reasons"], [
                    [s["step"], s.get("total", ""), s.get("kept", ""), s.get("dropped", ""),
                     ", ".join(f"{k}: {v}" for k, v in s["reasons"].items())] for s in stats["steps"] if "kept" in s]))
        if m["kind"] == "tokenizer" and (stage_dir / "tokenizer_report.json").exists():
            tr = json.loads((stage_dir / "tokenizer_report.json").read_text())
            fertility = [[k, f"{v:.3f}" if v else "–"] for k, v in tr.get("fertility_chars_per_token", {}).items()]
            sections.append(f"<h2>Tokenizer ({_esc(m['stage'])})</h2><p>vocabulary: {_esc(tr.get('vocab_size'))}"
                            "</p>" + _table("fertility", ["held-out text", "characters per token"], fertility))
    surgery = []
    for m in manifests:
        d = run_dir / m["stage"]
        if m["kind"] == "merge" and (d / "merge_report.json").exists():
            r = json.loads((d / "merge_report.json").read_text())
            surgery.append([m["stage"], r["description"], f"{r['changed_entries']} entries changed; vocab rows "
                            f"shared: {r['vocab_rows_shared'] or 'all'}"])
        if m["kind"] == "upcycle" and (d / "upcycle_report.json").exists():
            r = json.loads((d / "upcycle_report.json").read_text())
            v = r.get("verify", {})
            surgery.append([m["stage"], f"upcycle to {r['experts']} experts, top-{r['top_k']}",
                            f"max |Δlogits| {v.get('max_abs_logit_diff', '–')}; round trip "
                            f"{'ok' if v.get('round_trip') else v.get('round_trip', '–')}"])
        if m["kind"] == "synth" and (d / "stats.json").exists():
            r = json.loads((d / "stats.json").read_text())
            ins, res = r.get("instructions", {}), r.get("responses", {})
            surgery.append([m["stage"], f"synthetic data ({r.get('method')})",
                            f"instructions kept {ins.get('kept')}/{ins.get('total')} (dropped {ins.get('dropped')}); "
                            f"responses kept {res.get('kept')}/{res.get('total')}; candidates {r.get('candidates')}"])
    if surgery:
        sections.append("<h2>Merging, upcycling, synthetic data</h2>" + _table("surgery", ["stage", "what",
                                                                                           "result"], surgery))
    curves = {m["stage"]: _training_curves(run_dir / m["stage"]) for m in manifests
              if m["kind"] in ("pretrain", "sft", "dpo")}
    curves = {k: v for k, v in curves.items() if v}
    if curves:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        for name, pts in curves.items():
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=".", label=name)
        ax.set_xlabel("step")
        ax.set_ylabel("training loss")
        ax.legend()
        fig.tight_layout()
        sections.append("<h2>Training curves</h2>" + _png(fig))
    for m in manifests:
        results = run_dir / m["stage"] / "results.json"
        if m["kind"] == "eval" and results.exists():
            rows = json.loads(results.read_text())
            table = [[r["model"], r["benchmark"], f"{100 * r['pass@1']:.2f}%" if r.get("pass@1") is not None else "–",
                      r.get("n_tasks", ""), r["status"] if r["status"] == "done" else f"skipped: {r['reason']}"]
                     for r in rows]
            for name, scores in (baselines or {}).items():
                table += [[f"{name} (baseline)", b, f"{100 * v:.2f}%", "", "reported"] for b, v in scores.items()]
            sections.append(f"<h2>Evaluation ({_esc(m['stage'])})</h2>" + _table(
                "eval", ["model", "benchmark", "pass@1", "tasks", "status"], table))
    for watch in sorted(run_dir.glob("**/watch_metrics.jsonl")):
        from jacode.watch import plot_curves

        png = watch.parent / "learning_curves.png"
        plot_curves(watch, png, baselines)
        data = base64.b64encode(png.read_bytes()).decode()
        sections.append(f"<h2>Learning curves ({_esc(watch.parent.name)})</h2>"
                        f'<img alt="learning curves" src="data:image/png;base64,{data}">')
    versions = manifests[-1].get("versions", {}) if manifests else {}
    sections.append("<h2>Versions</h2>" + _table("versions", ["package", "version"], sorted(versions.items())))
    recipe = run_dir / "recipe.yaml"
    if recipe.exists():
        sections.append(f"<h2>Recipe</h2><pre>{_esc(recipe.read_text())}</pre>")
    sections.append("<p class=note>A tiny model trained for minutes on a laptop scores near zero: the numbers show "
                    "that every stage ran and was measured, not that the model is good. A real run needs the "
                    "reference recipes (recipes/*.yaml) on GPUs.</p>")
    page = f"""<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>{_esc(title or run_dir.name)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse;margin:.5rem 0 1.5rem}}td,th{{border:1px solid #ccc;padding:.25rem .6rem}}
pre{{background:#f6f6f6;padding:1rem;overflow:auto}}.note{{color:#555}}</style></head>
<body><h1>{_esc(title or 'jacode run: ' + run_dir.name)}</h1>
{''.join(sections)}
</body></html>
"""
    atomic_write_text(out, page)
    return out
