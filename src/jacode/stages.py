"""The one table of stage kinds: for each, its config (a dataclass in jacode.config's style), the function that
runs it, where its main output is, which of its settings must name existing inputs or known benchmarks, and what
it reports. The recipe runner, recipe validation, the `jacode` commands, the manifest and the report all read it;
a new stage kind is a row here plus its config and run function.

Every run function takes (config, stage directory) and returns the stage's summary: a JSON-able mapping with
optional "text" (one line), "metrics" (flat numbers), "tables" ([{title, columns, rows}]) and "curves"
([{title, x, y, series: {name: [[x, y], ...]}}]); a "status": "partial" in it marks a partial result. The
report renders summaries without knowing the kinds.

`python -m jacode.stages STAGE.json` runs one stage of a recipe in a process of its own (its own log; a crash
cannot take the runner down); `launch` prefixes such as `accelerate launch` wrap exactly that.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any, Literal

from jacode.config import STRICT
from jacode.errors import JacodeError


@dataclass(frozen=True)
class StageKind:
    name: str
    help: str
    config: str  # "module:Class" (imported when needed: `jacode --help` must not load torch)
    run: Callable[[Any, Path], dict]
    output: str = ""  # the main output, relative to the stage directory ("final" for trainers)
    paths: tuple[str, ...] = ()  # settings that name inputs which must exist (dotted; [] for each list item)
    benchmarks: tuple[str, ...] = ()  # settings that name benchmarks
    command: str = ""  # the `jacode` command that runs this kind on its own
    # The model class the stage writes, when the kind decides it (upcycle: Mixtral). Otherwise a stage that trains
    # writes the class of its `model`. Recipe validation checks a launch config's FSDP wrap classes against it.
    architecture: str | None = None

    def config_class(self) -> type:
        module, _, name = self.config.partition(":")
        return getattr(import_module(module), name)


# ---- run functions --------------------------------------------------------------------------------------------
def _training_curve(points: list[tuple[int, float]], name: str) -> list[dict]:
    return [{"title": "training loss", "x": "step", "y": "loss", "series": {name: [list(p) for p in points]}}] \
        if points else []


def run_data(cfg, out: Path) -> dict:
    from jacode.data.pipeline import DataConfig, run

    values = cfg.model_dump()
    workers, executor = values.pop("workers"), values.pop("executor")
    return data_summary(run(DataConfig.model_validate({**values, "output": str(out)}), executor=executor,
                            workers=workers))


def data_summary(result: dict, require_documents: bool = True) -> dict:
    """A data run's summary (`jacode data run` alone too). The run itself finishes when every document was dropped
    (empty output, stats saying so); in a recipe that is a failure (require_documents): every later stage would
    fail on it, later and less clearly."""
    from jacode.data.stats import nothing_kept

    langs = result["languages"]
    kept = sum(v.get("files", 0) for v in langs.values())
    why = nothing_kept(result)
    if why is not None and require_documents:
        raise JacodeError(f"no documents kept ({why}); the empty output and its stats are in the stage's directory")
    return {"text": f"{kept} documents kept" if why is None else f"no documents kept ({why})",
            "metrics": {"tokens_est": sum(v.get("tokens_est", 0) for v in langs.values())},
            "tables": [{"title": "kept data by kind and language", "columns": ["kind:language", "documents",
                                                                               "bytes", "tokens (estimated)"],
                        "rows": [[k, v.get("files"), v.get("bytes"), v.get("tokens_est")]
                                 for k, v in sorted(langs.items())]},
                       {"title": "pipeline steps", "columns": ["step", "in", "kept", "dropped", "reasons"],
                        "rows": [[plain_step(s["step"]), s.get("total", ""), s.get("kept", ""), s.get("dropped", ""),
                                  ", ".join(f"{k}: {v}" for k, v in s.get("reasons", {}).items())]
                                 for s in result["steps"] if "kept" in s]}]}


def plain_step(name: str) -> str:
    """A datatrove step name without its emoji ("🔻 - FILTER: 🌐 language check" → "FILTER: language check"):
    report fonts rarely have them, and they show as boxes."""
    import unicodedata

    kept = "".join(c for c in name if unicodedata.category(c) not in ("So", "Sk", "Cf", "Mn", "Co", "Cs"))
    return " ".join(kept.split()).lstrip("- ").strip()


def run_tokenizer(cfg, out: Path) -> dict:
    from jacode.tokenizer.train import train_tokenizer

    report = train_tokenizer(cfg, out)
    fertility = report.get("fertility_chars_per_token", {})
    return {"text": f"{report.get('vocab_size')} pieces",
            "metrics": {f"fertility_{k}": v for k, v in fertility.items() if v},
            "tables": [{"title": "fertility (characters per token, held-out text)", "columns": ["text", "chars/token"],
                        "rows": [[k, round(v, 3) if v else None] for k, v in fertility.items()]}]}


def run_model(cfg, out: Path) -> dict:
    from jacode.models.init import init_model

    if not (out / "config.json").exists():
        init_model(out, cfg.size, seed=cfg.seed, tokenizer=cfg.tokenizer, vocab_size=cfg.vocab_size)
    config = json.loads((out / "config.json").read_text())
    return {"text": f"{cfg.size} Llama, hidden {config.get('hidden_size')}, {config.get('num_hidden_layers')} layers,"
                    f" vocabulary {config.get('vocab_size')}"}


def _trainer_summary(final: Path, stage_dir: Path, name: str) -> dict:
    from jacode.io import read_jsonl

    metrics = stage_dir / "metrics.jsonl"
    if metrics.exists():
        rows = [r for r in read_jsonl(metrics, skip_torn_tail=True) if "loss" in r]
        points = [(r["step"], r["loss"]) for r in rows]
    else:
        states = sorted(stage_dir.glob("**/trainer_state.json"), key=lambda p: p.stat().st_mtime)
        log = json.loads(states[-1].read_text()).get("log_history", []) if states else []
        points = [(r["step"], r["loss"]) for r in log if "loss" in r and "step" in r]
    summary: dict[str, Any] = {"text": f"model: {final.name}", "curves": _training_curve(points, name)}
    held_out = [(r["step"], r["eval_loss"]) for r in read_jsonl(metrics, skip_torn_tail=True) if "eval_loss" in r] \
        if metrics.exists() else []
    if held_out:  # pretraining with eval_data: the held-out loss beside the training loss
        summary["curves"].append({"title": "held-out loss", "x": "step", "y": "loss",
                                  "series": {name: [list(p) for p in held_out]}})
    if points:
        summary["metrics"] = {"steps": points[-1][0], "final_loss": points[-1][1]}
        summary["text"] = f"{points[-1][0]} steps, final loss {points[-1][1]:.4g}"
    return summary


def run_pretrain(cfg, out: Path) -> dict:
    from jacode.train.pretrain import pretrain

    final = pretrain(cfg, out)
    return _trainer_summary(Path(final), out, out.name)


def run_sft(cfg, out: Path) -> dict:
    from jacode.train.sft import sft

    return _trainer_summary(Path(sft(cfg, out)), out, out.name)


def run_dpo(cfg, out: Path) -> dict:
    from jacode.train.dpo import dpo

    return _trainer_summary(Path(dpo(cfg, out)), out, out.name)


def run_merge(cfg, out: Path) -> dict:
    from jacode.surgery.merge import MergeConfig, chat_vector, merge

    if cfg.instruct is not None:
        r = chat_vector(cfg.base, cfg.instruct, cfg.target, out, scale=cfg.scale)
    else:
        r = merge(MergeConfig(target=cfg.target, base=cfg.base, vectors=[(v.model, v.weight) for v in cfg.vectors],
                              method=cfg.method, density=cfg.density, template_from=cfg.template_from), out)
    shared = r.get("vocab_rows_shared") or "all"
    return {"text": f"{r.get('description', 'merge')}: {r['changed_entries']} entries changed; vocabulary rows "
                    f"shared: {shared}", "metrics": {"changed_entries": r["changed_entries"], "seconds": r["seconds"]}}


def run_upcycle(cfg, out: Path) -> dict:
    from dataclasses import asdict

    from jacode.surgery.config import UpcycleConfig
    from jacode.surgery.upcycle import upcycle

    settings = {k: v for k, v in asdict(cfg).items() if k != "model"}
    r = upcycle(cfg.model, out, UpcycleConfig(**settings))
    v = r.get("verify", {})
    diff = v.get("max_abs_logit_diff")
    return {"text": f"{r['experts']} experts, top-{r['top_k']}; max |Δlogits| "
                    f"{'–' if diff is None else f'{diff:.3g}'}; "
                    f"round trip {'ok' if v.get('round_trip') else v.get('round_trip', '–')}",
            "metrics": {k: v[k] for k in ("max_abs_logit_diff",) if k in v}}


@dataclass
class SynthStageConfig:
    """Synthetic data from a model: instructions (Magpie or persona-driven), optionally scored into SFT/DPO sets; or
    code answers verified by their own tests in the sandbox (code-verified: solution + asserts, kept if they pass)."""

    __pydantic_config__ = STRICT
    method: Annotated[Literal["magpie", "persona", "code-verified"], "how the data is made"]
    model: Annotated[str | None, "the generating model (HF directory, .gguf, known name or hub id); with an "
                                 "endpoint, where Magpie reads the chat template"] = None
    engine: Annotated[Literal["transformers", "vllm", "openai"] | None, "generation engine (default: openai with an "
                                                                          "endpoint, else transformers)"] = None
    endpoint: Annotated[str | None, "an OpenAI-compatible server (vLLM, SGLang, …) instead of a local model"] = None
    model_name: Annotated[str | None, "the served model's name (with endpoint)"] = None
    concurrency: Annotated[int, "requests in flight to the endpoint"] = 8
    serve: Annotated[Literal["jacode", "vllm"] | None, "serve `model` for the stage (vllm: continuous batching on a "
                                                        "GPU) and generate through the server"] = None
    n: Annotated[int | None, "instructions to generate"] = 8
    responses: Annotated[int, "responses per instruction"] = 2
    system: Annotated[str | None, "Magpie system-prompt set (coding, general, all)"] = None
    japanese_filter: Annotated[bool, "keep only Japanese instructions"] = True
    max_new_tokens: Annotated[int, "tokens per instruction and response"] = 64
    judge_model: Annotated[str | None, "score pairs with this model as a judge"] = None
    judge_max_new_tokens: Annotated[int, "the judge's longest answer, in tokens"] = 512
    reward_model: Annotated[str | None, "score pairs with this reward model"] = None
    min_margin: Annotated[float, "least score margin for a preference pair"] = 0.0
    seed: Annotated[int, "random seed"] = 0
    keep_truncated: Annotated[bool, "keep texts that hit max_new_tokens (smoke runs only)"] = False
    problems: Annotated[str | None, "code-verified: JSONL of problems (problem/instruction/prompt), e.g. a "
                                    "Magpie stage's instructions.jsonl"] = None
    allow_empty: Annotated[bool, "code-verified: keeping no answer is reported, not a failure (a weak model's "
                                 "answers may all fail their own tests)"] = False
    language: Annotated[Literal["ja", "en"], "code-verified: the language of the request for solution + tests "
                                              "(a small model follows an English one better)"] = "ja"
    example: Annotated[bool, "code-verified: one worked exchange (solution and asserts) before each problem"] = True
    holdout: Annotated[float, "code-verified: share of the verified problems kept out of training, written to "
                              "heldout.jsonl for the synth-heldout benchmark"] = 0.0


def run_synth(cfg: SynthStageConfig, out: Path) -> dict:
    from dataclasses import replace

    from jacode.engines import engine_from_options, make_engine
    from jacode.synth.generate import GenerateConfig
    from jacode.synth.generate import summary as synth_summary

    if not (cfg.model or cfg.endpoint):
        raise JacodeError("synth needs model (local) or endpoint + model_name (a server)")
    if cfg.serve and not cfg.endpoint:  # a server for this stage (vLLM: continuous batching), stopped after it
        from jacode.engines.launch import served
        from jacode.models.resolve import resolve_model

        with served(str(resolve_model(cfg.model)), cfg.serve, "model") as url:
            return run_synth(dataclasses.replace(cfg, endpoint=url, model_name="model", engine="openai"), out)
    engine = engine_from_options(cfg.model, cfg.endpoint, cfg.model_name, cfg.engine, cfg.concurrency)
    if cfg.method == "code-verified":
        return _run_code_verified(cfg, engine, out)
    gc = GenerateConfig(n_responses=cfg.responses, seed=cfg.seed, japanese=cfg.japanese_filter,
                        keep_truncated=cfg.keep_truncated)
    gc.instruction_params = replace(gc.instruction_params, max_new_tokens=cfg.max_new_tokens)
    gc.response_params = replace(gc.response_params, max_new_tokens=cfg.max_new_tokens)
    if cfg.method == "magpie":
        from jacode.synth.magpie import magpie, system_prompts

        if not cfg.model:
            raise JacodeError("synth magpie: give `model` too (a local copy or the hub id of the served model): the "
                              "pre-query template is cut from its chat template")
        from transformers import AutoTokenizer

        from jacode.models.resolve import resolve_model

        tokenizer = engine.tokenizer if hasattr(engine, "tokenizer") else AutoTokenizer.from_pretrained(
            resolve_model(cfg.model))
        candidates = magpie(engine, tokenizer, out, cfg.n or 8, system_prompts(cfg.system), gc)
    else:
        from jacode.synth.persona import load_list, persona

        candidates = persona(engine, out, load_list(None, "personas.yaml"), load_list(None, "task_templates.yaml"),
                             cfg.n, gc)
    summary = synth_summary(out, cfg.method)  # fails here, before a judge is loaded, when nothing was kept
    if cfg.judge_model or cfg.reward_model:
        from jacode.synth.scoring import JudgeScorer, RewardScorer, ScoreConfig, score_candidates

        sc = ScoreConfig(min_margin=cfg.min_margin, judge_max_new_tokens=cfg.judge_max_new_tokens)
        scorer = (RewardScorer(cfg.reward_model) if cfg.reward_model
                  else JudgeScorer(make_engine("transformers", model=cfg.judge_model), sc))
        scored = score_candidates(candidates, scorer, out / "scored", sc)
        from jacode.cli_util import plain

        summary["text"] += "; scored: " + plain({k.replace("_", " "): v for k, v in scored.items()
                                                 if not isinstance(v, dict)})
        summary.setdefault("tables", []).extend(
            {"title": f"scoring: {k.replace('_', ' ')}", "columns": ["value", "count"], "rows": list(v.items())}
            for k, v in scored.items() if isinstance(v, dict) and v)
    return summary


def _run_code_verified(cfg: SynthStageConfig, engine, out: Path) -> dict:
    from dataclasses import replace

    from jacode.synth.verified_code import VerifiedConfig, code_verified, load_problems

    if not cfg.problems:
        raise JacodeError("synth code-verified needs problems: a JSONL file (problem/instruction/prompt per line)")
    problems = load_problems(cfg.problems)[: cfg.n or None]
    if not 0 <= cfg.holdout < 1:
        raise JacodeError(f"synth code-verified: holdout must be in [0, 1), not {cfg.holdout}")
    vc = VerifiedConfig(n_samples=cfg.responses, seed=cfg.seed, holdout=cfg.holdout, language=cfg.language,
                        example=cfg.example)
    vc.params = replace(vc.params, max_new_tokens=cfg.max_new_tokens)
    stats = code_verified(engine, problems, out, vc)
    text = (f"{stats['passed']} of {stats['answers']} answers to {len(problems)} problems passed their own tests"
            + (f" ({stats['kept']} kept for training, {stats['held_out']} problem"
               f"{'' if stats['held_out'] == 1 else 's'} held out)" if cfg.holdout else "")
            + f"; dropped: {', '.join(f'{k} {v}' for k, v in stats['dropped'].items()) or 'none'}")
    if not stats["passed"] and not cfg.allow_empty:
        raise JacodeError(f"synth code-verified kept nothing: {text} (allow_empty: true accepts that)")
    return {"text": text, "metrics": {k: stats[k] for k in ("passed", "answers", "kept", "held_out")}}


@dataclass
class ServedModel:
    """A model behind an OpenAI-compatible server (vLLM, SGLang, llama.cpp, a hosted API)."""

    __pydantic_config__ = STRICT
    endpoint: Annotated[str, "the server's base URL (…/v1)"]
    model_name: Annotated[str, "the served model's name"]


@dataclass
class EvalStageConfig:
    """Every model on every benchmark, with each benchmark's own generation settings (jacode.evals.registry)."""

    __pydantic_config__ = STRICT
    models: Annotated[dict[str, str | ServedModel] | str, "label → model directory, or {endpoint, model_name} "
                                                         "for a served model (or one model directory)"]
    benchmarks: Annotated[list[str], "benchmark names (`jacode eval list`)"]
    data: Annotated[dict[str, str], "benchmark → local data (file or directory)"] = field(default_factory=dict)
    limit: Annotated[int | None, "first N tasks of each benchmark (smoke runs)"] = None
    settings: Annotated[dict[str, Any], "generation settings that replace the benchmarks' defaults (e.g. "
                                        "max_new_tokens); none by default, so scores compare across runs"] = \
        field(default_factory=dict)
    judge: Annotated[dict[str, Any] | None, "judge engine for judged benchmarks (model, or endpoint and "
                                            "model_name)"] = None
    options: Annotated[dict[str, dict[str, Any]], "benchmark → its own options (`jacode eval list --json`), e.g. "
                                                  "jmt-bench: {parse_mode: strict}"] = field(default_factory=dict)
    workers: Annotated[int, "parallel sandboxed executions"] = 2
    timeout_s: Annotated[float, "wall-clock seconds per sample (execution benchmarks)"] = 10.0
    time_limit: Annotated[str, "fixed (timeout_s for every sample) or reference[,min=S,factor=X] (per-task "
                               "limits from the reference solution's time, evalplus's formula; Python function "
                               "benchmarks)"] = "fixed"
    engine: Annotated[Literal["transformers", "vllm"] | None, "engine for local models (default transformers; "
                                                             "vllm on a GPU machine)"] = None
    concurrency: Annotated[int, "requests in flight to a served model"] = 8
    serve: Annotated[Literal["jacode", "vllm"] | None, "serve each local model for the stage (vllm: continuous "
                                                        "batching on a GPU) and evaluate it through the server"] = None
    allow_partial: Annotated[bool, "a benchmark that fails does not fail the stage (it is reported)"] = False

    def check(self) -> list[tuple[str, str]]:
        """What each benchmark can check without a model or its data's contents: settings, judge, data given."""
        from jacode.evals import time_limits
        from jacode.evals.registry import BENCHMARKS
        from jacode.evals.run import preflight_problems

        problems = [("time_limit", p.replace("--time-limit ", "")) for p in time_limits.problems(
            self.time_limit, [BENCHMARKS[name] for name in self.benchmarks if name in BENCHMARKS])]
        if not self.timeout_s > 0:
            problems.append(("timeout_s", f"must be > 0 seconds (got {self.timeout_s!r})"))
        # Unknown names are reported by the recipe (with their line); the settings apply to every benchmark.
        return problems + [(key, problem) for name in self.benchmarks if name in BENCHMARKS
                           for key, problem in preflight_problems(BENCHMARKS[name], settings=self.settings or None,
                                                                  judge=self.judge, options=self.options.get(name),
                                                                  data=self.data.get(name))]


def run_eval(cfg: EvalStageConfig, out: Path) -> dict:
    """Every model × benchmark; a failure is a failure (the stage fails unless allow_partial), never a skip."""
    from contextlib import ExitStack

    from jacode.evals.run import SCORE_COLUMNS, run_benchmark, score_row

    models = cfg.models if isinstance(cfg.models, dict) else {"model": cfg.models}
    rows, failures, evaluations = [], [], []
    for label, model in models.items():
        with ExitStack() as stack:
            if cfg.serve and not isinstance(model, ServedModel):  # started for this model, stopped after it
                from jacode.engines.launch import served
                from jacode.models.resolve import resolve_model

                url = stack.enter_context(served(str(resolve_model(model)), cfg.serve, label))
                model = ServedModel(endpoint=url, model_name=label)
            where = {"endpoint": model.endpoint, "model_name": model.model_name} \
                if isinstance(model, ServedModel) else {"model": model, "engine": cfg.engine}
            for bench in cfg.benchmarks:
                try:
                    r = run_benchmark(bench, out / label / bench, **where, data=cfg.data.get(bench),
                                      limit=cfg.limit, judge=cfg.judge, settings=cfg.settings or None,
                                      options=cfg.options.get(bench), workers=cfg.workers,
                                      concurrency=cfg.concurrency, timeout_s=cfg.timeout_s,
                                      time_limit=cfg.time_limit)
                except JacodeError as e:
                    failures.append(f"{label} on {bench}: {str(e).splitlines()[0]}")
                    print(f"FAILED {failures[-1]}", flush=True)
                    rows.append([label, bench, *[None] * len(SCORE_COLUMNS), "failed"])
                    continue
                rows.append([label, bench, *score_row(r), "done"])
                evaluations.append({"model": label, "dir": f"{label}/{bench}"})  # relative: the report compares
                print(json.dumps({"model": label, "benchmark": bench, "scores": r.get("scores")},
                                 ensure_ascii=False), flush=True)
    done = len(rows) - len(failures)
    summary = {"text": f"{done} of {len(rows)} (model, benchmark) runs done"
                       + (f", {len(failures)} failed: " + "; ".join(failures) if failures else ""),
               "metrics": {f"{r[0]}/{r[1]}/{r[2]}": r[3] for r in rows if r[3] is not None},
               "tables": [{"title": "evaluation", "columns": ["model", "benchmark", *SCORE_COLUMNS, "status"],
                           "rows": rows}],
               "evaluations": evaluations}
    if failures:
        if not cfg.allow_partial or not done:
            raise JacodeError(f"eval: {summary['text']}")
        summary["status"] = "partial"
    return summary


def run_compare(cfg, out: Path) -> dict:
    from jacode.evals.pairwise import compare

    r = compare(cfg, out)
    lo, hi = r["ci95"]
    return {"text": f"after vs before on {r['questions']} questions: {r['wins']} wins, {r['ties']} ties, "
                    f"{r['losses']} losses; win rate {r['win_rate']:.3f} (95% CI {lo:.3f}–{hi:.3f}); "
                    f"judge failures {r['judge_failures']}",
            "metrics": {"win_rate": r["win_rate"]},
            "tables": [{"title": "pairwise judgment (after vs before)",
                        "columns": ["questions", "wins", "ties", "losses", "win rate", "95% CI", "judge failures",
                                    "empty answers (before/after)"],
                        "rows": [[r["questions"], r["wins"], r["ties"], r["losses"], round(r["win_rate"], 3),
                                  f"{lo:.3f}–{hi:.3f}", r["judge_failures"],
                                  f"{r['empty_answers']['before']}/{r['empty_answers']['after']}"]]}]}


@dataclass
class ReportConfig:
    """One self-contained HTML report of the whole run."""

    __pydantic_config__ = STRICT
    title: Annotated[str | None, "the report's title"] = None
    baselines: Annotated[dict[str, dict[str, float]], "published scores: NAME → {benchmark: score}"] = \
        field(default_factory=dict)


def run_report(cfg: ReportConfig, out: Path) -> dict:
    from jacode.report import build_report

    path = build_report(out.parent, out / "report.html", title=cfg.title, baselines=cfg.baselines or None)
    return {"text": f"report: {path.name}"}


# ---- the table --------------------------------------------------------------------------------------------------
KINDS: dict[str, StageKind] = {k.name: k for k in [
    StageKind("data", "raw code and text → filtered, deduplicated documents (datatrove)",
              "jacode.data.pipeline:DataStageConfig", run_data, output="data", paths=("readers[].path",),
              command="jacode data run"),
    StageKind("tokenizer", "SentencePiece + MeCab tokenizer for Japanese, English and code",
              "jacode.tokenizer.train:TokenizerConfig", run_tokenizer, paths=("inputs[]",),
              command="jacode tokenizer train"),
    StageKind("compare", "two models' answers judged pairwise, both orders (before vs after training)",
              "jacode.evals.pairwise:CompareConfig", run_compare, paths=("questions",),
              command="jacode eval compare"),
    StageKind("model", "a random-weight Llama model from a preset", "jacode.models.init:ModelConfig", run_model,
              paths=("tokenizer",), command="jacode model init", architecture="LlamaForCausalLM"),
    StageKind("pretrain", "continual pretraining with fill-in-the-middle and packing",
              "jacode.train.pretrain:PretrainConfig", run_pretrain, output="final",
              paths=("model", "data[]", "tokenizer"), command="jacode train pretrain"),
    StageKind("sft", "supervised fine-tuning (TRL), full or LoRA", "jacode.train.sft:SFTRunConfig", run_sft,
              output="final", paths=("model", "data[]", "fim_data[]"), command="jacode train sft"),
    StageKind("dpo", "direct preference optimization (TRL), full or LoRA", "jacode.train.dpo:DPORunConfig", run_dpo,
              output="final", paths=("model", "data[]"), command="jacode train dpo"),
    StageKind("merge", "chat vector or task arithmetic / TIES, streamed tensor by tensor",
              "jacode.surgery.config:MergeStageConfig", run_merge,
              paths=("base", "target", "instruct", "vectors[].model", "template_from"),
              command="jacode merge chat-vector | task-arithmetic"),
    StageKind("upcycle", "dense → Mixtral-style MoE (experts copy the MLP)",
              "jacode.surgery.config:UpcycleStageConfig", run_upcycle, paths=("model",), command="jacode upcycle",
              architecture="MixtralForCausalLM"),
    StageKind("synth", "synthetic instructions (Magpie, personas), scored into SFT/DPO sets",
              "jacode.stages:SynthStageConfig", run_synth, paths=("model", "judge_model", "reward_model", "problems"),
              command="jacode synth"),
    StageKind("eval", "models × benchmarks (code execution, judged, metric)", "jacode.stages:EvalStageConfig",
              run_eval, paths=("models", "models{}", "data{}"), benchmarks=("benchmarks[]",),
              command="jacode eval run"),
    StageKind("report", "one HTML report of the run", "jacode.stages:ReportConfig", run_report,
              command="jacode report"),
]}


def get_kind(name: str) -> StageKind:
    if name not in KINDS:
        raise JacodeError(f"unknown stage kind {name!r} (known: {', '.join(KINDS)})")
    return KINDS[name]


def main() -> None:
    from jacode.config import validate
    from jacode.manifest import run_stage
    from jacode.progress import quiet_library_bars

    quiet_library_bars()  # a stage's output is its log file

    job = json.loads(Path(sys.argv[1]).read_text())
    kind = get_kind(job["kind"])
    out = Path(job["out"])
    out.mkdir(parents=True, exist_ok=True)
    try:
        cfg = validate(kind.config_class(), job["config"])
        run_stage(kind, cfg, out, name=job.get("name"), fingerprint=job.get("fingerprint"),
                  upstream_runs=job.get("upstream_runs"), run_dir=Path(job["run_dir"]) if job.get("run_dir") else None,
                  raw_config=job.get("raw_config"))
    except JacodeError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy: config classes are imported as jacode.stages.X,
    # and isinstance checks against __main__.X would fail.
    import jacode.stages

    jacode.stages.main()
