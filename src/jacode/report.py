"""`jacode report RUN_DIR`: one self-contained HTML file for a run — its stages, each stage's summary from its
manifest (tables and curves, whatever the kind), baselines, learning curves from `jacode watch`, versions and the
recipe itself. Images are embedded (base64 PNG) and every value from the run is HTML-escaped.

The report knows no stage kind: stages describe themselves in their manifests (jacode.stages, jacode.manifest).
A stage that evaluated models lists its evaluation directories in its summary (`evaluations`); the report puts
every model evaluated anywhere in the run side by side, with the tasks that changed (jacode.evals.results).
A directory without stage manifests is not a run: that is an error, never an empty report.

The same numbers go to a JSON file beside the HTML (report.html → report.json): stages with their status, time
and metrics, and the evaluations compared. Named after the HTML so that a report written into an evaluation's own
directory never replaces that evaluation's summary.json.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from jacode import manifest as mf
from jacode.cli_util import plain
from jacode.errors import JacodeError
from jacode.io import atomic_write_text


def _esc(x) -> str:
    return html.escape("" if x is None else str(x))


def _cell(x) -> str:
    return _esc(plain(x))


def _table(table_id: str, header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table id="{_esc(table_id)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def load_baselines(path: str | Path) -> dict[str, dict[str, float]]:
    """NAME: {BENCH: SCORE} from a YAML or JSON file (pass@k as a fraction, other scores in their own units)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text("utf-8"))  # JSON is YAML
    except (OSError, yaml.YAMLError) as e:
        raise JacodeError(f"{path}: cannot read the baselines: {e}") from None
    ok = isinstance(data, dict) and all(isinstance(v, dict) and all(
        isinstance(x, (int, float)) and not isinstance(x, bool) for x in v.values()) for v in data.values())
    if not ok:
        raise JacodeError(f"{path}: baselines must be NAME: {{BENCHMARK: SCORE}}, e.g. llama31-8b: {{humaneval: 0.62}}")
    return {str(k): {str(b): float(x) for b, x in v.items()} for k, v in data.items()}


def manifests(run_dir: Path) -> list[dict]:
    """The stages' manifests, in the order they started: a run's stage directories, or one stage run alone
    (`jacode eval run --out DIR`, then `jacode report DIR`)."""
    dirs = [run_dir, *(d for d in run_dir.iterdir() if d.is_dir())] if run_dir.is_dir() else []
    out = [{**m, "_dir": d} for d, m in ((d, mf.read(d)) for d in dirs) if m.get("kind")]
    return sorted(out, key=lambda m: m.get("started", 0))


def evaluations(found: list[dict]) -> list:
    """Every evaluation the stages list, labelled by model; a label used by two stages gets the stage's name."""
    from jacode.evals.results import load

    listed = [(m, e) for m in found for e in (m.get("summary") or {}).get("evaluations", [])]
    stages_of: dict[str, set] = {}
    for m, e in listed:
        stages_of.setdefault(e["model"], set()).add(m["stage"])
    return [load(m["_dir"] / e["dir"], e["model"] if len(stages_of[e["model"]]) == 1 else f"{m['stage']}/{e['model']}")
            for m, e in listed]


def _score_plots(evals: list, baselines: dict[str, dict[str, float]]) -> list[str]:
    """One bar chart per kind of score (pass@1, ratings, ...): a bar per model and benchmark with its 95% interval,
    baselines as dashed lines over their benchmark."""
    import matplotlib.pyplot as plt

    out = []
    for score in dict.fromkeys(e.primary for e in evals):
        runs = [e for e in evals if e.primary == score and e.value is not None]
        benches = list(dict.fromkeys(e.benchmark for e in runs))
        models = list(dict.fromkeys(e.model for e in runs))
        if not runs:
            continue
        width = 0.8 / len(models)
        fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(benches) + 2), 3.4))
        for i, m in enumerate(models):
            xs, ys, err = [], [], [[], []]
            for j, b in enumerate(benches):
                e = next((e for e in runs if e.model == m and e.benchmark == b), None)
                if e is None:
                    continue
                xs.append(j - 0.4 + width * (i + 0.5))
                ys.append(e.value)
                lo, hi = (e.ci95 if e.ci95 and e.ci95[0] is not None else (e.value, e.value))
                err[0].append(max(e.value - lo, 0))
                err[1].append(max(hi - e.value, 0))
            ax.bar(xs, ys, width, yerr=err, capsize=3, label=m)
        for k, (name, scores) in enumerate(baselines.items()):
            for j, b in enumerate(benches):
                if b in scores:
                    ax.hlines(scores[b], j - 0.45, j + 0.45, colors=f"C{len(models) + k}", linestyles="dashed",
                              label=f"{name} (baseline)" if j == min(i for i, x in enumerate(benches)
                                                                      if x in scores) else None)
        ax.set_xticks(range(len(benches)), benches)
        ax.set_ylabel(score)
        ax.set_ylim(bottom=0, top=1.0 if score.startswith("pass@") else None)  # all-zero bars are still a scale
        ax.legend(fontsize=8)
        fig.tight_layout()
        out.append(f"<h3>{_esc(score)} with 95% intervals</h3>" + _png(fig))
    return out


def build_report(run_dir: str | Path, out: str | Path, title: str | None = None,
                 baselines: dict[str, dict[str, float]] | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_dir, out = Path(run_dir), Path(out)
    if not run_dir.is_dir():
        raise JacodeError(f"{run_dir}: no such run directory")
    found = manifests(run_dir)
    watched = sorted(run_dir.glob("**/watch_metrics.jsonl"))
    if not any(m["kind"] != "report" for m in found) and not watched:  # a report of nothing but reports
        raise JacodeError(f"{run_dir}: nothing to report (no STAGE/manifest.json, no watch metrics): not a jacode "
                          "run, or nothing ran yet")
    header = ["stage", "kind", "status", "seconds", "result"]
    sections = [] if not found else ["<h2>Stages</h2>" + _table("stages", header, [
        [m["stage"], m["kind"], "writing this report" if m["kind"] == "report" and m["status"] == "running"
         else m["status"], m.get("seconds", ""), m.get("summary", {}).get("text") or m.get("error", "")]
        for m in found])]
    compared = None  # every model evaluated in the run, side by side: first, as what a reader looks for
    evals = evaluations(found)
    if evals:
        from jacode.evals.results import comparison

        compared = comparison(evals, baselines)
        sections.append("<h2>Evaluations</h2>" + "".join(
            (f"<details><summary>{_esc(t['title'])}</summary>" + _table(f"evaluations-{i}", t["columns"], t["rows"])
             + "</details>") if t.get("collapsed") else
            f"<h3>{_esc(t['title'])}</h3>" + _table(f"evaluations-{i}", t["columns"], t["rows"])
            for i, t in enumerate(compared["tables"])) + "".join(_score_plots(evals, baselines or {})))
    curves: dict[str, dict] = {}  # curves of the same title share one plot (training loss of every trainer)
    for m in found:
        summary = m.get("summary") or {}
        parts = [_table(f"{m['stage']}-{i}", t["columns"], t["rows"]) if not t.get("title") else
                 f"<h3>{_esc(t['title'])}</h3>" + _table(f"{m['stage']}-{i}", t["columns"], t["rows"])
                 for i, t in enumerate(summary.get("tables", []))]
        if parts:
            sections.append(f"<h2>{_esc(m['stage'])} ({_esc(m['kind'])})</h2>" + "".join(parts))
        for c in summary.get("curves", []):
            entry = curves.setdefault(c["title"], {"x": c.get("x", ""), "y": c.get("y", ""), "series": {}})
            entry["series"].update(c["series"])
    for name, c in curves.items():
        fig, ax = plt.subplots(figsize=(7, 3.5))
        for label, pts in c["series"].items():
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=".", label=label)
        ax.set_xlabel(c["x"])
        ax.set_ylabel(c["y"])
        ax.legend()
        fig.tight_layout()
        sections.append(f"<h2>{_esc(name)}</h2>" + _png(fig))
    if baselines:
        sections.append("<h2>Baselines</h2>" + _table("baselines", ["model", "benchmark", "score"], [
            [name, bench, value] for name, scores in baselines.items() for bench, value in scores.items()]))
    for watch in watched:
        from jacode.watch import plot_curves

        png = watch.parent / "learning_curves.png"
        plot_curves(watch, png, baselines)
        data = base64.b64encode(png.read_bytes()).decode()
        sections.append(f"<h2>Learning curves ({_esc(watch.parent.name)})</h2>"
                        f'<img alt="learning curves" src="data:image/png;base64,{data}">')
    versions = found[-1].get("versions", {}) if found else {}
    sections.append("<h2>Versions</h2>" + _table("versions", ["package", "version"], sorted(versions.items())))
    recipe = run_dir / "recipe.yaml"
    if recipe.exists():
        sections.append(f"<h2>Recipe</h2><pre>{_esc(recipe.read_text())}</pre>")
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
    numbers = {"title": title or run_dir.name,
               "stages": [{k: m.get(k) for k in ("stage", "kind", "status", "seconds", "error")}
                          | {"metrics": (m.get("summary") or {}).get("metrics", {})} for m in found],
               "evaluations": None if compared is None else {k: v for k, v in compared.items() if k != "tables"},
               "baselines": baselines or {}}
    atomic_write_text(out.with_suffix(".json"), json.dumps(numbers, indent=2, ensure_ascii=False, default=str))
    return out
