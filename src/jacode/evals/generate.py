"""`jacode eval generate`: prompts -> DIR/generations.jsonl, resumable record by record.

The config that shaped the generations is written to DIR/generation_config.json; re-running with the same
config generates only missing samples; a different config is refused rather than silently mixed in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from jacode.engines import Engine, Request, SamplingParams, make_engine
from jacode.errors import JacodeError
from jacode.evals.registry import Benchmark, get_benchmark, load_problems
from jacode.io import JsonlAppender, read_jsonl, refuse_changed_config, write_json

GENERATIONS = "generations.jsonl"
GEN_CONFIG = "generation_config.json"


@dataclass
class GenerateConfig:
    benchmark: str
    model: str | None = None
    endpoint: str | None = None
    model_name: str | None = None
    engine: str | None = None  # transformers | openai | vllm; inferred when None
    data: str | None = None
    n: int = 1
    temperature: float = 0.0
    top_p: float = 0.95
    max_new_tokens: int = 512
    mode: str = "base"  # base | chat
    seed: int = 0
    limit: int | None = None  # first N tasks only (smoke runs, the demo)
    fim_tokens: str | None = None  # "PREFIX,SUFFIX,MIDDLE" sentinels for FIM benchmarks
    fim_order: str = "psm"  # psm | spm
    batch_size: int = 8  # prompts per engine call (transformers: rows per forward pass)
    engine_options: dict[str, Any] = field(default_factory=dict)

    def resolved_engine(self) -> str:
        if self.engine:
            return self.engine
        return "openai" if self.endpoint else "transformers"

    def identity(self) -> dict[str, Any]:
        """The fields that change what is generated (batch size and engine options do not)."""
        d = asdict(self)
        for k in ("batch_size", "engine_options"):
            d.pop(k)
        d["engine"] = self.resolved_engine()
        return d


def validate(cfg: GenerateConfig) -> None:
    if cfg.mode not in ("base", "chat"):
        raise JacodeError(f"--mode must be base or chat, not {cfg.mode!r}")
    if cfg.n < 1:
        raise JacodeError("--n must be at least 1")
    if cfg.temperature == 0 and cfg.n > 1:
        raise JacodeError("--n > 1 with --temperature 0 gives n identical greedy samples; set a temperature")
    if not (cfg.model or cfg.endpoint):
        raise JacodeError("give --model PATH (local) or --endpoint URL --model-name NAME (server)")


def build_request(bench: Benchmark, problem: dict[str, Any], mode: str, n: int,
                  cfg: GenerateConfig | None = None) -> Request:
    if mode == "base":
        prompt = bench.base_prompt(problem, cfg) if bench.base_prompt else problem["prompt"]
        return Request(prompt=prompt, n=n)
    return Request(messages=[{"role": "user", "content": bench.instruction(problem)}], n=n)


def select_tasks(problems: dict[str, dict], limit: int | None) -> list[str]:
    ids = list(problems)
    return ids[:limit] if limit else ids


def existing_counts(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    if path.exists():
        for rec in read_jsonl(path, skip_torn_tail=True):
            counts[rec["task_id"]] = counts.get(rec["task_id"], 0) + 1
    return counts


def check_config(out: Path, cfg: GenerateConfig) -> None:
    refuse_changed_config(out / GEN_CONFIG, cfg.identity(), "generations")


def generate(cfg: GenerateConfig, out: str | Path, engine: Engine | None = None) -> Path:
    validate(cfg)
    out = Path(out)
    bench = get_benchmark(cfg.benchmark)
    problems = load_problems(bench, cfg.data)
    tasks = select_tasks(problems, cfg.limit)
    check_config(out, cfg)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / GEN_CONFIG, {**cfg.identity(), "task_ids": tasks})
    gen_path = out / GENERATIONS
    have = existing_counts(gen_path)
    todo = [(t, cfg.n - have.get(t, 0)) for t in tasks if have.get(t, 0) < cfg.n]
    total_missing = sum(k for _, k in todo)
    if not todo:
        print(f"{gen_path}: all {len(tasks) * cfg.n} samples already generated")
        return gen_path
    own_engine = engine is None
    if own_engine:
        engine = make_engine(cfg.resolved_engine(), model=cfg.model, endpoint=cfg.endpoint,
                             model_name=cfg.model_name, **cfg.engine_options)
    stop = tuple(bench.stop) if cfg.mode == "base" else ()
    params = SamplingParams(temperature=cfg.temperature, top_p=cfg.top_p, max_new_tokens=cfg.max_new_tokens,
                            stop=stop, seed=cfg.seed)
    try:
        with JsonlAppender(gen_path) as writer, tqdm(total=total_missing, desc=f"generate {bench.name}",
                                                     unit="sample") as bar:
            for start in range(0, len(todo), cfg.batch_size):
                chunk = todo[start:start + cfg.batch_size]
                requests = [build_request(bench, problems[t], cfg.mode, k, cfg) for t, k in chunk]
                results = engine.generate(requests, params, progress=bar.update)
                for (task_id, _), req, outs in zip(chunk, requests, results):
                    for c in outs:
                        problem = problems[task_id]
                        completion = (bench.from_base(problem, c.text) if cfg.mode == "base"
                                      else bench.from_chat(problem, c.text))
                        writer.write({
                            "task_id": task_id, "sample": have.get(task_id, 0),
                            "prompt": req.prompt if req.prompt is not None else req.messages,
                            "completion": completion, "raw": c.text, "finish_reason": c.finish_reason,
                            "engine": engine.name, "model": engine.model_name, "params": params.as_dict(),
                        })
                        have[task_id] = have.get(task_id, 0) + 1
    finally:
        if own_engine:
            engine.close()
    return gen_path
