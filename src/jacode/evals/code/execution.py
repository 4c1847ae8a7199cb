"""Turn (program, sandbox) into a verdict, many programs at a time.

A program passes only when the sandboxed runner printed this run's random token followed by "pass".
Everything else is a non-pass with a status: fail (assertion), error (other exception), exit (ended before
the checks finished), timeout, memory, output_limit, killed (signal), sandbox_error.
"""

from __future__ import annotations

import ast
import hashlib
import os
import secrets
import sys
import threading
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from jacode.evals.code import javabatch, pch
from jacode.evals.code.forkserver import ForkServer, ForkServerError, forkserver_supported
from jacode.evals.code.languages import CPP_FLAGS, JAVATUPLES, get_language
from jacode.evals.code.sandbox import WORKDIR, Limits, RunResult, Sandbox

RUNNER = Path(__file__).with_name("pyrunner.py")


@dataclass
class Verdict:
    passed: bool
    status: str
    duration_s: float
    detail: str
    extra: dict = field(default_factory=dict)  # e.g. per-case verdicts of a judged program

    def as_dict(self) -> dict:
        return {"passed": self.passed, "status": self.status, "duration_s": round(self.duration_s, 4),
                "detail": self.detail, **self.extra}


PYTHON_MOUNT = "/run/jacode-python"
RUNNER_SOURCE = RUNNER.read_text(encoding="utf-8")


def python_location() -> tuple[str, str]:
    """(prefix, executable relative to it) of this process's base interpreter."""
    real = os.path.realpath(sys.executable)
    prefix = os.path.realpath(sys.base_prefix)
    rel = os.path.relpath(real, prefix)
    if rel.startswith(".."):  # unusual layout: use the executable's own directory tree
        prefix = os.path.dirname(os.path.dirname(real))
        rel = os.path.relpath(real, prefix)
    return prefix, rel


def prepare_python(sandbox: Sandbox) -> tuple[str, dict[str, str]]:
    """Make this process's base interpreter visible inside the sandbox; return (executable, env).

    Samples run with -I -S: the standard library only (what HumanEval-style tasks use), and no site
    hooks of the host slowing every start.
    The interpreter's prefix is bind-mounted read-only at a fixed path because the sandbox uid may not be
    allowed to reach where it lives (pyenv under /root, for instance). Same interpreter, same stdlib.
    """
    prefix, rel = python_location()
    sandbox.ro_binds[prefix] = PYTHON_MOUNT
    env = {"LD_LIBRARY_PATH": f"{PYTHON_MOUNT}/lib", "PYTHONHOME": PYTHON_MOUNT}
    return f"{PYTHON_MOUNT}/{rel}", env


def run_python(sandbox: Sandbox, program: str) -> Verdict:
    token = secrets.token_hex(16)
    r, w = os.pipe()
    try:
        os.write(w, token.encode())
        os.close(w)
        w = -1
        os.set_inheritable(r, True)
        exe, env = prepare_python(sandbox)
        # The pipe's descriptor number is inherited unchanged through bwrap, setpriv and prlimit.
        result = sandbox.run(
            [exe, "-I", "-S", f"{WORKDIR}/_jacode_runner.py", f"{WORKDIR}/program.py", str(r)],
            {"program.py": program, "_jacode_runner.py": RUNNER_SOURCE}, pass_fds=(r,), env=env,
        )
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
    return classify(result, token, sandbox.cpu_limit())


def classify(result: RunResult, token: str, cpu_limit: float | None = None, python: bool = True) -> Verdict:
    report = None
    for line in reversed(result.output.splitlines()):
        if line.startswith(token + " "):
            try:
                status, detail = ast.literal_eval(line[len(token) + 1:])
                report = {"status": str(status), "detail": str(detail)}
            except (ValueError, SyntaxError, TypeError):
                report = None
            break
    tail = result.output[-1000:]
    cpu_exhausted = result.duration_s >= cpu_limit - 0.05 if cpu_limit else False
    if result.timed_out:
        return Verdict(False, "timeout", result.duration_s, "wall-clock limit reached")
    if report is not None and result.returncode == 0:
        status = report.get("status", "error")
        return Verdict(status == "pass", status, result.duration_s, report.get("detail", ""))
    if result.output_truncated:
        return Verdict(False, "output_limit", result.duration_s, "output exceeded the file-size limit")
    sig = result.signal
    if not python and (result.returncode not in (0,) and (sig is None or sig == 6)):
        # A compiled program's failed assertion: non-zero exit (Java, C#, JS) or abort() (C++ assert).
        return Verdict(False, "fail", result.duration_s, tail[-500:])
    if sig is not None:
        name = {9: "SIGKILL", 24: "SIGXCPU", 11: "SIGSEGV", 6: "SIGABRT", 25: "SIGXFSZ"}.get(sig, f"signal {sig}")
        status = "timeout" if sig == 24 or (sig == 9 and cpu_exhausted) else "killed"
        return Verdict(False, status, result.duration_s, f"terminated by {name}; output tail: {tail[-300:]}")
    if "MemoryError" in tail:
        return Verdict(False, "memory", result.duration_s, tail[-300:])
    return Verdict(False, "exit", result.duration_s,
                   f"exited with status {result.returncode} before the checks finished; output tail: {tail[-300:]}")


class PythonExecutor:
    """Runs Python programs, on warm sandboxes (one per thread) where possible, else one bwrap per run.

    Both give each program the same isolation; the warm one saves ~15 ms of start-up per program. A warm
    server that fails is replaced once; if that fails too, the program runs on the per-run path.
    """

    def __init__(self, sandbox: Sandbox, warm: bool | None = None):
        self.sandbox = sandbox
        supported = sandbox.backend == "bwrap" and forkserver_supported()
        self.warm = supported if warm is None else (warm and supported)
        self._local = threading.local()
        self._servers: list[ForkServer] = []
        self._lock = threading.Lock()

    def _server(self) -> ForkServer:
        fs = getattr(self._local, "server", None)
        if fs is None or not fs.alive():
            fs = ForkServer(*python_location(), self.sandbox.limits)
            self._local.server = fs
            with self._lock:
                self._servers.append(fs)
        return fs

    def run(self, program: str) -> Verdict:
        if self.warm:
            for _attempt in range(2):
                token = secrets.token_hex(16)
                try:
                    result = self._server().run({"program.py": program}, "program.py", token)
                except ForkServerError as e:
                    self._local.server = None
                    last = e
                    continue
                return classify(result, token, self.sandbox.cpu_limit())
            warnings.warn(f"warm sandbox unavailable ({last}); running this program on the per-run sandbox",
                          RuntimeWarning, stacklevel=2)
        return run_python(self.sandbox, program)

    def close(self) -> None:
        with self._lock:
            for fs in self._servers:
                fs.close()
            self._servers.clear()


JAVA_BATCH = 16  # programs per compiler process
JAVA_CLASSPATH = JAVATUPLES


def _digest(program: str) -> str:
    return hashlib.sha256(program.encode()).hexdigest()


COMPILE_LIMITS = Limits(timeout_s=60.0, memory_mb=4096, nproc=128, fsize_mb=128, tmp_mb=256)


class CompiledExecutor:
    """Runs C++, Java, C# and JavaScript programs: compile (if needed), then run, in one fresh workspace.

    Compile and run are separate sandboxed commands with separate limits (a compiler may need more time
    and memory than the program is allowed); the run's wall clock starts after the compile.
    """

    def __init__(self, sandbox: Sandbox, language: str, use_pch: bool = True, batch_compile: bool = True):
        self.sandbox = sandbox
        self.use_pch = use_pch
        self.batch_compile = batch_compile
        self._compiled: dict[str, list[tuple[bool, dict[str, bytes] | str]]] = {}
        self._lock = threading.Lock()
        self.lang = get_language(language)
        self.compile_limits = replace(COMPILE_LIMITS, memory_kind=self.lang.memory_kind)
        self.run_limits = replace(sandbox.limits, memory_kind=self.lang.memory_kind)

    def prepare(self, programs: list[str], workers: int) -> None:
        """Java: compile the programs in batches, each batch in one sandboxed JVM (see javabatch)."""
        if self.lang.name != "java" or not self.batch_compile or len(programs) < 2:
            return
        batches = [programs[i:i + JAVA_BATCH] for i in range(0, len(programs), JAVA_BATCH)]

        def compile_one(batch: list[str]) -> None:
            limits = replace(self.compile_limits, timeout_s=self.compile_limits.timeout_s + 5 * len(batch))
            results = javabatch.compile_batch(self.sandbox, [self.lang.files(p) for p in batch], JAVA_CLASSPATH,
                                              limits)
            if results is None:
                return  # these programs get compiled one by one in run()
            with self._lock:
                for prog, res in zip(batch, results):
                    self._compiled.setdefault(_digest(prog), []).append(res)

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            list(pool.map(compile_one, batches))

    def run(self, program: str) -> Verdict:
        token = secrets.token_hex(16)
        with self._lock:  # one compiled copy per run of this program (copies are compiled separately too)
            queue = self._compiled.get(_digest(program))
            pre = queue.pop() if queue else None
        files: dict[str, str | bytes] = dict(self.lang.files(program))
        if pre is not None:
            ok, out = pre
            if not ok:
                return Verdict(False, "compile_error", 0.0, out)
            files.update(out)
        with self.sandbox.workspace(files) as ws:
            if self.lang.compile and pre is None:
                argv, binds = self._compile_command(program)
                c = ws.exec(argv, limits=self.compile_limits, ro_binds=binds)
                if c.timed_out or c.returncode != 0:
                    why = "compiler timed out" if c.timed_out else c.output[-1500:]
                    return Verdict(False, "compile_error", c.duration_s, why)
            r, w = os.pipe()
            try:
                os.write(w, token.encode())
                os.close(w)
                # Java and C# read the token through /proc/self/fd/N, which reopens the pipe: the sandbox's
                # uid needs permission on it (nothing else can reach this descriptor).
                os.fchmod(r, 0o444)
                result = ws.exec(self.lang.run_argv(r), limits=self.run_limits, pass_fds=(r,))
            finally:
                os.close(r)
        return classify(result, token, self.run_limits.cpu_limit(), python=False)

    def _compile_command(self, program: str) -> tuple[list[str], dict[str, str]]:
        argv = list(self.lang.compile)
        if self.lang.name == "cpp" and self.use_pch and pch.qualifies(program):
            root = pch.pch_dir(tuple(CPP_FLAGS))
            if root is not None:
                # -include before everything: the program's own #include lines then hit their guards.
                return argv[:1] + ["-include", f"{pch.MOUNT}/jacode_pch.h", "-Winvalid-pch"] + argv[1:], \
                    {str(root): pch.MOUNT}
        return argv, {}

    def close(self) -> None:
        pass


def make_executor(sandbox: Sandbox, language: str, warm: bool | None = None):
    if language == "python":
        return PythonExecutor(sandbox, warm=warm)
    return CompiledExecutor(sandbox, language)


def program_key(program: str, limits: Limits) -> str:
    return hashlib.sha256(repr((program, limits.fingerprint())).encode()).hexdigest()


def run_many(
    programs: list[str],
    sandbox: Sandbox,
    *,
    workers: int,
    dedup: bool = True,
    on_result: Callable[[int, Verdict], None] | None = None,
    skip: Iterable[int] = (),
    warm: bool | None = None,
    language: str = "python",
    runner: Callable[[int, str], Verdict] | None = None,
    keys: list[str] | None = None,
) -> dict[int, Verdict]:
    """Run programs[i] for every i not in skip; identical programs run once when dedup is on.

    on_result is called (from worker threads, serialised by a lock) as each index gets its verdict, so the
    caller can append it to disk immediately. `runner(i, program)` replaces the language executor (the judge
    uses it); `keys` then says which programs are the same job for deduplication.
    """
    skip = set(skip)
    groups: dict[str, list[int]] = {}
    for i, prog in enumerate(programs):
        if i in skip:
            continue
        ident = keys[i] if keys is not None else language + "\0" + prog
        key = program_key(ident, sandbox.limits) if dedup else str(i)
        groups.setdefault(key, []).append(i)
    verdicts: dict[int, Verdict] = {}
    lock = threading.Lock()

    executor = make_executor(sandbox, language, warm=warm) if runner is None else None

    def work(indices: list[int]) -> None:
        try:
            i = indices[0]
            verdict = runner(i, programs[i]) if runner is not None else executor.run(programs[i])
        except Exception as e:  # noqa: BLE001 - a harness failure is this sample's verdict, not a crash
            verdict = Verdict(False, "sandbox_error", 0.0, f"{type(e).__name__}: {e}")
        with lock:
            for i in indices:
                verdicts[i] = verdict
                if on_result:
                    on_result(i, verdict)

    # Longest-first is unknown up front; submission order keeps results roughly in input order.
    try:
        if hasattr(executor, "prepare"):
            executor.prepare([programs[idx[0]] for idx in groups.values()], workers)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            list(pool.map(work, groups.values()))
    finally:
        if executor is not None:
            executor.close()
    return verdicts
