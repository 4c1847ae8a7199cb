"""What each recipe stage kind does, run as `python -m jacode.stages STAGE.json` (a process per stage: its own log,
and a crash of one stage cannot take the runner down). Each function takes the resolved config and the stage
directory; the stage commands are the same code as the `jacode` subcommands, so they resume the same way.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from jacode.errors import JacodeError


def _fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _known(kind: str) -> set[str] | None:
    """Config keys a stage kind accepts (None: anything, checked by the stage itself)."""
    if kind == "data":
        from jacode.data.pipeline import DataConfig

        return set(DataConfig.model_fields) - {"output"} | {"workers"}
    if kind == "tokenizer":
        from jacode.tokenizer.train import TokenizerConfig

        return _fields(TokenizerConfig)
    if kind == "model":
        return {"size", "tokenizer", "seed", "vocab_size"}
    if kind == "pretrain":
        from jacode.train.pretrain import PretrainConfig

        return _fields(PretrainConfig)
    if kind == "sft":
        from jacode.train.sft import SFTRunConfig

        return _fields(SFTRunConfig)
    if kind == "dpo":
        from jacode.train.dpo import DPORunConfig

        return _fields(DPORunConfig)
    if kind == "merge":
        return {"base", "instruct", "target", "scale", "vectors", "method", "density"}
    if kind == "upcycle":
        from jacode.surgery.upcycle import UpcycleConfig

        return _fields(UpcycleConfig) - {"sample_texts"} | {"model"}
    if kind == "synth":
        return {"method", "model", "n", "responses", "system", "japanese_filter", "max_new_tokens", "judge_model",
                "seed", "keep_truncated", "reward_model", "min_margin"}
    if kind == "eval":
        return {"models", "benchmarks", "limit", "max_new_tokens", "data", "workers"}
    if kind == "report":
        return {"title", "baselines"}
    return None


REQUIRED = {"tokenizer": ("inputs",), "model": ("size",), "pretrain": ("model", "data"), "sft": ("model", "data"),
            "dpo": ("model", "data"), "merge": ("base", "target"), "upcycle": ("model",),
            "synth": ("method", "model"), "eval": ("models", "benchmarks"), "data": ("readers",)}


def check_config(kind: str, config: dict) -> tuple[str | None, str] | None:
    known = _known(kind)
    if known is not None:
        for key in config:
            if key not in known:
                return key, f"unknown key {key!r} (known: {', '.join(sorted(known))})"
    for key in REQUIRED.get(kind, ()):
        if key not in config:
            return None, f"missing required key {key!r}"
    return None


# ---- the stages -------------------------------------------------------------------------------------------------


def stage_data(cfg: dict, out: Path) -> None:
    from jacode.data.pipeline import DataConfig, run

    workers = cfg.pop("workers", 2)
    result = run(DataConfig.model_validate({**cfg, "output": str(out)}), executor="local", workers=workers)
    print(json.dumps(result["languages"], ensure_ascii=False))


def stage_tokenizer(cfg: dict, out: Path) -> None:
    from jacode.tokenizer.train import TokenizerConfig, train_tokenizer

    report = train_tokenizer(TokenizerConfig(**cfg), out)
    print(json.dumps(report.get("fertility_chars_per_token"), ensure_ascii=False))


def stage_model(cfg: dict, out: Path) -> None:
    from jacode.models.init import init_model

    if not (out / "config.json").exists():
        init_model(out, cfg["size"], seed=cfg.get("seed", 0), tokenizer=cfg.get("tokenizer"),
                   **({"vocab_size": cfg["vocab_size"]} if "vocab_size" in cfg else {}))


def stage_pretrain(cfg: dict, out: Path) -> None:
    from jacode.train.pretrain import PretrainConfig, pretrain

    data = cfg.pop("data")
    pretrain(PretrainConfig(data=data if isinstance(data, list) else [data], **cfg), out)


def stage_sft(cfg: dict, out: Path) -> None:
    from jacode.train.sft import SFTRunConfig, sft

    data = cfg.pop("data")
    sft(SFTRunConfig(data=data if isinstance(data, list) else [data], **cfg), out)


def stage_dpo(cfg: dict, out: Path) -> None:
    from jacode.train.dpo import DPORunConfig, dpo

    data = cfg.pop("data")
    dpo(DPORunConfig(data=data if isinstance(data, list) else [data], **cfg), out)


def stage_merge(cfg: dict, out: Path) -> None:
    from jacode.surgery.merge import MergeConfig, chat_vector, merge

    if "instruct" not in cfg and "vectors" not in cfg:
        raise JacodeError("a merge stage needs `instruct` (chat vector) or `vectors` (task arithmetic)")
    if "instruct" in cfg:
        r = chat_vector(cfg["base"], cfg["instruct"], cfg["target"], out, scale=cfg.get("scale", 1.0))
    else:
        r = merge(MergeConfig(target=cfg["target"], base=cfg["base"],
                              vectors=[(v["model"], v["weight"]) for v in cfg["vectors"]],
                              method=cfg.get("method", "linear"), density=cfg.get("density", 0.2)), out)
    print(json.dumps({k: r[k] for k in ("changed_entries", "vocab_rows_shared", "seconds")}))


def stage_upcycle(cfg: dict, out: Path) -> None:
    from jacode.surgery.upcycle import UpcycleConfig, upcycle

    model = cfg.pop("model")
    print(json.dumps(upcycle(model, out, UpcycleConfig(**cfg)), indent=2))


def stage_synth(cfg: dict, out: Path) -> None:
    from dataclasses import replace

    from transformers import AutoTokenizer

    from jacode.engines import make_engine
    from jacode.synth.generate import GenerateConfig

    engine = make_engine("transformers", model=cfg["model"])
    gc = GenerateConfig(n_responses=cfg.get("responses", 2), seed=cfg.get("seed", 0),
                        japanese=cfg.get("japanese_filter", True), keep_truncated=cfg.get("keep_truncated", False))
    gc.instruction_params = replace(gc.instruction_params, max_new_tokens=cfg.get("max_new_tokens", 64))
    gc.response_params = replace(gc.response_params, max_new_tokens=cfg.get("max_new_tokens", 64))
    if cfg["method"] == "magpie":
        from jacode.synth.magpie import magpie, system_prompts

        candidates = magpie(engine, AutoTokenizer.from_pretrained(cfg["model"]), out, cfg.get("n", 8),
                            system_prompts(cfg.get("system")), gc)
    elif cfg["method"] == "persona":
        from jacode.synth.persona import load_list, persona

        candidates = persona(engine, out, load_list(None, "personas.yaml"), load_list(None, "task_templates.yaml"),
                             cfg.get("n"), gc)
    else:
        raise JacodeError(f"synth method must be magpie or persona, not {cfg['method']!r}")
    if (cfg.get("judge_model") or cfg.get("reward_model")) and any(True for _ in open(candidates, encoding="utf-8")):
        from jacode.synth.scoring import JudgeScorer, RewardScorer, ScoreConfig, score_candidates

        sc = ScoreConfig(min_margin=cfg.get("min_margin", 0.0))
        scorer = (RewardScorer(cfg["reward_model"]) if cfg.get("reward_model")
                  else JudgeScorer(make_engine("transformers", model=cfg["judge_model"]), sc))
        print(json.dumps(score_candidates(candidates, scorer, out / "scored", sc), ensure_ascii=False))
    print((out / "stats.json").read_text())


def stage_eval(cfg: dict, out: Path) -> None:
    """Every model × benchmark; a benchmark whose data is not on this machine is recorded as skipped."""
    from jacode.evals.run import run_benchmark

    results = []
    models = cfg["models"] if isinstance(cfg["models"], dict) else {"model": cfg["models"]}
    for label, model in models.items():
        for bench in cfg["benchmarks"]:
            target = out / label / bench
            try:
                r = run_benchmark(bench, model, target, data=(cfg.get("data") or {}).get(bench),
                                  limit=cfg.get("limit"), max_new_tokens=cfg.get("max_new_tokens", 128),
                                  workers=cfg.get("workers", 2))
                results.append({"model": label, "path": model, "benchmark": bench, "status": "done", **r})
            except JacodeError as e:
                results.append({"model": label, "path": model, "benchmark": bench, "status": "skipped",
                                "reason": str(e).splitlines()[0]})
            print(json.dumps(results[-1], ensure_ascii=False)[:400], flush=True)
    (out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))


def stage_report(cfg: dict, out: Path, run_dir: Path) -> None:
    from jacode.report import build_report

    path = build_report(run_dir, out / "report.html", title=cfg.get("title"), baselines=cfg.get("baselines"))
    print(f"report: {path}")


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    kind, cfg, out = job["kind"], dict(job["config"]), Path(job["out"])
    out.mkdir(parents=True, exist_ok=True)
    try:
        if kind == "report":
            stage_report(cfg, out, Path(job["run_dir"]))
        else:
            globals()[f"stage_{kind}"](cfg, out)
    except JacodeError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
