"""`jacode arena serve`: a blind pairwise comparison page (Chatbot-Arena style, as the Tanuki team ran).

A person writes a prompt; two models drawn at random (and placed left/right at random) answer side by side,
streamed; the person votes A / B / tie / both bad; only then are the names shown. Battles live in SQLite
(store.py). Model output is untrusted: while streaming it is shown as plain text, and the final rendering is
Markdown converted on the server with raw HTML disabled and unsafe link schemes refused (markdown-it), under a
Content-Security-Policy that forbids inline and foreign scripts. Requests are size-limited, battles are
rate-limited per anonymous voter (a random id in a cookie) and per address, and the export/delete endpoints need
the admin token.

One client must not be able to knock the arena over. Each answer is generated once, in its own (daemon) thread,
whoever watches it: a reload or a second tab follows the running generation instead of starting another, and a
client that leaves does not stop it (the answer is stored for the reload). Generations are limited per voter and
in total; beyond a limit the stream is refused with 429 at once. Streams are served from the event loop, so open
streams hold no worker threads and never starve the page itself (`GET /`). The client's address is the socket's,
unless the server was told which proxies to trust (uvicorn's forwarded_allow_ips; see server_config).
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

# Module level, not inside build_app: FastAPI resolves the (string) annotations of the endpoints against the
# module's globals, and a `Request` it cannot resolve silently becomes a query parameter.
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse

from jacode.arena.store import VOTES, Store
from jacode.engines import Engine, SamplingParams, engine_kind, make_engine
from jacode.errors import JacodeError

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
COOKIE = "jacode_voter"


@dataclass
class ArenaModel:
    name: str
    spec: dict
    params: SamplingParams
    engine: Engine | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)  # local models generate one answer at a time
    init_lock: threading.Lock = field(default_factory=threading.Lock)  # the engine is built once

    def get_engine(self) -> Engine:
        with self.init_lock:
            if self.engine is None:
                kind = engine_kind(self.spec.get("engine"), self.spec.get("endpoint"))
                opts = {k: v for k, v in self.spec.items() if k not in ("name", "engine", "model", "endpoint",
                                                                         "model_name", "params")}
                self.engine = make_engine(kind, model=self.spec.get("model"), endpoint=self.spec.get("endpoint"),
                                          model_name=self.spec.get("model_name"), **opts)
            return self.engine

    @property
    def local(self) -> bool:
        return not self.spec.get("endpoint")


def load_models(path: str | Path) -> dict[str, ArenaModel]:
    try:
        data = yaml.safe_load(Path(path).read_text("utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise JacodeError(f"{path}: cannot read the models file: {e}") from e
    entries = data.get("models") if isinstance(data, dict) else None
    if not isinstance(entries, list) or len(entries) < 2:
        raise JacodeError(f"{path}: expected `models:` with at least two entries")
    models = {}
    for n, m in enumerate(entries):
        if not isinstance(m, dict) or not m.get("name") or not (m.get("model") or m.get("endpoint")):
            raise JacodeError(f"{path}: models[{n}] needs a name and a model (local) or an endpoint")
        if m["name"] in models:
            raise JacodeError(f"{path}: model name {m['name']!r} appears twice")
        p = {"temperature": 0.7, "top_p": 0.95, "max_new_tokens": 1024, **(m.get("params") or {})}
        try:
            params = SamplingParams(**p)
        except TypeError as e:
            raise JacodeError(f"{path}: models[{n}] ({m['name']}): bad params: {e}") from e
        models[m["name"]] = ArenaModel(m["name"], m, params)
    return models


def render_markdown(text: str) -> str:
    from markdown_it import MarkdownIt

    # commonmark with html disabled: raw HTML in the answer is shown as text; javascript:/vbscript:/data: links
    # are refused by markdown-it's link validation.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).render(text)


def on_loop(loop: asyncio.AbstractEventLoop, fn, *args) -> None:
    """fn(*args) on the server's event loop, from a generating thread. Once the server has stopped (its loop is
    closed) nobody follows the answer: the thread still finishes and stores it, for the next server to show."""
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:
        if not loop.is_closed():
            raise


class Generation:
    """One answer being generated in a thread; any number of streams follow it from the event loop."""

    def __init__(self, voter: str, loop: asyncio.AbstractEventLoop):
        self.voter, self.loop = voter, loop
        self.parts: list[str] = []
        self.text: str | None = None  # the stored answer, once finished
        self.failure: str | None = None
        self.finished = False
        self._changed = asyncio.Event()

    def _notify(self) -> None:  # on the loop: wake every follower
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def publish(self, piece: str | None = None) -> None:  # from the generating thread
        if piece is not None:
            self.parts.append(piece)
        on_loop(self.loop, self._notify)

    async def follow(self):
        """(kind, payload) as they come: every delta so far, then new ones, then done or failure."""
        seen = 0
        while True:
            changed, finished = self._changed, self.finished  # read first: once finished, no part comes later
            while seen < len(self.parts):
                seen += 1
                yield "delta", self.parts[seen - 1]
            if finished:
                yield ("failure", self.failure) if self.failure else ("done", self.text)
                return
            await changed.wait()


def sse(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


class RateLimiter:
    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self.events: dict[str, deque] = defaultdict(deque)
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self.lock:
            if len(self.events) > 10_000:  # forget idle keys, so that fresh ids cannot grow memory without bound
                for k in [k for k, q in self.events.items() if not q or now - q[-1] > 60]:
                    del self.events[k]
            q = self.events[key]
            while q and now - q[0] > 60:
                q.popleft()
            if len(q) >= self.per_minute:
                return False
            q.append(now)
            return True


def build_app(models: dict[str, ArenaModel], store: Store, admin_token: str | None = None,
              battles_per_minute: int = 20, max_prompt_chars: int = 4000, max_body_bytes: int = 64 * 1024,
              seed: int | None = None, per_address_factor: int = 10, max_generations: int = 16,
              max_generations_per_voter: int = 2):
    app = FastAPI(title="jacode arena", docs_url=None, redoc_url=None, openapi_url=None)
    rng = random.Random(seed)
    limiter = RateLimiter(battles_per_minute)
    ip_limiter = RateLimiter(battles_per_minute * per_address_factor)
    static = resources.files("jacode.arena").joinpath("static")
    running: dict[tuple[str, str], Generation] = {}  # (battle, side) → its generation; touched on the loop only

    @app.middleware("http")
    async def guard(request: Request, call_next):
        length = request.headers.get("content-length")
        if request.method in ("POST", "PUT", "PATCH"):
            if length is None:  # a chunked body would bypass the size limit
                return JSONResponse({"detail": "Content-Length required"}, status_code=411)
            if not length.isdigit():
                return JSONResponse({"detail": "bad Content-Length"}, status_code=400)
            if int(length) > max_body_bytes:
                return JSONResponse({"detail": "request too large"}, status_code=413)
        voter = request.cookies.get(COOKIE)
        new_voter = voter is None or len(voter) != 32
        request.state.voter = secrets.token_hex(16) if new_voter else voter
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if new_voter:
            response.set_cookie(COOKIE, request.state.voter, httponly=True, samesite="strict", max_age=365 * 86400)
        return response

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return static.joinpath("index.html").read_text("utf-8")

    @app.get("/static/{name}")
    def asset(name: str) -> Response:
        types = {"arena.js": "text/javascript", "arena.css": "text/css"}
        if name not in types:
            raise HTTPException(404)
        return Response(static.joinpath(name).read_text("utf-8"), media_type=types[name] + "; charset=utf-8")

    @app.post("/api/battles")
    def new_battle(body: dict, request: Request) -> dict:
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise HTTPException(422, "prompt must be a non-empty string")
        if len(prompt) > max_prompt_chars:
            raise HTTPException(413, f"prompt longer than {max_prompt_chars} characters")
        # The voter id is a cookie the client controls; the address limit bounds clients that drop it.
        host = request.client.host if request.client else "?"
        if not limiter.allow(request.state.voter) or not ip_limiter.allow(host):
            raise HTTPException(429, "too many battles; wait a minute")
        a, b = rng.sample(sorted(models), 2)
        return {"battle": store.create(request.state.voter, prompt, a, b)}

    def own_battle(battle: str, request: Request) -> dict:
        row = store.get(battle)
        if row is None or row["voter"] != request.state.voter:
            raise HTTPException(404, "no such battle")
        return row

    def generate(gen: Generation, key: tuple[str, str], model: ArenaModel, prompt: str) -> None:
        """The generating thread: the answer is stored (so it can be voted on) before the followers hear done."""
        battle, side = key
        try:
            lock = model.lock if model.local else None
            if lock:
                lock.acquire()
            try:
                for piece in model.get_engine().stream([{"role": "user", "content": prompt}], model.params):
                    gen.publish(piece)
            finally:
                if lock:
                    lock.release()
            text = "".join(gen.parts)
            if not text.strip():  # nothing to judge: never stored, so the battle can never be voted on
                gen.failure = "the model gave an empty answer"
            elif not store.set_answer(battle, side, text):
                text = store.get(battle)[f"answer_{side}"]  # an answer was stored first (an earlier server)
            gen.text = text
        except Exception as e:  # noqa: BLE001 — shown to the voter; the battle stays unvotable
            gen.failure = f"the model failed: {type(e).__name__}"
        gen.finished = True
        gen.publish()
        on_loop(gen.loop, running.pop, key, None)  # a later reload reads the stored answer

    async def events(gen: Generation):
        async for kind, payload in gen.follow():
            if kind == "delta":
                yield sse("delta", {"text": payload})
            elif kind == "done":
                yield sse("done", {"html": render_markdown(payload)})
            else:
                yield sse("failure", {"message": payload})

    def event_stream(body, status: int = 200) -> StreamingResponse:
        return StreamingResponse(body, status_code=status, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.get("/api/battles/{battle}/stream/{side}")
    async def stream(battle: str, side: str, request: Request) -> StreamingResponse:
        if side not in ("a", "b"):
            raise HTTPException(404)
        key = (battle, side)
        gen = running.get(key)  # before the row: a finished generation stores its answer before leaving `running`
        row = own_battle(battle, request)
        if gen is not None:  # a reload or a second tab: follow the generation already running
            return event_stream(events(gen))
        if row[f"answer_{side}"] is not None:  # the answer exists already
            return event_stream(iter([sse("done", {"html": render_markdown(row[f"answer_{side}"])})]))
        model = models.get(row[f"model_{side}"])
        if model is None:
            raise HTTPException(410, "that model is no longer served")
        voter = request.state.voter
        if len(running) >= max_generations or \
                sum(g.voter == voter for g in running.values()) >= max_generations_per_voter:
            busy = "the arena is busy (too many answers being generated); try again in a moment"
            return event_stream(iter([sse("failure", {"message": busy})]), status=429)
        gen = running[key] = Generation(voter, asyncio.get_running_loop())
        threading.Thread(target=generate, args=(gen, key, model, row["prompt"]), daemon=True,
                         name=f"arena-{battle[:8]}-{side}").start()
        return event_stream(events(gen))

    @app.post("/api/battles/{battle}/vote")
    def vote(battle: str, body: dict, request: Request) -> dict:
        choice = body.get("vote")
        if choice not in VOTES:
            raise HTTPException(422, f"vote must be one of {list(VOTES)}")
        row = own_battle(battle, request)
        if not store.vote(battle, request.state.voter, choice):
            row = store.get(battle)
            if row["vote"] is not None:
                raise HTTPException(409, "this battle already has a vote")
            raise HTTPException(409, "both answers must be complete before voting")
        return {"recorded": True, "vote": choice, "model_a": row["model_a"], "model_b": row["model_b"]}

    def require_admin(request: Request) -> None:
        given = request.headers.get("authorization", "")
        if not admin_token or not secrets.compare_digest(given, f"Bearer {admin_token}"):
            raise HTTPException(403, "admin token required")

    @app.get("/api/admin/export")
    def export(request: Request) -> PlainTextResponse:
        require_admin(request)
        return PlainTextResponse(store.export_jsonl(), media_type="application/x-ndjson")

    @app.delete("/api/admin/battles/{battle}")
    def delete(battle: str, request: Request) -> dict:
        require_admin(request)
        if not store.delete(battle):
            raise HTTPException(404, "no such battle")
        return {"deleted": battle}

    return app


# Seconds that open streams get to finish after SIGTERM before they are cut: votes are committed when acknowledged,
# and an answer still being generated is simply not stored (its battle cannot be voted on).
GRACEFUL_SHUTDOWN_S = 3


def server_config(app, host: str, port: int, forwarded_allow_ips: str = ""):
    """uvicorn's settings for the arena. Proxy headers are off unless proxies are named: uvicorn's own default
    trusts X-Forwarded-For from 127.0.0.1, so any local client could then pose as any address."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=bool(forwarded_allow_ips),
                          forwarded_allow_ips=forwarded_allow_ips or None,
                          timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
