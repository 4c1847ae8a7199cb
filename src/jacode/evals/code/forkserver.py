"""Harness side of the warm sandbox (see forkserver_main.py): one long-lived sandboxed server per worker.

Needs root (for the capabilities the server uses to build each sample's namespaces); elsewhere, and whenever
a server cannot start, execution falls back to one bubblewrap per sample (sandbox.Sandbox.run), which gives
the same isolation at ~15 ms more per sample.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import subprocess
import time
from pathlib import Path

from jacode.evals.code.sandbox import Limits, RunResult, _namespace_args

_HERE = Path(__file__).parent
# pyrunner.py (execute_program) then the server loop: one `python -c` program, no imports from jacode.
SOURCE = (_HERE / "pyrunner.py").read_text(encoding="utf-8") + "\n\n" + (_HERE / "forkserver_main.py").read_text(
    encoding="utf-8")
PYTHON_MOUNT = "/run/jacode-python"  # not under /tmp: each sample gets a fresh tmpfs there (same as per-run)


class ForkServerError(RuntimeError):
    pass


def forkserver_supported() -> bool:
    return os.geteuid() == 0


class ForkServer:
    def __init__(self, python_prefix: str, python_rel: str, limits: Limits):
        self.limits = limits
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp/work",
               "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
               "LD_LIBRARY_PATH": f"{PYTHON_MOUNT}/lib", "PYTHONHOME": PYTHON_MOUNT}
        self.sample_env = env
        cmd = ["bwrap", *_namespace_args(caps="CAP_SYS_ADMIN,CAP_SETUID,CAP_SETGID"),
               "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
               "--perms", "0755", "--size", str((limits.fsize_mb + 8) * 2**20), "--tmpfs", "/tmp",
               "--tmpfs", "/run", "--ro-bind", python_prefix, PYTHON_MOUNT, "--chdir", "/", "--clearenv"]
        for k, v in env.items():
            cmd += ["--setenv", k, v]
        cmd += ["--", f"{PYTHON_MOUNT}/{python_rel}", "-I", "-S", "-c", SOURCE]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        line = self._read_line(timeout=30)
        if line != b"ready\n":
            err = self._stderr()
            self.close()
            raise ForkServerError(f"warm sandbox did not start: {line!r} {err}")

    def _stderr(self) -> str:
        try:
            self.proc.kill()
            return self.proc.stderr.read().decode(errors="replace")[-500:]
        except Exception:  # noqa: BLE001
            return ""

    def _read_exact(self, n: int, deadline: float) -> bytes:
        buf = b""
        fd = self.proc.stdout.fileno()
        while len(buf) < n:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise ForkServerError("warm sandbox did not answer in time")
            chunk = os.read(fd, n - len(buf))
            if not chunk:
                raise ForkServerError("warm sandbox exited")
            buf += chunk
        return buf

    def _read_line(self, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            line += self._read_exact(1, deadline)
        return line

    def run(self, files: dict[str, str], main: str, token: str) -> RunResult:
        lim = self.limits
        fsize = lim.fsize_mb * 2**20
        req = {
            "files": files, "main": main, "token": token, "timeout_s": lim.timeout_s,
            "uid": secrets.randbelow(1_000_000) + 100_000, "env": self.sample_env,
            "tmp_bytes": lim.tmp_mb * 2**20, "output_tail": lim.output_tail,
            "rlimits": {"RLIMIT_CPU": int(max(1, lim.cpu_s if lim.cpu_s is not None else lim.timeout_s + 1)),
                        "RLIMIT_AS": lim.memory_mb * 2**20, "RLIMIT_NPROC": lim.nproc,
                        "RLIMIT_FSIZE": fsize, "RLIMIT_CORE": 0},
        }
        data = json.dumps(req).encode()
        try:
            self.proc.stdin.write(b"%d\n" % len(data) + data)
            self.proc.stdin.flush()
            header = self._read_line(lim.timeout_s + 30)
            facts = json.loads(self._read_exact(int(header), time.monotonic() + 30))
        except (OSError, ValueError, ForkServerError) as e:
            self.close()
            raise ForkServerError(f"warm sandbox failed: {e}") from e
        if "error" in facts:
            raise ForkServerError(f"warm sandbox could not run the sample: {facts['error']}")
        return RunResult(returncode=facts["returncode"], timed_out=facts["timed_out"],
                         duration_s=facts["duration_s"], output=facts["output"],
                         output_truncated=facts["output_size"] >= fsize, backend="bwrap-warm")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass
