"""`jacode eval ja BENCHMARK`: Japanese MT-Bench, ELYZA-tasks-style rubric, and metric tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from jacode.cli_util import friendly

JA_BENCHMARKS = ("jmt-bench", "elyza-tasks", "niilc", "xlsum", "wmt-en-ja")


def register(eval_app: typer.Typer) -> None:
    @eval_app.command("ja")
    @friendly
    def eval_ja(
        benchmark: str = typer.Argument(..., help=", ".join(JA_BENCHMARKS)),
        out: Path = typer.Option(..., "--out", "-o", help="Output directory (re-run to resume)."),
        model: Optional[str] = typer.Option(None, "--model", help="Local HF model directory (answers)."),
        endpoint: Optional[str] = typer.Option(None, "--endpoint", help="OpenAI-compatible server (answers)."),
        model_name: Optional[str] = typer.Option(None, "--model-name"),
        engine_kind: Optional[str] = typer.Option(None, "--engine", help="transformers, openai or vllm (inferred)."),
        judge_engine: Optional[str] = typer.Option(None, "--judge-engine", help="transformers, openai or vllm."),
        judge_endpoint: Optional[str] = typer.Option(None, "--judge-endpoint", help="Judge server URL."),
        judge_model: Optional[str] = typer.Option(None, "--judge-model", help="Judge model id, or a local HF "
                                                                              "directory without --judge-endpoint."),
        data: Optional[str] = typer.Option(None, "--data", help="Local data (dir/file) or a hub dataset id."),
        questions: str = typer.Option("question.jsonl", "--questions", help="jmt-bench: question file in --data."),
        reference: Optional[str] = typer.Option(None, "--reference", help="jmt-bench: reference_answer/NAME."),
        judge_repeats: int = typer.Option(1, "--judge-repeats", help="Judge each answer N times (mean, CI)."),
        judge_temperature: float = typer.Option(0.0, "--judge-temperature"),
        concurrency: int = typer.Option(16, "--concurrency", help="Requests in flight per server."),
        limit: Optional[int] = typer.Option(None, "--limit", help="Metric tasks: first N items."),
        max_new_tokens: int = typer.Option(1024, "--max-new-tokens"),
    ):
        """Answers from the model, then judge grading or metrics; scores.json and scores.md in OUT."""
        from jacode.engines import engine_from_options
        from jacode.errors import JacodeError

        if benchmark not in JA_BENCHMARKS:
            raise JacodeError(f"unknown Japanese benchmark {benchmark!r}; known: {', '.join(JA_BENCHMARKS)}")

        answerer = engine_from_options(model, endpoint, model_name, engine_kind, concurrency)
        if benchmark in ("niilc", "xlsum", "wmt-en-ja"):
            from jacode.evals.ja.metric_tasks import MetricTaskConfig, run_metric_task

            if not data:
                raise JacodeError(f"{benchmark} needs --data FILE (a JSONL copy of the dataset)")
            r = run_metric_task(answerer, out, MetricTaskConfig(task=benchmark, data=data, limit=limit))
            typer.echo(f"{benchmark}: " + ", ".join(f"{k} {v:.4f}" for k, v in r["metrics"].items()))
            return
        if not judge_model:
            raise JacodeError(f"{benchmark} is judged by a model: give --judge-model (and --judge-endpoint)")
        judge = engine_from_options(None if judge_endpoint else judge_model, judge_endpoint, judge_model, judge_engine,
                                    concurrency)
        if benchmark == "jmt-bench":
            from jacode.evals.ja.jmt_bench import JMTConfig, markdown, run_jmt

            if not data:
                raise JacodeError("jmt-bench needs --data DIR (FastChat's japanese_mt_bench layout)")
            r = run_jmt(answerer, judge, out, JMTConfig(data=data, questions=questions, reference=reference,
                                                         judge_repeats=judge_repeats, max_new_tokens=max_new_tokens,
                                                         judge_temperature=judge_temperature))
            typer.echo(markdown(r))
        else:
            from jacode.evals.ja.rubric import RubricConfig, run_rubric

            r = run_rubric(answerer, judge, out, RubricConfig(data=data, judge_repeats=judge_repeats,
                                                              judge_temperature=judge_temperature,
                                                              max_new_tokens=max_new_tokens))
            typer.echo((out / "scores.md").read_text())
