"""Evaluations side by side: what the report shows when one run evaluated several models (before and after
training, a base model and its merge) on the same benchmarks.

An evaluation directory (`run_benchmark`'s OUT) holds summary.json and, for execution benchmarks, scores.json
with each task's samples and passes. From those:
- per benchmark, every model's primary score with its 95% interval, the tasks run out of the benchmark's total,
  and for execution benchmarks the well-formed and termination rates;
- per pair (the first model evaluated against each later one), the change in pass@1 on the tasks both ran, with a
  paired bootstrap interval over those tasks (the same tasks, so their difficulty cancels), and the tasks that
  changed: which the later model gained and which it lost — the per-task "before/after" teams compared by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from jacode.errors import JacodeError

CHANGED_ROWS = 200  # per-task rows shown per pair; the counts above them are always complete


@dataclass
class Evaluation:
    model: str  # the label it was evaluated under (a recipe's `models:` key)
    benchmark: str
    kind: str
    primary: str
    value: float | None
    ci95: list | None
    n_tasks: int
    n_total: int
    rates: dict[str, float | None] = field(default_factory=dict)  # well_formed_rate, termination_rate
    tasks: dict[str, tuple[int, int]] = field(default_factory=dict)  # task id -> (passed samples, samples)


def load(directory: str | Path, model: str) -> Evaluation:
    d = Path(directory)
    try:
        s = json.loads((d / "summary.json").read_text())
    except (OSError, ValueError) as e:
        raise JacodeError(f"{d}: not a finished evaluation (summary.json: {e})") from None
    tasks = {}
    if (d / "scores.json").exists():
        tasks = {t: (c["c"], c["n"]) for t, c in json.loads((d / "scores.json").read_text())["tasks"].items()}
    primary = s["primary"]
    return Evaluation(model=model, benchmark=s["benchmark"], kind=s["kind"], primary=primary,
                      value=s["scores"].get(primary), ci95=s.get("intervals", {}).get(primary, {}).get("ci95"),
                      n_tasks=s["n_tasks"], n_total=s["n_total"],
                      rates={k: s.get(k) for k in ("well_formed_rate", "termination_rate") if s.get(k) is not None},
                      tasks=tasks)


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def _interval(ci: list | None) -> str:
    return f"{ci[0]:.3f}–{ci[1]:.3f}" if ci and ci[0] is not None else "–"


def paired_change(before: Evaluation, after: Evaluation) -> dict:
    """after − before in pass rate on the tasks both ran, with a paired bootstrap 95% interval over those tasks,
    and the tasks that changed ((passed, samples) each side)."""
    from jacode.evals.ja.judge import mean_ci

    common = [t for t in before.tasks if t in after.tasks]
    rate = {t: (before.tasks[t][0] / before.tasks[t][1], after.tasks[t][0] / after.tasks[t][1]) for t in common}
    diff = mean_ci([a - b for b, a in rate.values()]) if common else {"mean": None, "ci95": [None, None]}
    changed = [(t, before.tasks[t], after.tasks[t]) for t in common if rate[t][0] != rate[t][1]]
    return {"tasks": len(common), "delta": diff["mean"], "ci95": diff["ci95"],
            "gained": sum(rate[t][1] > rate[t][0] for t in common),
            "lost": sum(rate[t][1] < rate[t][0] for t in common),
            "both_pass": sum(rate[t][0] == rate[t][1] == 1 for t in common),
            "both_fail": sum(rate[t][0] == rate[t][1] == 0 for t in common), "changed": changed}


def comparison(evals: list[Evaluation]) -> dict:
    """The JSON-able comparison (summary.json's `evaluations`) and the tables the report draws from it."""
    models = list(dict.fromkeys(e.model for e in evals))
    benches = list(dict.fromkeys(e.benchmark for e in evals))
    by = {(e.model, e.benchmark): e for e in evals}
    scores = [{"model": e.model, "benchmark": e.benchmark, "score": e.primary, "value": e.value, "ci95": e.ci95,
               "tasks": e.n_tasks, "of": e.n_total, **e.rates} for e in evals]
    side = []  # one row per benchmark: each model's score [interval], then its tasks "n of N"
    for b in benches:
        row = [b, next(by[m, b].primary for m in models if (m, b) in by)]
        for m in models:
            e = by.get((m, b))
            row.append("–" if e is None else f"{_num(e.value)} [{_interval(e.ci95)}]")
        ns = {f"{by[m, b].n_tasks} of {by[m, b].n_total}" for m in models if (m, b) in by}
        side.append([*row, " / ".join(sorted(ns))])
    tables = [{"title": "Models side by side (primary score [95% interval])",
               "columns": ["benchmark", "score", *models, "tasks"], "rows": side}]
    form = [[b, rate.replace("_rate", "").replace("_", "-"),
             *(_num(by[m, b].rates.get(rate)) if (m, b) in by else "–" for m in models)]
            for b in benches for rate in ("well_formed_rate", "termination_rate")
            if any(rate in by[m, b].rates for m in models if (m, b) in by)]
    if form:
        tables.append({"title": "Answer form (share of samples)", "columns": ["benchmark", "rate", *models],
                       "rows": form})
    pairs, change_rows, task_tables = [], [], []
    for later in models[1:]:
        for b in benches:
            first, after = by.get((models[0], b)), by.get((later, b))
            if not (first and after and first.tasks and after.tasks):
                continue
            c = paired_change(first, after)
            pairs.append({"before": models[0], "after": later, "benchmark": b,
                          **{k: v for k, v in c.items() if k != "changed"},
                          "changed_tasks": [{"task": t, "before": list(x), "after": list(y)}
                                            for t, x, y in c["changed"]]})
            change_rows.append([b, f"{models[0]} → {later}", c["tasks"], _num(c["delta"]), _interval(c["ci95"]),
                                c["gained"], c["lost"], c["both_pass"], c["both_fail"]])
            if c["changed"]:
                rows = [[t, f"{x[0]}/{x[1]}", f"{y[0]}/{y[1]}", "gained" if y[0] / y[1] > x[0] / x[1] else "lost"]
                        for t, x, y in c["changed"][:CHANGED_ROWS]]
                more = len(c["changed"]) - CHANGED_ROWS
                task_tables.append({"title": f"{b}: tasks that changed, {models[0]} → {later}"
                                    + (f" (first {CHANGED_ROWS}; {more} more in summary.json)" if more > 0 else ""),
                                    "columns": ["task", f"{models[0]} passed", f"{later} passed", "change"],
                                    "rows": rows})
    if change_rows:
        tables.append({"title": "Change in pass rate on the same tasks (paired bootstrap 95% interval)",
                       "columns": ["benchmark", "models", "tasks", "Δ pass@1", "95% CI", "gained", "lost",
                                   "both pass", "both fail"], "rows": change_rows})
    return {"scores": scores, "changes": pairs, "tables": tables + task_tables}
