"""`jacode eval generate`: prompts -> DIR/generations.jsonl, resumable record by record.

The config that shaped the generations is written to DIR/generation_config.json; re-running with the same
config generates only missing samples; a different config is refused rather than silently mixed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jacode.engines import Engine, EngineError, Request, SamplingParams, engine_from_options, engine_kind
from jacode.errors import JacodeError
from jacode.evals.registry import Benchmark, GenSettings, execution_benchmark, load_problems
from jacode.io import JsonlAppender, read_jsonl, refuse_changed_config, write_json
from jacode.progress import progress

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
    # Overrides of the benchmark's generation settings (jacode.evals.registry), key by key; None values and
    # missing keys mean the benchmark's default, so every entry point generates the same way unless told not to.
    settings: Mapping[str, Any] | None = None
    options: Mapping[str, Any] | None = None  # benchmark-specific options (FIM: fim_tokens, fim_order)
    limit: int | None = None  # first N tasks only (smoke runs, the demo)
    batch_size: int = 8  # prompts per engine call (transformers: rows per forward pass)
    concurrency: int = 8  # requests in flight (openai engine)

    def resolved_engine(self) -> str:
        return engine_kind(self.engine, self.endpoint)

    def resolved(self) -> tuple[Benchmark, GenSettings, dict[str, Any]]:
        """The benchmark, its generation settings with the overrides applied, its options: validated."""
        bench = execution_benchmark(self.benchmark)
        return bench, bench.settings.resolve(self.settings, bench), bench.resolve_options(self.options)

    def identity(self) -> dict[str, Any]:
        """What changes the generations (batch size and concurrency do not): generation_config.json."""
        _, settings, options = self.resolved()
        return {"benchmark": self.benchmark, "model": self.model, "endpoint": self.endpoint,
                "model_name": self.model_name, "engine": self.resolved_engine(), "data": self.data,
                "limit": self.limit, **settings.as_dict(), "options": options}


def open_engine(model: str | None, endpoint: str | None, model_name: str | None, kind: str | None,
                *, batch_size: int = 8, concurrency: int = 8, role: str = "model") -> Engine:
    """The one place an evaluation engine is built (answers and judges alike). A server that cannot be reached
    fails here, before any work, instead of after the engine's retries on the first request."""
    if not (model or endpoint):
        raise JacodeError(f"give the {role} as --model PATH (local) or --endpoint URL --model-name NAME (server)")
    if endpoint:
        check_reachable(endpoint, role)
    try:
        return engine_from_options(model, endpoint, model_name, kind, concurrency=concurrency, batch_size=batch_size)
    except JacodeError:
        raise
    except Exception as e:  # noqa: BLE001 — torch, transformers and vllm raise many types for "cannot load"
        raise EngineError(f"{role} {model or endpoint}: could not be loaded: {type(e).__name__}: {e}") from e


def check_reachable(endpoint: str, role: str = "model") -> None:
    """Any HTTP answer counts (some servers answer 404 or 405 here); only no answer at all is an error."""
    import httpx

    try:
        httpx.get(endpoint, timeout=10)
    except (httpx.HTTPError, httpx.InvalidURL) as e:
        raise EngineError(f"{role} endpoint {endpoint} cannot be reached: {type(e).__name__}: {e}") from e


def validate(cfg: GenerateConfig) -> None:
    cfg.resolved()
    if not (cfg.model or cfg.endpoint):
        raise JacodeError("give --model PATH (local) or --endpoint URL --model-name NAME (server)")
    if cfg.limit is not None and cfg.limit < 1:
        raise JacodeError(f"--limit must be >= 1, not {cfg.limit!r}")


def build_request(bench: Benchmark, problem: dict[str, Any], mode: str, n: int,
                  options: Mapping[str, Any] | None = None) -> Request:
    if mode == "base":
        prompt = bench.base_prompt(problem, options or {}) if bench.base_prompt else problem["prompt"]
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
    bench, settings, options = cfg.resolved()
    problems = load_problems(bench, cfg.data, options)
    tasks = select_tasks(problems, cfg.limit)
    check_config(out, cfg)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / GEN_CONFIG, {**cfg.identity(), "task_ids": tasks})
    gen_path = out / GENERATIONS
    have = existing_counts(gen_path)
    todo = [(t, settings.n - have.get(t, 0)) for t in tasks if have.get(t, 0) < settings.n]
    total_missing = sum(k for _, k in todo)
    if not todo:
        print(f"{gen_path}: all {len(tasks) * settings.n} samples already generated")
        return gen_path
    own_engine = engine is None
    if own_engine:
        engine = open_engine(cfg.model, cfg.endpoint, cfg.model_name, cfg.engine, batch_size=cfg.batch_size,
                             concurrency=cfg.concurrency)
    base = settings.mode == "base"
    params = SamplingParams(temperature=settings.temperature, top_p=settings.top_p,
                            max_new_tokens=settings.max_new_tokens, stop=settings.stop if base else (),
                            seed=settings.seed)
    try:
        with JsonlAppender(gen_path) as writer, progress(total_missing, f"generate {bench.name}",
                                                         "sample") as bar:
            for start in range(0, len(todo), cfg.batch_size):
                chunk = todo[start:start + cfg.batch_size]
                requests = [build_request(bench, problems[t], settings.mode, k, options) for t, k in chunk]
                results = engine.generate(requests, params, progress=bar.update)
                for (task_id, _), req, outs in zip(chunk, requests, results):
                    for c in outs:
                        problem = problems[task_id]
                        completion = bench.from_base(problem, c.text) if base else bench.from_chat(problem, c.text)
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
