"""`jacode serve MODEL`: an OpenAI-compatible server over the transformers engine.

What evaluation, synthesis and arena clients use: GET /v1/models, POST /v1/completions and
POST /v1/chat/completions with n, temperature, top_p, max_tokens, stop, seed; `stream: true` (server-sent events,
token by token for chat); on completions a list of prompts (strings or token ids), `echo` and `logprobs` (what
lm-evaluation-harness's loglikelihood tasks send: echo, logprobs=1, max_tokens 0 or 1); `usage` with prompt and
completion tokens. One request generates at a time (the model is not re-entrant): run vLLM's server for throughput.

Log-probabilities come from one teacher-forced forward pass over the prompt and the generated tokens (EOS
included, as vLLM returns it; lm-evaluation-harness drops the last token of an echoed prompt + 1 generated
token); prompts are tokenized without added special tokens, as the engine generates from them.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import uuid
from typing import Any

from jacode.engines.base import Engine, Request, SamplingParams

MAX_TOP_LOGPROBS = 20


def _params(body: dict[str, Any], default_max: int = 16) -> SamplingParams:
    stop = body.get("stop") or []
    if isinstance(stop, str):
        stop = [stop]
    max_tokens = body.get("max_tokens", body.get("max_completion_tokens"))
    return SamplingParams(
        temperature=float(body.get("temperature", 1.0) if body.get("temperature") is not None else 1.0),
        top_p=float(body.get("top_p") or 1.0),
        max_new_tokens=int(default_max if max_tokens is None else max_tokens),
        stop=tuple(stop), seed=int(body.get("seed") or 0),
    )


def _prompts(body: dict[str, Any]) -> list[str | list[int]]:
    """The completions API's prompt forms: a string, a list of strings, token ids, or a list of token-id lists."""
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        return [prompt]
    if isinstance(prompt, list) and prompt and all(isinstance(t, int) for t in prompt):
        return [prompt]
    if isinstance(prompt, list) and prompt and all(
            isinstance(p, str) or (isinstance(p, list) and p and all(isinstance(t, int) for t in p)) for p in prompt):
        return prompt
    raise ValueError("prompt must be a string, a list of strings, a list of token ids or a list of such lists")


def _logprobs_block(scored: list[tuple[str, float | None, dict[str, float]]], offset0: int) -> dict[str, list]:
    """The legacy completions `logprobs` object for these tokens (text offsets from offset0)."""
    offsets, at = [], offset0
    for token, _, _ in scored:
        offsets.append(at)
        at += len(token)
    return {"tokens": [t for t, _, _ in scored], "token_logprobs": [lp for _, lp, _ in scored],
            "top_logprobs": [top or None for _, _, top in scored], "text_offset": offsets}


def _sse(obj: dict | str) -> str:
    return f"data: {obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)}\n\n"


def build_app(engine: Engine, served_name: str):
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import StreamingResponse

    app = FastAPI(title="jacode serve")
    lock = threading.Lock()

    def check_model(body: dict) -> None:
        if body.get("model") not in (None, served_name):
            raise HTTPException(404, f"model {body.get('model')!r} not served here; this server has {served_name!r}")

    def envelope(kind: str, choices: list[dict], usage: dict | None = None) -> dict:
        prefix = "chatcmpl" if kind.startswith("chat.completion") else "cmpl"
        out = {"id": f"{prefix}-{uuid.uuid4().hex}", "object": kind, "created": int(time.time()),
               "model": served_name, "choices": choices}
        if usage is not None:
            out["usage"] = usage
        return out

    def usage(prompt_tokens: int, completion_tokens: int) -> dict:
        return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens}

    def n_of(body: dict) -> int:
        n = int(body.get("n") or 1)
        if n < 1:
            raise HTTPException(400, "n must be >= 1")
        return n

    @app.get("/v1/models")
    def models() -> dict:
        return {"object": "list", "data": [{"id": served_name, "object": "model", "owned_by": "jacode"}]}

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.post("/v1/completions")
    def completions(body: dict[str, Any]):
        check_model(body)
        try:
            prompts = _prompts(body)
        except ValueError as e:
            raise HTTPException(400, str(e)) from None
        params, n = _params(body), n_of(body)
        echo, top = bool(body.get("echo")), body.get("logprobs")
        if top is not None and (not isinstance(top, int) or not 0 <= top <= MAX_TOP_LOGPROBS):
            raise HTTPException(400, f"logprobs must be an integer from 0 to {MAX_TOP_LOGPROBS}")
        if params.max_new_tokens < 0 or (params.max_new_tokens == 0 and not echo):
            raise HTTPException(400, "max_tokens must be >= 1 (0 only with echo: score the prompt)")
        tok = getattr(engine, "tokenizer", None)
        if (top is not None or any(not isinstance(p, str) for p in prompts)) and tok is None:
            raise HTTPException(400, f"engine {engine.name} cannot give logprobs or take token ids")
        choices, prompt_tokens, completion_tokens = [], 0, 0
        with lock:
            for p in prompts:
                ids = p if isinstance(p, list) else (engine.encode(p) if tok is not None else None)
                text = p if isinstance(p, str) else tok.decode(ids)
                prompt_tokens += len(ids) if ids is not None else 0
                if params.max_new_tokens == 0:
                    outs = [("", "length", 0, [])] * n
                else:
                    outs = [(c.text, c.finish_reason, c.tokens or 0, c.extra.get("token_ids"))
                            for c in engine.generate([Request(prompt=text, n=n)], params)[0]]
                for completion, finish, n_tokens, new_ids in outs:
                    completion_tokens += n_tokens
                    choice = {"index": len(choices), "text": (text if echo else "") + completion,
                              "finish_reason": finish, "logprobs": None}
                    if top is not None:
                        if new_ids is None:
                            new_ids = engine.encode(completion)
                        scored = engine.token_logprobs(list(ids) + list(new_ids), top)
                        kept = scored if echo else scored[len(ids):]
                        choice["logprobs"] = _logprobs_block(kept, 0 if echo else len(text))
                    choices.append(choice)
        result = envelope("text_completion", choices, usage(prompt_tokens, completion_tokens))
        if not body.get("stream"):
            return result

        def events():  # generated already (as vLLM does for n > 1 or echo): one event per choice, then done
            for choice in result["choices"]:
                yield _sse({**result, "choices": [choice]})
            yield _sse("[DONE]")

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.post("/v1/chat/completions")
    def chat(body: dict[str, Any]):
        check_model(body)
        messages = body.get("messages")
        if not isinstance(messages, list) or not all(isinstance(m, dict) and "role" in m for m in messages):
            raise HTTPException(400, "messages must be a list of {role, content}")
        params, n = _params(body, default_max=512), n_of(body)
        if params.max_new_tokens < 1:
            raise HTTPException(400, "max_tokens must be >= 1")
        if body.get("stream"):
            if n != 1:
                raise HTTPException(400, "stream: true takes n = 1")
            return StreamingResponse(chat_events(messages, params), media_type="text/event-stream")
        with lock:
            outs = engine.generate([Request(messages=messages, n=n)], params)[0]
            prompt_tokens = _chat_prompt_tokens(messages)
        choices = [{"index": i, "finish_reason": o.finish_reason,
                    "message": {"role": "assistant", "content": o.text}} for i, o in enumerate(outs)]
        return envelope("chat.completion", choices, usage(prompt_tokens, sum(o.tokens or 0 for o in outs)))

    def _chat_prompt_tokens(messages: list[dict]) -> int:
        render, encode = getattr(engine, "render", None), getattr(engine, "encode", None)
        return len(encode(render(Request(messages=messages)))) if render and encode else 0

    def chat_events(messages: list[dict], params: SamplingParams):
        """Token by token while the lock is held; a client that leaves stops the generation (the generator is
        closed, the engine's stream cancels)."""
        cid = f"chatcmpl-{uuid.uuid4().hex}"

        def chunk(delta: dict, finish: str | None = None, **extra) -> str:
            return _sse({"id": cid, "object": "chat.completion.chunk", "created": int(time.time()),
                         "model": served_name, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                         **extra})

        with lock:
            yield chunk({"role": "assistant", "content": ""})
            text = ""
            for piece in engine.stream(messages, params):
                text += piece
                yield chunk({"content": piece})
            encode = getattr(engine, "encode", None)
            n_tokens = len(encode(text)) if encode else 0
            prompt_tokens = _chat_prompt_tokens(messages)
        finish = "length" if n_tokens >= params.max_new_tokens else "stop"
        yield chunk({}, finish, usage=usage(prompt_tokens, n_tokens))
        yield _sse("[DONE]")

    return app


def serve(model: str, host: str, port: int, served_name: str | None = None, batch_size: int = 8) -> None:
    """Load the model, bind the port, say where it listens (port 0: any free port), then serve until stopped."""
    import uvicorn

    from jacode.engines.transformers import TransformersEngine

    engine = TransformersEngine(model, batch_size=batch_size)
    name = served_name or engine.model_name
    app = build_app(engine, name)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    # Bound before this line is printed: a client (or a recipe stage) that reads it can connect at once.
    print(f"jacode serve: listening on http://{shown}:{bound}/v1 (model {name!r}; Ctrl-C stops)", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=3))
    server.run(sockets=[sock])
    sys.stdout.flush()
