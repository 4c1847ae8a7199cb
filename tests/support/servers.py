"""Real HTTP servers on 127.0.0.1 for engine tests: `jacode serve` in a subprocess, and a scripted one."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JacodeServer:
    """`jacode serve MODEL` as a real process on a port it picks itself (--port 0); stopped on exit."""

    def __init__(self, model: str, served_name: str = "tiny"):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jacode", "serve", model, "--port", "0", "--served-name", served_name],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        self.log: list[str] = []
        found: dict[str, str] = {}

        def read() -> None:  # the "listening on" line gives the URL; the rest is kept for failure messages
            for raw in self.proc.stdout:
                line = raw.decode(errors="replace")
                self.log.append(line)
                m = re.search(r"listening on (http://\S+/v1)", line)
                if m:
                    found["url"] = m.group(1)

        threading.Thread(target=read, daemon=True).start()
        deadline = time.time() + 120
        while time.time() < deadline and "url" not in found:
            if self.proc.poll() is not None:
                time.sleep(0.2)
                raise RuntimeError(f"jacode serve exited: {''.join(self.log)}")
            time.sleep(0.05)
        if "url" not in found:
            self.stop()
            raise RuntimeError("jacode serve did not say where it listens within 120 s")
        self.url = found["url"]
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])
        # Bound before the line was printed: the first request is answered.
        assert httpx.get(f"{self.url}/models", timeout=10).status_code == 200

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class ScriptedServer:
    """An OpenAI-compatible server whose behaviour per request is scripted.

    `script` is a list of actions consumed in order, then `default` forever. An action is
    ("ok", text) | ("status", code) | ("sleep", seconds, text) | ("garbage",).
    Records how many requests were in flight at once.
    """

    def __init__(self, script=None, default=("ok", "answer"), delay: float = 0.0, responder=None,
                 capacity: int | None = None):
        # responder(path, body) -> text or list of texts (one per choice): answers that depend on the request,
        # for clients that send requests concurrently (a script's order would then be arbitrary).
        self.responder = responder
        self.stream_delay = 0.01  # seconds between streamed events
        self.ignore_stream = False  # answer `stream: true` with one JSON body, as servers without streaming do
        # capacity: requests served at once (a GPU server's batch); the rest wait, as on a real server.
        self.slots = threading.Semaphore(capacity) if capacity else None
        self.script = list(script or [])
        self.default = default
        self.delay = delay
        self.requests: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do; every response has a length

            def log_message(self, *args):
                pass

            def _send(self, code: int, data: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, text: str) -> None:
                """Server-sent events, a few characters per event, as OpenAI-compatible servers stream."""
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.close_connection = True
                for i in range(0, len(text), 3):
                    event = {"choices": [{"index": 0, "delta": {"content": text[i:i + 3]}}]}
                    self.wfile.write(b"data: " + json.dumps(event, ensure_ascii=False).encode() + b"\n\n")
                    self.wfile.flush()
                    time.sleep(server.stream_delay)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append({"path": self.path, "body": body})
                    action = server.script.pop(0) if server.script else server.default
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    if server.slots:
                        server.slots.acquire()
                    try:
                        if server.delay:
                            time.sleep(server.delay)
                    finally:
                        if server.slots:
                            server.slots.release()
                    self._respond(action, body)
                finally:
                    with server.lock:
                        server.in_flight -= 1

            def _respond(self, action, body):
                kind = action[0]
                if kind == "status":
                    self._send(action[1], b'{"error": "scripted"}')
                    return
                if kind == "garbage":
                    self._send(200, b"not json")
                    return
                if kind == "sleep":
                    time.sleep(action[1])
                n = body.get("n", 1)
                text = server.responder(self.path, body) if server.responder else action[-1]
                if body.get("stream") and not server.ignore_stream:
                    self._stream(text if isinstance(text, str) else text[0])
                    return
                texts = text if isinstance(text, list) else [text] * n
                if self.path.endswith("/chat/completions"):
                    choices = [{"index": i, "message": {"role": "assistant", "content": t},
                                "finish_reason": "stop"} for i, t in enumerate(texts)]
                else:
                    choices = [{"index": i, "text": t, "finish_reason": "stop"} for i, t in enumerate(texts)]
                self._send(200, json.dumps({"choices": choices}).encode())

        ThreadingHTTPServer.request_queue_size = 128  # the default backlog (5) resets connections under load
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class AppServer:
    """An ASGI app (FastAPI) served by uvicorn on 127.0.0.1 in a background thread: real HTTP for the tests."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started and time.time() < deadline:
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
