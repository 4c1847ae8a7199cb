"""`jacode serve MODEL`: a small OpenAI-compatible server over the transformers engine.

Enough of the API for evaluation and synthesis clients: GET /v1/models, POST /v1/completions and
POST /v1/chat/completions (n, temperature, top_p, max_tokens, stop, seed). One request generates at a time
(the model is not re-entrant); run vLLM's server for throughput.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from jacode.engines.base import Engine, Request, SamplingParams


def _params(body: dict[str, Any]) -> SamplingParams:
    stop = body.get("stop") or []
    if isinstance(stop, str):
        stop = [stop]
    return SamplingParams(
        temperature=float(body.get("temperature", 1.0) if body.get("temperature") is not None else 1.0),
        top_p=float(body.get("top_p") or 1.0),
        max_new_tokens=int(body.get("max_tokens") or body.get("max_completion_tokens") or 16),
        stop=tuple(stop), seed=int(body.get("seed") or 0),
    )


def build_app(engine: Engine, served_name: str):
    from fastapi import FastAPI, HTTPException

    app = FastAPI(title="jacode serve")
    lock = threading.Lock()

    def check_model(body: dict) -> None:
        if body.get("model") not in (None, served_name):
            raise HTTPException(404, f"model {body.get('model')!r} not served here; this server has {served_name!r}")

    def respond(body: dict, req: Request, kind: str, choice) -> dict:
        """Generate under the lock and wrap the outputs in the OpenAI response envelope."""
        with lock:
            outs = engine.generate([req], _params(body))[0]
        prefix = "chatcmpl" if kind == "chat.completion" else "cmpl"
        return {
            "id": f"{prefix}-{uuid.uuid4().hex}", "object": kind, "created": int(time.time()), "model": served_name,
            "choices": [{"index": i, "finish_reason": o.finish_reason, **choice(o)} for i, o in enumerate(outs)],
            "usage": {"completion_tokens": sum(o.tokens or 0 for o in outs)},
        }

    @app.get("/v1/models")
    def models() -> dict:
        return {"object": "list", "data": [{"id": served_name, "object": "model", "owned_by": "jacode"}]}

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.post("/v1/completions")
    def completions(body: dict[str, Any]) -> dict:
        check_model(body)
        prompt = body.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1:
            prompt = prompt[0]
        if not isinstance(prompt, str):
            raise HTTPException(400, "prompt must be a string")
        req = Request(prompt=prompt, n=int(body.get("n") or 1))
        return respond(body, req, "text_completion", lambda o: {"text": o.text, "logprobs": None})

    @app.post("/v1/chat/completions")
    def chat(body: dict[str, Any]) -> dict:
        check_model(body)
        messages = body.get("messages")
        if not isinstance(messages, list) or not all(isinstance(m, dict) and "role" in m for m in messages):
            raise HTTPException(400, "messages must be a list of {role, content}")
        req = Request(messages=messages, n=int(body.get("n") or 1))
        return respond(body, req, "chat.completion",
                       lambda o: {"message": {"role": "assistant", "content": o.text}})

    return app


def serve(model: str, host: str, port: int, served_name: str | None = None, batch_size: int = 8) -> None:
    import uvicorn

    from jacode.engines.transformers import TransformersEngine

    engine = TransformersEngine(model, batch_size=batch_size)
    app = build_app(engine, served_name or engine.model_name)
    uvicorn.run(app, host=host, port=port, log_level="warning")
