"""`jacode synth ...` commands (added to the main app in jacode.cli)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Optional

import typer

from jacode.cli_util import friendly
from jacode.engines import engine_from_options

app = typer.Typer(help="Synthetic data: Magpie, personas, test-verified code, scored SFT/DPO sets.",
                  no_args_is_help=True)

Model = typer.Option(None, "--model", help="Local HF model directory (transformers engine).")
Endpoint = typer.Option(None, "--endpoint", help="OpenAI-compatible server URL (openai engine).")
ModelName = typer.Option(None, "--model-name", help="Model id on the server.")
EngineKind = typer.Option(None, "--engine", help="transformers, openai or vllm (inferred).")
Concurrency = typer.Option(16, "--concurrency", help="Requests in flight (openai engine).")
Out = typer.Option(..., "--out", "-o", help="Output directory (re-run the command to resume).")
Responses = typer.Option(4, "--responses", help="Responses per instruction (M).")
Seed = typer.Option(0, "--seed")
BatchSize = typer.Option(32, "--batch-size", help="Items per engine call (and per resumable append).")
NoJapanese = typer.Option(False, "--no-japanese-filter", help="Keep texts whatever their Japanese share.")


def _gen_config(responses: int, seed: int, no_japanese: bool, max_new_tokens: int, batch_size: int):
    from jacode.synth.generate import GenerateConfig

    cfg = GenerateConfig(n_responses=responses, seed=seed, japanese=not no_japanese, batch_size=batch_size)
    cfg.response_params = replace(cfg.response_params, max_new_tokens=max_new_tokens)
    return cfg


def _recorded(out: Path, method: str, options: dict, make: Callable[[], Path]) -> None:
    """Generate with the stage's manifest (OUT/manifest.json, as in a recipe); nothing kept fails the command."""
    from jacode.manifest import record
    from jacode.synth.generate import summary

    def work() -> dict:
        path = make()
        s = summary(out, method)
        for step in s["tables"][0]["rows"]:
            typer.echo(f"  {step[0]:<12} {step[1]}/{step[2]} kept; dropped: {step[3]}")
        typer.echo(f"candidates: {path} ({s['metrics']['candidates']})  next: jacode synth score {path} ...")
        return s

    record(out, "synth", {"method": method, **options}, work)


@app.command("magpie")
@friendly
def magpie_cmd(
    out: Path = Out, model: Optional[str] = Model, endpoint: Optional[str] = Endpoint,
    model_name: Optional[str] = ModelName, engine: Optional[str] = EngineKind,
    chat_template_from: Optional[str] = typer.Option(
        None, "--chat-template-from", help="Tokenizer directory whose chat template the served model uses "
                                           "(needed with --endpoint; default: --model)."),
    n: int = typer.Option(100, "--n", help="Instructions to sample."),
    responses: int = Responses,
    system: str = typer.Option("none", "--system", help="Shipped Japanese system prompts: coding,review,spec,"
                                                        "debug, all or none."),
    max_new_tokens: int = typer.Option(1024, "--max-new-tokens", help="Per response."),
    concurrency: int = Concurrency, seed: int = Seed, no_japanese: bool = NoJapanese, batch_size: int = BatchSize,
):
    """Magpie: instructions from the pre-query template, then M responses each; filtered and deduplicated."""
    options = dict(locals())  # the command's options, for its manifest
    from transformers import AutoTokenizer

    from jacode.errors import JacodeError
    from jacode.synth.magpie import magpie, system_prompts

    source = chat_template_from or model
    if not source:
        raise JacodeError("Magpie needs the model's chat template: give --model or --chat-template-from")
    def make() -> Path:
        eng = engine_from_options(model, endpoint, model_name, engine, concurrency)
        from jacode.models.resolve import resolve_model

        # A model (any form --model takes) or a tokenizer directory: the chat template is what is read.
        template = source if Path(source).is_dir() else resolve_model(source)
        return magpie(eng, AutoTokenizer.from_pretrained(template), out, n, system_prompts(system),
                      _gen_config(responses, seed, no_japanese, max_new_tokens, batch_size))

    _recorded(out, "magpie", options, make)


@app.command("persona")
@friendly
def persona_cmd(
    out: Path = Out, model: Optional[str] = Model, endpoint: Optional[str] = Endpoint,
    model_name: Optional[str] = ModelName, engine: Optional[str] = EngineKind,
    personas: Optional[str] = typer.Option(None, "--personas", help="YAML list of personas (default: shipped)."),
    templates: Optional[str] = typer.Option(None, "--templates", help="YAML list of task templates with "
                                                                      "{persona} (default: shipped)."),
    n: Optional[int] = typer.Option(None, "--n", help="Sample N persona × template pairs (default: all)."),
    responses: int = Responses,
    max_new_tokens: int = typer.Option(1024, "--max-new-tokens", help="Per response."),
    concurrency: int = Concurrency, seed: int = Seed, no_japanese: bool = NoJapanese, batch_size: int = BatchSize,
):
    """Persona-driven instructions (persona × task template), then M responses each."""
    options = dict(locals())  # the command's options, for its manifest
    from jacode.synth.persona import load_list, persona

    def make() -> Path:
        eng = engine_from_options(model, endpoint, model_name, engine, concurrency)
        return persona(eng, out, load_list(personas, "personas.yaml"), load_list(templates, "task_templates.yaml"),
                       n, _gen_config(responses, seed, no_japanese, max_new_tokens, batch_size))

    _recorded(out, "persona", options, make)


@app.command("code-verified")
@friendly
def code_verified_cmd(
    problems: Path = typer.Argument(..., help="JSONL with `problem` / `instruction` / `prompt` per line."),
    out: Path = Out, model: Optional[str] = Model, endpoint: Optional[str] = Endpoint,
    model_name: Optional[str] = ModelName, engine: Optional[str] = EngineKind,
    samples: int = typer.Option(2, "--samples", help="Answers per problem."),
    workers: int = typer.Option(2, "--workers", help="Sandboxed runs in parallel."),
    timeout: float = typer.Option(10.0, "--timeout"),
    holdout: float = typer.Option(0.0, "--holdout", min=0.0, max=0.99,
                                  help="Share of the verified problems kept out of sft.jsonl, written to "
                                       "OUT/heldout.jsonl for the synth-heldout benchmark."),
    language: str = typer.Option("ja", "--language", help="Language of the request: ja or en (a small model "
                                                           "follows an English one better)."),
    example: bool = typer.Option(True, "--example/--no-example", help="One worked exchange before each problem."),
    concurrency: int = Concurrency, seed: int = Seed,
):
    """Solution + tests per problem, run in the sandbox; only passing answers are kept (OUT/sft.jsonl)."""
    from jacode.synth.verified_code import VerifiedConfig, code_verified, load_problems

    eng = engine_from_options(model, endpoint, model_name, engine, concurrency)
    stats = code_verified(eng, load_problems(problems), out, VerifiedConfig(n_samples=samples, workers=workers,
                                                                           timeout_s=timeout, seed=seed,
                                                                           holdout=holdout, language=language,
                                                                           example=example))
    typer.echo(f"{stats['passed']}/{stats['answers']} answers passed their own tests; dropped: "
               f"{stats['dropped'] or '-'}; kept: {out}/sft.jsonl ({stats['kept']})"
               + (f"; held out: {out}/heldout.jsonl ({stats['held_out']} problems)" if holdout else ""))


@app.command("score")
@friendly
def score_cmd(
    candidates: Path = typer.Argument(..., help="candidates.jsonl from magpie/persona."),
    out: Path = Out,
    reward_model: Optional[str] = typer.Option(None, "--reward-model", help="Local scalar-head reward model."),
    judge_endpoint: Optional[str] = typer.Option(None, "--judge-endpoint", help="OpenAI-compatible judge URL."),
    judge_model: Optional[str] = typer.Option(None, "--judge-model", help="Judge model id, or a local HF "
                                                                          "directory without --judge-endpoint."),
    min_margin: float = typer.Option(0.0, "--min-margin", help="best − worst score must exceed it for DPO."),
    judge_max_new_tokens: int = typer.Option(512, "--judge-max-new-tokens", min=1,
                                             help="The judge's longest answer, in tokens."),
    concurrency: int = Concurrency,
):
    """Score responses (reward model or position-swapped LLM judge); write OUT/sft.jsonl and OUT/dpo.jsonl."""
    from jacode.errors import JacodeError
    from jacode.synth.scoring import JudgeScorer, RewardScorer, ScoreConfig, score_candidates

    cfg = ScoreConfig(min_margin=min_margin, judge_max_new_tokens=judge_max_new_tokens)
    if reward_model and (judge_endpoint or judge_model):
        raise JacodeError("give either --reward-model or a judge (--judge-endpoint/--judge-model), not both")
    if reward_model:
        scorer = RewardScorer(reward_model)
    elif judge_model:
        judge = engine_from_options(None if judge_endpoint else judge_model, judge_endpoint, judge_model,
                                    concurrency=concurrency)
        scorer = JudgeScorer(judge, cfg)
    else:
        raise JacodeError("give --reward-model PATH or --judge-model (with --judge-endpoint for a server)")
    stats = score_candidates(candidates, scorer, out, cfg)
    typer.echo(f"SFT: {stats['sft']}  DPO pairs: {stats['dpo']} (dropped for margin: "
               f"{stats['dpo_dropped_small_margin']})  judge parse failures: {stats['judge_parse_failures']}")
    typer.echo(f"  {out}/sft.jsonl  {out}/dpo.jsonl  — jacode train sft/dpo --data ...")
