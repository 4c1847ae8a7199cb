"""Run untrusted programs in isolation.

Each run gets: a fresh working directory (bind-mounted at /work, deleted afterwards), a read-only view of the
rest of the filesystem, a private /tmp, no network (own network namespace with only loopback), its own PID
namespace (when its first process exits, the kernel kills everything it started, daemons included), an
unprivileged uid in its own user namespace (so RLIMIT_NPROC is counted per sandbox and actually enforced),
rlimits on CPU time, address space, processes and file size (set by `prlimit` before the command starts),
a cleared environment and stdin at EOF. stdout and stderr go to one file whose size the file-size limit caps.

The backend is bubblewrap (`bwrap`). Where it cannot run, `backend="none"` runs the command with the same
rlimits in a new session and kills its process group afterwards, and says loudly that it is not isolated.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

SANDBOX_UID = 65534  # "nobody" inside the sandbox's own user namespace
WORKDIR = "/tmp/work"  # inside the sandbox; /tmp itself is a private tmpfs
RUN_MOUNT = "/run"  # private tmpfs for read-only binds (the interpreter): mount points can be made there


@dataclass
class Limits:
    """Resource limits for one run. Defaults suit HumanEval-style unit tests."""

    timeout_s: float = 10.0  # wall clock
    cpu_s: float | None = None  # CPU seconds; defaults to the wall timeout
    memory_mb: int = 4096  # address space
    nproc: int = 64  # processes/threads inside the sandbox
    fsize_mb: int = 16  # largest file it may write, output included
    tmp_mb: int = 64  # size of its private /tmp
    output_tail: int = 4096  # bytes of output kept for the report
    # "as" limits the address space (right for Python, C++); "data" limits writable private memory, for
    # runtimes that reserve huge address ranges up front (JVM, V8, Mono) and fail to start under RLIMIT_AS.
    memory_kind: str = "as"

    def fingerprint(self) -> tuple:
        return (self.timeout_s, self.cpu_s, self.memory_mb, self.nproc, self.fsize_mb, self.tmp_mb, self.memory_kind)

    def cpu_limit(self) -> int:
        # One second above the wall timeout by default, so a busy loop ends as a (wall) timeout and the
        # CPU limit only catches several threads burning CPU in parallel.
        return int(max(1, self.cpu_s if self.cpu_s is not None else self.timeout_s + 1))

    def prlimit(self) -> list[str]:
        memory = f"--{self.memory_kind}={self.memory_mb * 2**20}"
        return ["prlimit", f"--cpu={self.cpu_limit()}", memory, f"--nproc={self.nproc}",
                f"--fsize={self.fsize_mb * 2**20}", "--core=0", "--"]


@dataclass
class RunResult:
    returncode: int
    timed_out: bool
    duration_s: float
    output: str  # tail of stdout+stderr
    output_truncated: bool  # hit the file-size limit
    backend: str
    extra: dict = field(default_factory=dict)
    output_path: Path | None = None  # the whole output; exists only while its workspace is open

    @property
    def signal(self) -> int | None:
        if self.returncode < 0:
            return -self.returncode
        if self.returncode > 128:  # bwrap reports a signalled child as 128 + signal
            return self.returncode - 128
        return None


@lru_cache(maxsize=1)
def bwrap_status() -> tuple[bool, str]:
    """(usable, explanation). Tries a real sandboxed command once per process."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False, "bubblewrap is not installed (apt-get install bubblewrap)"
    missing = [tool for tool in ("prlimit", "setpriv") if shutil.which(tool) is None]
    if missing:
        return False, f"{', '.join(missing)} not found (apt-get install util-linux)"
    try:
        proc = subprocess.run(
            [exe, *_namespace_args(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
             "--", *_drop_privileges(), "/bin/true"],
            capture_output=True, timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, f"bwrap failed to start: {e}"
    if proc.returncode != 0:
        return False, f"bwrap cannot create namespaces here: {proc.stderr.decode(errors='replace').strip()}"
    return True, f"bubblewrap at {exe}"


def _namespace_args(caps: str = "CAP_SETUID,CAP_SETGID") -> list[str]:
    common = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
              "--die-with-parent", "--new-session"]
    if os.geteuid() == 0:
        # As root: no user namespace, keep only the right to change uid so that the command below can
        # drop to a fresh unprivileged host uid. (Inside a user namespace created by root the sandbox
        # uid would map to host root, and the kernel never applies RLIMIT_NPROC to host root.)
        return common + ["--cap-add", caps]
    return common + ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]


def _drop_privileges() -> list[str]:
    """Command prefix run inside the sandbox: as root, become a random unprivileged uid, no capabilities.

    A random uid per run keeps concurrent sandboxes (other workers, other jacode processes) from sharing
    one RLIMIT_NPROC budget.
    """
    if os.geteuid() != 0:
        return []
    uid = str(secrets.randbelow(1_000_000) + 100_000)
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all", "--no-new-privs"]


def resolve_backend(backend: str = "auto") -> str:
    if backend not in ("auto", "bwrap", "none"):
        raise ValueError(f"unknown sandbox backend {backend!r} (auto, bwrap, none)")
    usable, why = bwrap_status()
    if backend == "bwrap" and not usable:
        raise RuntimeError(f"sandbox backend 'bwrap' requested but unusable: {why}")
    if backend == "auto":
        backend = "bwrap" if usable else "none"
    if backend == "none":
        warnings.warn(
            "\n!!! jacode sandbox: running untrusted code WITHOUT isolation (no namespaces, no read-only "
            f"filesystem, network reachable). Reason: {why}. Install bubblewrap to fix this. !!!",
            RuntimeWarning, stacklevel=2,
        )
    return backend


class Sandbox:
    """Runs commands one at a time per call; thread-safe (each call has its own directory)."""

    def __init__(self, limits: Limits | None = None, backend: str = "auto", scratch: str | None = None):
        self.limits = limits or Limits()
        self.backend = resolve_backend(backend)
        self.scratch = scratch  # parent of the per-run directories (default: system temp)
        # host path -> path inside; for things the sandbox uid cannot reach where they are (e.g. an
        # interpreter under /root). Targets must lie under RUN_MOUNT, where mount points can be made.
        self.ro_binds: dict[str, str] = {}

    def cpu_limit(self) -> int:
        return self.limits.cpu_limit()

    @contextmanager
    def workspace(self, files: dict[str, str | bytes]) -> Iterator[Workspace]:
        """A fresh working directory holding `files`, for one or more commands (compile, then run)."""
        run_dir = Path(tempfile.mkdtemp(prefix="jacode-run-", dir=self.scratch))
        try:
            work = run_dir / "work"
            work.mkdir()
            os.chmod(run_dir, 0o711)  # the sandbox uid must reach work/ but need not list run_dir
            for name, content in files.items():
                target = work / name
                target.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, bytes):
                    target.write_bytes(content)
                else:
                    target.write_text(content, encoding="utf-8")
            os.chmod(work, 0o777)  # each command runs under a fresh uid that must write its directory
            for p in work.rglob("*"):
                os.chmod(p, 0o777 if p.is_dir() else 0o666)
            yield Workspace(self, run_dir, work)
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)

    def run(self, argv: list[str], files: dict[str, str | bytes], *, pass_fds: tuple[int, ...] = (),
            env: dict[str, str] | None = None) -> RunResult:
        """Write `files` into a fresh directory, run `argv` there, return its verdict-relevant facts.

        Paths in argv that refer to the files should use `WORKDIR/name` (the directory is mounted there
        under bwrap; under the unsafe backend WORKDIR is replaced by the real path).
        """
        with self.workspace(files) as ws:
            return ws.exec(argv, pass_fds=pass_fds, env=env)

    def _bwrap_cmd(self, work: Path, env: dict[str, str], lim: Limits, binds: dict[str, str]) -> list[str]:
        cmd = ["bwrap", *_namespace_args(), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
               "--perms", "1777", "--size", str(lim.tmp_mb * 2**20), "--tmpfs", "/tmp",
               "--bind", str(work), WORKDIR, "--tmpfs", RUN_MOUNT, "--chdir", WORKDIR, "--clearenv"]
        for host, inside in binds.items():
            cmd += ["--ro-bind", host, inside]
        for k, v in env.items():
            cmd += ["--setenv", k, v]
        return cmd + ["--", *_drop_privileges()]

    def _execute(self, cmd, work: Path, out_path: Path, pass_fds, popen_env, lim: Limits,
                 stdin: Path | None = None, merge_stderr: bool = True) -> RunResult:
        start = time.perf_counter()
        err_path = out_path.with_name(out_path.name + ".err")
        info_r = info_w = -1
        if self.backend == "bwrap":
            # bwrap reports the PID of the namespace's init on this pipe; see the timeout path below.
            info_r, info_w = os.pipe()
            cmd = [cmd[0], "--info-fd", str(info_w), *cmd[1:]]
            pass_fds = (*pass_fds, info_w)
        try:
            with open(out_path, "w+b") as out, open(stdin or os.devnull, "rb") as inp, \
                    (open(os.devnull, "wb") if merge_stderr else open(err_path, "wb")) as err:
                proc = subprocess.Popen(
                    cmd, stdin=inp, stdout=out, stderr=subprocess.STDOUT if merge_stderr else err, cwd=work,
                    pass_fds=pass_fds, env=popen_env, start_new_session=True,
                )
                if info_w >= 0:
                    os.close(info_w)
                    info_w = -1
                timed_out = False
                try:
                    rc = _wait(proc, lim.timeout_s)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    init_pid = _read_child_pid(info_r)
                    _kill_group(proc.pid)
                    rc = proc.wait()
                    # Killing bwrap kills the namespace's init (die-with-parent), and the kernel then kills
                    # everything in the namespace; wait for that, so nothing outlives this call.
                    _wait_gone(init_pid)
                if self.backend == "none":
                    _kill_group(proc.pid)  # daemonized leftovers of the unsafe backend
                duration = time.perf_counter() - start
                size = out.seek(0, os.SEEK_END)
                out.seek(max(0, size - lim.output_tail))
                tail = out.read().decode("utf-8", errors="replace")
        finally:
            for fd in (info_r, info_w):
                if fd >= 0:
                    os.close(fd)
        return RunResult(
            returncode=rc, timed_out=timed_out, duration_s=duration, output=tail,
            output_truncated=size >= lim.fsize_mb * 2**20, backend=self.backend, output_path=out_path,
        )


class Workspace:
    """One sample's directory; each exec is a separate sandboxed command (own namespaces, fresh uid)."""

    def __init__(self, sandbox: Sandbox, run_dir: Path, work: Path):
        self.sandbox, self.run_dir, self.work = sandbox, run_dir, work
        self._n = 0

    def exec(self, argv: list[str], *, limits: Limits | None = None, pass_fds: tuple[int, ...] = (),
             env: dict[str, str] | None = None, ro_binds: dict[str, str] | None = None,
             stdin: Path | None = None, merge_stderr: bool = True) -> RunResult:
        """Run argv in this workspace. stdin: a host file to read (default: empty). With merge_stderr off,
        stderr goes to a separate file (`output_path` + ".err"), so that stdout can be judged alone."""
        sb, lim = self.sandbox, limits or self.sandbox.limits
        self._n += 1
        out_path = self.run_dir / f"output-{self._n}"
        base_env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": WORKDIR,
                    "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
        base_env.update(env or {})
        binds = {**sb.ro_binds, **(ro_binds or {})}
        if sb.backend == "bwrap":
            cmd = sb._bwrap_cmd(self.work, base_env, lim, binds) + lim.prlimit() + argv
            popen_env = {}
        else:
            cmd = lim.prlimit() + [_unsafe_path(a, self.work, binds) for a in argv]
            popen_env = {k: _unsafe_path(v, self.work, binds) for k, v in base_env.items()}
        return sb._execute(cmd, self.work, out_path, pass_fds, popen_env, lim, stdin, merge_stderr)


def _unsafe_path(arg: str, work: Path, binds: dict[str, str]) -> str:
    """Under the unsafe backend nothing is mounted: map sandbox paths back to host paths."""
    arg = arg.replace(WORKDIR, str(work))
    for host, inside in binds.items():
        arg = arg.replace(inside, host)
    return arg


def _wait(proc: subprocess.Popen, timeout: float) -> int:
    """Wait for exit without Popen.wait's sleep-polling loop, which adds milliseconds to every short run."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # no pidfd (old kernel/Python): fall back to polling
        return proc.wait(timeout=timeout)
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        if not poller.poll(timeout * 1000):
            raise subprocess.TimeoutExpired(proc.args, timeout)
    finally:
        os.close(pidfd)
    return proc.wait()


def _read_child_pid(fd: int) -> int | None:
    if fd < 0:
        return None
    ready, _, _ = select.select([fd], [], [], 1.0)
    if not ready:
        return None
    try:
        return int(json.loads(os.read(fd, 4096).decode().split("}")[0] + "}")["child-pid"])
    except (ValueError, KeyError, OSError):
        return None


def _wait_gone(pid: int | None, timeout: float = 10.0) -> None:
    """Wait until a process (not our child) has exited, via a pidfd."""
    if pid is None:
        return
    try:
        pidfd = os.pidfd_open(pid)
    except (ProcessLookupError, OSError):
        return  # already gone
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        poller.poll(timeout * 1000)
    finally:
        os.close(pidfd)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
