"""Generation engines: transformers (local), openai (any OpenAI-compatible server), vllm (optional)."""

from __future__ import annotations

from jacode.engines.base import Completion, Engine, EngineError, Request, SamplingParams

__all__ = ["Completion", "Engine", "EngineError", "Request", "SamplingParams", "make_engine"]


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
