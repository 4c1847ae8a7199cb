"""A model server that a stage starts and stops: `jacode serve` (any machine) or `vllm serve` (a GPU machine).

`served(model, "vllm")` is how a recipe evaluates or synthesizes with vLLM's continuous batching without running a
server by hand: the server starts on a free local port, the stage talks to it through the openai engine with many
requests in flight, and the server is stopped when the stage ends — also when it fails.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from jacode.errors import JacodeError

SERVERS = ("jacode", "vllm")
READY_TIMEOUT_S = {"jacode": 300.0, "vllm": 900.0}  # vLLM loads weights and captures CUDA graphs first


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(model: str, server: str = "jacode", name: str = "model") -> Iterator[str]:
    """Start `server` for `model`, yield its base URL (…/v1) once it answers, stop it on exit."""
    import httpx

    if server not in SERVERS:
        raise JacodeError(f"serve must be one of {', '.join(SERVERS)}, not {server!r}")
    port = _free_port()
    if server == "jacode":
        cmd = [sys.executable, "-m", "jacode", "serve", model, "--port", str(port), "--served-name", name]
    else:
        if not shutil.which("vllm"):
            raise JacodeError("serve: vllm needs vLLM on a GPU machine: pip install 'jacode[vllm]'")
        cmd = ["vllm", "serve", model, "--port", str(port), "--host", "127.0.0.1", "--served-model-name", name]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    log: list[str] = []
    threading.Thread(target=lambda: log.extend(line.decode(errors="replace") for line in proc.stdout),
                     daemon=True).start()
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S[server]
        while True:
            if proc.poll() is not None:
                raise JacodeError(f"{server} serve {model} exited ({proc.returncode}) before it answered:\n"
                                  + "".join(log[-20:]))
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise JacodeError(f"{server} serve {model} did not answer within {READY_TIMEOUT_S[server]:.0f} s:\n"
                                  + "".join(log[-20:]))
            time.sleep(0.2)
        print(f"{server} serve: {model} on {url} for this stage", flush=True)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

