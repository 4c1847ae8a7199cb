"""Any OpenAI-compatible server (vLLM, TGI, llama.cpp, jacode serve, the OpenAI API itself).

Completions endpoint for base-mode prompts, chat endpoint for messages. Requests run concurrently on a
bounded thread pool; connection errors, timeouts, 429 and 5xx are retried with exponential backoff and
jitter (honouring Retry-After); other 4xx errors fail at once with the server's message.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from jacode.engines.base import Completion, Engine, EngineError, Progress, Request, SamplingParams, truncate_at_stop

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class OpenAIEngine(Engine):
    name = "openai"

    def __init__(self, endpoint: str | None, model_name: str, *, api_key: str | None = None,
                 concurrency: int = 8, max_retries: int = 5, timeout_s: float = 120.0,
                 backoff_s: float = 0.5, max_stop: int | None = None):
        if not endpoint:
            raise EngineError("the openai engine needs --endpoint URL (e.g. http://127.0.0.1:8000/v1)")
        if not model_name:
            raise EngineError("the openai engine needs --model-name (the model id the server knows)")
        self.base_url = endpoint.rstrip("/")
        if not self.base_url.endswith("/v1"):
            self.base_url += "/v1"
        self.model_name = model_name
        key = api_key or os.environ.get("OPENAI_API_KEY", "EMPTY")
        self.client = httpx.Client(timeout=timeout_s, headers={"Authorization": f"Bearer {key}"},
                                   limits=httpx.Limits(max_connections=concurrency * 2))
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        # The OpenAI API accepts at most 4 stop sequences; other servers accept more. The rest are
        # applied client-side anyway, so nothing is lost by sending fewer.
        self.max_stop = max_stop
        self.stats = {"requests": 0, "retries": 0}
        self._lock = threading.Lock()

    def _payload(self, request: Request, params: SamplingParams) -> tuple[str, dict]:
        body: dict = {"model": self.model_name, "n": request.n, "max_tokens": params.max_new_tokens,
                      "temperature": params.temperature, "top_p": params.top_p, "seed": params.seed}
        if params.stop:
            body["stop"] = list(params.stop)[: self.max_stop] if self.max_stop else list(params.stop)
        if request.prompt is not None:
            return "/completions", {**body, "prompt": request.prompt}
        return "/chat/completions", {**body, "messages": request.messages}

    def _post(self, path: str, body: dict) -> dict:
        url = self.base_url + path
        for attempt in range(self.max_retries + 1):
            with self._lock:
                self.stats["requests"] += 1
            wait = self.backoff_s * (2**attempt) * (0.5 + random.random())
            try:
                resp = self.client.post(url, json=body)
            except (httpx.TransportError, httpx.TimeoutException) as e:
                error = f"{type(e).__name__}: {e}"
            else:
                if resp.status_code == 200:
                    try:
                        return resp.json()
                    except ValueError:
                        error = f"invalid JSON in the response: {resp.text[:200]!r}"
                elif resp.status_code in RETRY_STATUS:
                    error = f"HTTP {resp.status_code}: {resp.text[:200]}"
                    retry_after = resp.headers.get("retry-after")
                    if retry_after:
                        try:
                            wait = max(wait, float(retry_after))
                        except ValueError:
                            pass
                else:
                    raise EngineError(f"{url}: HTTP {resp.status_code}: {resp.text[:500]}")
            if attempt < self.max_retries:
                with self._lock:
                    self.stats["retries"] += 1
                time.sleep(wait)
        raise EngineError(f"{url}: failed after {self.max_retries + 1} attempts; last error: {error}")

    def _one(self, request: Request, params: SamplingParams) -> list[Completion]:
        path, body = self._payload(request, params)
        data = self._post(path, body)
        choices = sorted(data.get("choices", []), key=lambda c: c.get("index", 0))
        if len(choices) != request.n:
            raise EngineError(f"{self.base_url}{path}: asked for n={request.n}, got {len(choices)} choices")
        out = []
        for c in choices:
            text = c["text"] if request.prompt is not None else (c.get("message") or {}).get("content") or ""
            text, stopped = truncate_at_stop(text, list(params.stop))
            reason = "stop" if stopped else ("length" if c.get("finish_reason") == "length" else "stop")
            out.append(Completion(text=text, finish_reason=reason))
        return out

    def generate(self, requests: list[Request], params: SamplingParams,
                 progress: Progress | None = None) -> list[list[Completion]]:
        def run(req: Request) -> list[Completion]:
            result = self._one(req, params)
            if progress:
                progress(req.n)
            return result

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(run, requests))

    def stream(self, messages: list[dict[str, str]], params: SamplingParams):
        """Server-sent events from /chat/completions with "stream": true (no retries once text has flowed)."""
        _, body = self._payload(Request(messages=messages), params)
        body["stream"] = True
        with self.client.stream("POST", self.base_url + "/chat/completions", json=body) as resp:
            if resp.status_code != 200:
                resp.read()
                raise EngineError(f"{self.base_url}/chat/completions: HTTP {resp.status_code}: {resp.text[:300]}")
            kind = resp.headers.get("content-type", "")
            if not kind.startswith("text/event-stream"):
                # A server that ignores "stream": true answers with one JSON body: reading it as events would
                # give an empty answer that looks like a real one.
                resp.read()
                raise EngineError(f"{self.base_url}/chat/completions ignored stream: true (content-type {kind!r}, "
                                  f"not text/event-stream): {resp.text[:200]}")
            finished = False
            for line in resp.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    finished = True
                    break
                try:
                    delta = json.loads(data)["choices"][0].get("delta", {}).get("content")
                except (ValueError, KeyError, IndexError) as e:
                    raise EngineError(f"malformed stream event from {self.base_url}: {data[:200]!r}") from e
                if delta:
                    yield delta
            if not finished:
                raise EngineError(f"{self.base_url}/chat/completions: the stream ended without [DONE]")

    def close(self) -> None:
        self.client.close()
