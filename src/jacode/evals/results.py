"""Evaluations side by side: what the report shows when one run evaluated several models (before and after
training, a base model and its merge) on the same benchmarks.

An evaluation directory (`run_benchmark`'s OUT) holds summary.json and, for execution benchmarks, scores.json
with each task's samples and passes. From those:
- per benchmark, every model's primary score with its 95% interval, the tasks run out of the benchmark's total,
  and for execution benchmarks the well-formed and termination rates;
- per pair (the first model evaluated against each later one), the change in pass@1 on the tasks both ran, with a
  paired bootstrap interval over those tasks (the same tasks, so their difficulty cancels), and the tasks that
  changed: which the later model gained and which it lost — the per-task "before/after" teams compared by hand;
- per language, when execution benchmarks in several languages ran (MultiPL-E, JMultiPL-E);
- judged benchmarks with their judge, parse mode and failed judgments, and JMT-Bench per category and turn;
- metric tasks with every metric and the tokenization it was computed over;
- baselines (published scores of the model a team starts from) as columns beside the models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from jacode.errors import JacodeError
from jacode.evals.score import SCORES

SUMMARY = "summary.json"  # what run_benchmark writes (jacode.evals.run imports it from here)

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
    scores: dict[str, float | None] = field(default_factory=dict)  # every score the run reported
    intervals: dict[str, list] = field(default_factory=dict)  # score -> its 95% interval, where the run gave one
    language: str | None = None  # execution benchmarks: the language of the programs
    judge: dict = field(default_factory=dict)  # llm-judge: model, parse mode, judgments, failed judgments
    categories: dict[str, dict] = field(default_factory=dict)  # jmt-bench: category -> turn1, turn2, mean
    tokenization: str | None = None  # metric tasks: what the text was split into before scoring


def load(directory: str | Path, model: str) -> Evaluation:
    d = Path(directory)
    try:
        s = json.loads((d / SUMMARY).read_text())
    except (OSError, ValueError) as e:
        raise JacodeError(f"{d}: not a finished evaluation ({SUMMARY}: {e})") from None
    full = json.loads((d / SCORES).read_text()) if (d / SCORES).exists() else {}
    primary = s["primary"]
    e = Evaluation(model=model, benchmark=s["benchmark"], kind=s["kind"], primary=primary,
                   value=s["scores"].get(primary), ci95=s.get("intervals", {}).get(primary, {}).get("ci95"),
                   n_tasks=s["n_tasks"], n_total=s["n_total"], scores=dict(s["scores"]),
                   intervals={k: v.get("ci95") for k, v in s.get("intervals", {}).items()},
                   rates={k: s.get(k) for k in ("well_formed_rate", "termination_rate") if s.get(k) is not None})
    if s["kind"] in ("unit", "program"):
        from jacode.evals.registry import BENCHMARKS

        e.tasks = {t: (c["c"], c["n"]) for t, c in full.get("tasks", {}).items()}
        e.language = BENCHMARKS[s["benchmark"]].language if s["benchmark"] in BENCHMARKS else None
    elif s["kind"] == "llm-judge":
        overall = full.get("overall") or {}
        e.ci95 = e.ci95 or overall.get("ci95")
        e.judge = {"model": (s.get("judge") or {}).get("model") or (s.get("judge") or {}).get("model_name"),
                   "parse_mode": s.get("parse_mode"), "judgments": s.get("judgments"),
                   "failed": s.get("failed_judgments")}
        e.categories = full.get("categories") or {}
    elif s["kind"] == "metric":
        e.tokenization = full.get("tokenization")
    return e


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def interval_text(ci: list | None) -> str:
    """A 95% interval as every table shows it ("0.125–0.375"; "–" when there is none)."""
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


def comparison(evals: list[Evaluation], baselines: dict[str, dict[str, float]] | None = None) -> dict:
    """The JSON-able comparison (report.json's `evaluations`) and the tables the report draws from it."""
    baselines = baselines or {}
    models = list(dict.fromkeys(e.model for e in evals))
    benches = list(dict.fromkeys(e.benchmark for e in evals))
    by = {(e.model, e.benchmark): e for e in evals}
    scores = [{"model": e.model, "benchmark": e.benchmark, "score": e.primary, "value": e.value, "ci95": e.ci95,
               "tasks": e.n_tasks, "of": e.n_total, **e.rates} for e in evals]
    side = []  # one row per benchmark: each model's score [interval], the baselines, then its tasks "n of N"
    for b in benches:
        row = [b, next(by[m, b].primary for m in models if (m, b) in by)]
        for m in models:
            e = by.get((m, b))
            row.append("–" if e is None else f"{_num(e.value)} [{interval_text(e.ci95)}]")
        row += [_num(scores_.get(b)) for scores_ in baselines.values()]
        ns = {f"{by[m, b].n_tasks} of {by[m, b].n_total}" for m in models if (m, b) in by}
        side.append([*row, " / ".join(sorted(ns))])
    tables = [{"title": "Models side by side (primary score [95% interval])"
                        + ("; baselines as published" if baselines else ""),
               "columns": ["benchmark", "score", *models, *(f"{n} (baseline)" for n in baselines), "tasks"],
               "rows": side}]
    form = [[b, rate.replace("_rate", "").replace("_", "-"),
             *(_num(by[m, b].rates.get(rate)) if (m, b) in by else "–" for m in models)]
            for b in benches for rate in ("well_formed_rate", "termination_rate")
            if any(rate in by[m, b].rates for m in models if (m, b) in by)]
    if form:
        tables.append({"title": "Answer form (share of samples)", "columns": ["benchmark", "rate", *models],
                       "rows": form})
    tables += _pass_at_k(evals) + _by_language(evals, models) + _judged(evals, models) + _metrics(evals)
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
            change_rows.append([b, f"{models[0]} → {later}", c["tasks"], _num(c["delta"]), interval_text(c["ci95"]),
                                c["gained"], c["lost"], c["both_pass"], c["both_fail"]])
            if c["changed"]:
                rows = [[t, f"{x[0]}/{x[1]}", f"{y[0]}/{y[1]}", "gained" if y[0] / y[1] > x[0] / x[1] else "lost"]
                        for t, x, y in c["changed"][:CHANGED_ROWS]]
                more = len(c["changed"]) - CHANGED_ROWS
                task_tables.append({"title": f"{b}: tasks that changed, {models[0]} → {later}"
                                    + (f" (first {CHANGED_ROWS}; {more} more in summary.json)" if more > 0 else ""),
                                    "columns": ["task", f"{models[0]} passed", f"{later} passed", "change"],
                                    "rows": rows})
    for b in benches:  # which tasks each model passes (collapsed in the report: long for a whole benchmark)
        runs = [(m, by[m, b]) for m in models if (m, b) in by and by[m, b].tasks]
        if runs:
            ids = list(dict.fromkeys(t for _, e in runs for t in e.tasks))
            task_tables.append({"title": f"{b}: every task (passed samples / samples)", "collapsed": True,
                                "columns": ["task", *(m for m, _ in runs)],
                                "rows": [[t, *(f"{e.tasks[t][0]}/{e.tasks[t][1]}" if t in e.tasks else "–"
                                               for _, e in runs)] for t in ids]})
    if change_rows:
        tables.append({"title": "Change in pass rate on the same tasks (paired bootstrap 95% interval)",
                       "columns": ["benchmark", "models", "tasks", "Δ pass@1", "95% CI", "gained", "lost",
                                   "both pass", "both fail"], "rows": change_rows})
    return {"scores": scores, "changes": pairs, "tables": tables + task_tables}


def _pass_at_k(evals: list[Evaluation]) -> list[dict]:
    """Every pass@k with its interval, when some run sampled more than once per task."""
    ks = sorted({k for e in evals if e.tasks for k in e.scores if k.startswith("pass@")}, key=lambda k: int(k[5:]))
    if ks == ["pass@1"] or not ks:
        return []
    return [{"title": "pass@k [95% interval, bootstrap over tasks]", "columns": ["benchmark", "model", *ks],
             "rows": [[e.benchmark, e.model, *(f"{_num(e.scores.get(k))} [{interval_text(e.intervals.get(k))}]"
                                              if e.scores.get(k) is not None else "–" for k in ks)]
                      for e in evals if e.tasks]}]


def _by_language(evals: list[Evaluation], models: list[str]) -> list[dict]:
    """pass@1 per language (mean over that language's benchmarks, tasks summed), when several languages ran."""
    runs = [e for e in evals if e.language and e.value is not None]
    languages = list(dict.fromkeys(e.language for e in runs))
    if len(languages) < 2:
        return []
    rows = []
    for lang in languages:
        row = [lang]
        for m in models:
            mine = [e for e in runs if e.language == lang and e.model == m]
            row.append(f"{sum(e.value for e in mine) / len(mine):.3f} ({sum(e.n_tasks for e in mine)} tasks, "
                       f"{len(mine)} benchmark{'s' if len(mine) > 1 else ''})" if mine else "–")
        rows.append(row)
    return [{"title": "pass@1 by language (mean over the language's benchmarks)", "columns": ["language", *models],
             "rows": rows}]


def _judged(evals: list[Evaluation], models: list[str]) -> list[dict]:
    judged = [e for e in evals if e.kind == "llm-judge"]
    if not judged:
        return []
    tables = [{"title": "Judged benchmarks", "columns": ["benchmark", "model", "score", "95% CI", "judge",
                                                           "parse mode", "failed judgments"],
               "rows": [[e.benchmark, e.model, _num(e.value), interval_text(e.ci95), e.judge.get("model") or "–",
                         e.judge.get("parse_mode") or "–",
                         f"{e.judge.get('failed')} of {e.judge.get('judgments')}"] for e in judged]}]
    for bench in dict.fromkeys(e.benchmark for e in judged if e.categories):
        runs = {e.model: e for e in judged if e.benchmark == bench and e.categories}
        cats = list(dict.fromkeys(c for e in runs.values() for c in e.categories))

        def cell(e: Evaluation | None, cat: str) -> str:
            row = e.categories.get(cat) if e else None
            return "–" if not row else " / ".join(_num(row.get(k)) for k in ("turn1", "turn2", "mean"))

        tables.append({"title": f"{bench} by category (turn 1 / turn 2 / mean)",
                       "columns": ["category", *(m for m in models if m in runs)],
                       "rows": [[c, *(cell(runs[m], c) for m in models if m in runs)] for c in cats]})
    return tables


def _metrics(evals: list[Evaluation]) -> list[dict]:
    runs = [e for e in evals if e.kind == "metric"]
    if not runs:
        return []
    names = list(dict.fromkeys(k for e in runs for k in e.scores))
    return [{"title": "Metric tasks (every metric; the tokenization it was computed over)",
             "columns": ["benchmark", "model", *names, "tokenization"],
             "rows": [[e.benchmark, e.model, *(_num(e.scores.get(k)) for k in names), e.tokenization or "–"]
                      for e in runs]}]
