"""Run any registered benchmark end to end: the one entry point behind `eval run`, `eval ja`, `watch`, the demo
and the recipe eval stage.

  unit / program   generate -> execute in the sandbox -> pass@k
  llm-judge        answers -> a judge model grades them
  metric           answers -> reference metrics

Every step resumes from what OUT already holds. Generation settings come from the benchmark's row in the registry,
with `settings` overriding them key by key, so the same benchmark is generated the same way from every entry
point. Whatever goes wrong (unknown benchmark, bad settings, missing model or data, a server or judge that cannot
be reached) raises JacodeError naming the benchmark; a run never reports itself done without a score.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jacode.engines import engine_kind
from jacode.errors import JacodeError
from jacode.evals.registry import AnswerJob, Benchmark, GenSettings, did_you_mean, get_benchmark
from jacode.evals.results import SUMMARY
from jacode.io import refuse_changed_config, write_json

JUDGE_KEYS = ("model", "endpoint", "model_name", "engine", "repeats", "temperature", "max_new_tokens")


def run_benchmark(name: str, out: str | Path, *, model: str | None = None, endpoint: str | None = None,
                  model_name: str | None = None, engine: str | None = None, data: str | None = None,
                  limit: int | None = None, judge: Mapping[str, Any] | None = None,
                  settings: Mapping[str, Any] | None = None, workers: int = 2, sandbox: str = "auto",
                  options: Mapping[str, Any] | None = None, ks: tuple[int, ...] = (1,), batch_size: int = 8,
                  concurrency: int = 8, timeout_s: float = 10.0, memory_mb: int = 4096,
                  dedup: bool = True, time_limit: str = "fixed") -> dict[str, Any]:
    """Run benchmark `name` into `out` and return its summary (also written to OUT/summary.json):

    benchmark, kind, primary, scores (name -> value, the primary first), n_tasks (run), n_total (in the
    benchmark), dir, settings (the generation settings used), engine, model, judge (or None), plus per kind
    n_samples and termination_rate (unit/program) or judgments and failed_judgments (llm-judge).

    `judge`: {model | endpoint + model_name, engine, repeats, temperature, max_new_tokens} for llm-judge
    benchmarks (ignored by the others). `options`: benchmark-specific (`eval list --json` shows them).
    `ks`, `workers`, `sandbox`, `timeout_s`, `memory_mb`, `dedup`, `time_limit` (evals/time_limits.py):
    execution benchmarks only.
    """
    bench = get_benchmark(name)
    with named(name):
        return _run(bench, Path(out), model=model, endpoint=endpoint, model_name=model_name, engine=engine,
                    data=data, limit=limit, judge=judge, settings=settings, workers=workers, sandbox=sandbox,
                    options=options, ks=ks, batch_size=batch_size, concurrency=concurrency, timeout_s=timeout_s,
                    memory_mb=memory_mb, dedup=dedup, time_limit=time_limit)


@contextmanager
def named(name: str):
    """Errors get the benchmark's name in front (once): whoever runs many benchmarks is told which one failed."""
    try:
        yield
    except JacodeError as e:
        if str(e).startswith(f"{name}:"):  # named already (by the registry's checks)
            raise
        raise JacodeError(f"{name}: {e}") from e


def preflight(name: str, *, settings: Mapping[str, Any] | None = None, judge: Mapping[str, Any] | None = None,
              options: Mapping[str, Any] | None = None, data: str | None = None) -> Benchmark:
    """Every check that needs neither a model nor the data's contents (for `--dry-run`, `watch` before its first
    checkpoint, and the start of every run): the name, settings, options, the judge, required data given."""
    bench = get_benchmark(name)
    for _, problem in preflight_problems(bench, settings=settings, judge=judge, options=options, data=data)[:1]:
        raise JacodeError(problem)
    return bench


def preflight_problems(bench: Benchmark, *, settings: Mapping[str, Any] | None = None,
                       judge: Mapping[str, Any] | None = None, options: Mapping[str, Any] | None = None,
                       data: str | None = None) -> list[tuple[str, str]]:
    """preflight's problems, each with what it is about ("settings", "options", "judge", "data"): a recipe points
    at that key's line."""

    def required_data():
        if bench.data_required and not data:
            raise JacodeError(f"needs data: {bench.data_hint}")

    out = []
    for key, check in (("settings", lambda: bench.settings.resolve(settings, bench)),
                       ("options", lambda: bench.resolve_options(options)),
                       ("judge", lambda: resolve_judge(bench, judge)), ("data", required_data)):
        try:
            with named(bench.name):
                check()
        except JacodeError as e:
            out.append((key, str(e)))
    return out


def resolve_judge(bench: Benchmark, judge: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The judge's engine options and settings, checked; None for a benchmark that has no judge."""
    if not bench.needs_judge:
        return None
    if not judge or not (judge.get("model") or judge.get("endpoint")):
        raise JacodeError(f"{bench.name} is graded by a judge model: give one (--judge-model DIR, or "
                          "--judge-endpoint URL --judge-model NAME; in a recipe, judge: {model: ...})")
    for key in judge:
        if key not in JUDGE_KEYS:
            raise JacodeError(f"unknown judge key {key!r}{did_you_mean(key, JUDGE_KEYS)}; known: "
                              f"{', '.join(JUDGE_KEYS)}")
    repeats = judge.get("repeats") or 1
    if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
        raise JacodeError(f"judge repeats must be an integer >= 1, not {repeats!r}")
    settings = bench.judge_settings.resolve({"temperature": judge.get("temperature"),
                                             "max_new_tokens": judge.get("max_new_tokens")})
    return {"model": judge.get("model"), "endpoint": judge.get("endpoint"), "model_name": judge.get("model_name"),
            "engine": judge.get("engine"), "repeats": repeats, "settings": settings}


def _run(bench: Benchmark, out: Path, *, model, endpoint, model_name, engine, data, limit, judge, settings, workers,
         sandbox, options, ks, batch_size, concurrency, timeout_s, memory_mb, dedup, time_limit) -> dict[str, Any]:
    # Everything that can be checked without a model is checked first: a bad setting or a missing judge fails
    # in a second, not after an hour of generation.
    data = bench.data_or_default(data)
    s = bench.settings.resolve(settings, bench)
    opts = bench.resolve_options(options)
    judge_cfg = resolve_judge(bench, judge)
    answers_given = bool(opts.get("answers"))  # jmt-bench --answers: answers imported, no model under test
    if not (model or endpoint or answers_given):
        raise JacodeError("give the model: --model PATH (local) or --endpoint URL --model-name NAME (server)")
    if answers_given and (model or endpoint):
        raise JacodeError("--answers are judged instead of a model's answers: give --answers or a model, not both")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise JacodeError(f"limit must be an integer >= 1, not {limit!r}")
    items = bench.load(data, opts)  # the data, before any model is loaded
    if not items:
        raise JacodeError("the data holds no items")
    engine_info = {"engine": engine_kind(engine, endpoint) if (model or endpoint) else None, "model": model,
                   "endpoint": endpoint, "model_name": model_name}
    if bench.executes:
        result = _run_execution(bench, out, s, opts, engine_info, data=data, limit=limit, workers=workers,
                                sandbox=sandbox, ks=ks, batch_size=batch_size, concurrency=concurrency,
                                timeout_s=timeout_s, memory_mb=memory_mb, dedup=dedup, time_limit=time_limit)
    else:
        result = _run_answers(bench, out, s, opts, engine_info, judge_cfg, data=data, limit=limit,
                              batch_size=batch_size, concurrency=concurrency)
    scores = result.pop("scores")
    if scores.get(bench.primary) is None:
        raise JacodeError(f"no {bench.primary} score came out of the run ({json.dumps(result)[:300]}); see {out}")
    summary = {"benchmark": bench.name, "kind": bench.kind, "primary": bench.primary,
               "scores": {bench.primary: scores[bench.primary], **scores}, "n_total": len(items), **result,
               "dir": str(out), "settings": s.as_dict(), **engine_info,
               "judge": None if judge_cfg is None else {**{k: v for k, v in judge_cfg.items() if k != "settings"},
                                                        "settings": judge_cfg["settings"].as_dict()}}
    write_json(out / SUMMARY, summary)
    return summary


def _run_execution(bench: Benchmark, out: Path, s: GenSettings, opts: dict, engine_info: dict, *, data, limit,
                   workers, sandbox, ks, batch_size, concurrency, timeout_s, memory_mb, dedup,
                   time_limit) -> dict[str, Any]:
    from jacode.evals.execute import ExecuteConfig, execute
    from jacode.evals.generate import GEN_CONFIG, GenerateConfig, generate
    from jacode.evals.score import score

    ecfg = ExecuteConfig(benchmark=bench.name, data=data, workers=workers, timeout_s=timeout_s,
                         memory_mb=memory_mb, dedup=dedup, backend=sandbox,
                         time_limit=time_limit)  # checked before generation
    gcfg = GenerateConfig(benchmark=bench.name, model=engine_info["model"], endpoint=engine_info["endpoint"],
                          model_name=engine_info["model_name"], engine=engine_info["engine"], data=data,
                          settings=s.as_dict(), options=opts, limit=limit, batch_size=batch_size,
                          concurrency=concurrency)
    gen = generate(gcfg, out)
    tasks = json.loads((out / GEN_CONFIG).read_text())["task_ids"]
    execute(ecfg, gen, out, expected_tasks=tasks)
    r = score(out, sorted({1, *ks}))
    return {"scores": r["scores"], "n_tasks": r["n_tasks"], "n_samples": r["n_samples"],
            "termination_rate": r.get("termination_rate"), "well_formed_rate": r.get("well_formed_rate"),
            "intervals": r.get("intervals", {})}


def _run_answers(bench: Benchmark, out: Path, s: GenSettings, opts: dict, engine_info: dict,
                 judge_cfg: dict | None, *, data, limit, batch_size, concurrency) -> dict[str, Any]:
    from jacode.evals.generate import GEN_CONFIG, open_engine

    # What changes the answers or the grades: resuming under other settings would mix them (judge repeats only
    # add judgments, so they are left out).
    identity = {"benchmark": bench.name, **engine_info, "data": data, "limit": limit, **s.as_dict(),
                "options": opts, "judge": None if judge_cfg is None else {
                    "model": judge_cfg["model"], "endpoint": judge_cfg["endpoint"],
                    "model_name": judge_cfg["model_name"], "engine": judge_cfg["engine"],
                    **judge_cfg["settings"].as_dict()}}
    refuse_changed_config(out / GEN_CONFIG, identity, "answers")
    judge = answerer = None
    try:
        if judge_cfg:  # first: an unreachable judge fails before the model under test is loaded
            # With an endpoint, "model" is the judge's id on the server (--judge-model NAME), not a directory.
            judge = open_engine(None if judge_cfg["endpoint"] else judge_cfg["model"], judge_cfg["endpoint"],
                                judge_cfg["model_name"] or judge_cfg["model"], judge_cfg["engine"],
                                batch_size=batch_size, concurrency=concurrency, role="judge")
        if engine_info["model"] or engine_info["endpoint"]:  # else the answers are imported (jmt-bench --answers)
            answerer = open_engine(engine_info["model"], engine_info["endpoint"], engine_info["model_name"],
                                   engine_info["engine"], batch_size=batch_size, concurrency=concurrency)
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / GEN_CONFIG, identity)
        report = bench.evaluate(AnswerJob(answerer=answerer, judge=judge, out=out, data=data, limit=limit,
                                          settings=s, judge_settings=judge_cfg and judge_cfg["settings"],
                                          judge_repeats=judge_cfg["repeats"] if judge_cfg else 1, options=opts))
    finally:
        for e in (answerer, judge):
            if e is not None:
                e.close()
    result = {"scores": report["scores"], "n_tasks": report["items"]}
    for key in ("judgments", "failed_judgments", "parse_mode", "parse"):  # parse: what the other mode would read
        if key in report:
            result[key] = report[key]
    return result


SCORE_COLUMNS = ["score", "value", "95% CI", "tasks"]


def score_row(summary: dict[str, Any]) -> list:
    """[primary score, value, its 95% interval ("–" when the benchmark gives none), "n of N" tasks]: one row of a
    report's evaluation table (SCORE_COLUMNS)."""
    primary, value = next(iter(summary.get("scores", {}).items()), (None, None))
    ci = summary.get("intervals", {}).get(primary, {}).get("ci95")
    from jacode.evals.results import interval_text

    shown = interval_text(ci)
    return [primary, value, shown, f"{summary.get('n_tasks')} of {summary.get('n_total')}"]


def describe(summary: dict[str, Any]) -> str:
    """The run's scores for a terminal: the execution table, the judge's markdown, or the metrics."""
    out = Path(summary["dir"])
    if summary["kind"] in ("unit", "program"):
        from jacode.evals.score import SCORES, format_table

        return format_table(json.loads((out / SCORES).read_text()))
    if (out / "scores.md").exists():
        return (out / "scores.md").read_text().rstrip()
    return f"{summary['benchmark']} ({summary['n_tasks']} items): " + ", ".join(
        f"{k} {v:.4f}" for k, v in summary["scores"].items() if v is not None)

