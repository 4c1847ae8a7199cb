"""Generation engines: transformers (local), openai (any OpenAI-compatible server), vllm (optional)."""

from __future__ import annotations

from jacode.engines.base import Completion, Engine, EngineError, Request, SamplingParams, generate_with_progress

__all__ = ["Completion", "Engine", "EngineError", "Request", "SamplingParams", "engine_from_options", "engine_kind",
           "generate_with_progress", "make_engine"]


def make_engine(kind: str, *, model: str | None = None, endpoint: str | None = None,
                model_name: str | None = None, **options) -> Engine:
    """Build an engine by name. Heavy libraries (torch, vllm) are imported only by the engine that needs them."""
    if kind == "transformers":
        from jacode.engines.transformers import TransformersEngine

        return TransformersEngine(model, **options)
    if kind == "openai":
        from jacode.engines.openai import OpenAIEngine

        return OpenAIEngine(endpoint, model_name or model or "", **options)
    if kind == "vllm":
        from jacode.engines.vllm import VLLMEngine

        return VLLMEngine(model, **options)
    raise EngineError(f"unknown engine {kind!r}: transformers, openai or vllm")


def engine_kind(kind: str | None, endpoint: str | None) -> str:
    """The commands' rule: --engine if given, else openai when there is an --endpoint, else a local model."""
    return kind or ("openai" if endpoint else "transformers")


def engine_from_options(model: str | None, endpoint: str | None, model_name: str | None, kind: str | None = None,
                        concurrency: int = 8, batch_size: int | None = None) -> Engine:
    """An engine by engine_kind's rule. `concurrency` is for servers (requests in flight), `batch_size` for
    transformers (rows per forward pass)."""
    kind = engine_kind(kind, endpoint)
    options = {"concurrency": concurrency} if kind == "openai" else {}
    if kind == "transformers" and batch_size:
        options["batch_size"] = batch_size
    return make_engine(kind, model=model, endpoint=endpoint, model_name=model_name, **options)
