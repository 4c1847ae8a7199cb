"""Value checks for MultiPL-E's languages (C++, Java, C#, JavaScript): the candidate only computes values.

For each sample, one sandbox job compiles and runs the candidate's program (split.candidate_files): it evaluates
`candidate(ARGS)` check by check and reports each value on fd 3. The expected values come from a trusted
program built from the benchmark alone (split.expected_files), run once per task in its own sandbox job and
cached outside anything a sample can see. jacode compares the two here (split.compare, with the language's own
equality). The candidate's program holds no assert and no expected value, so nothing it does — `#define
assert`, `Trace.Listeners.Clear()`, patching `node:assert`, its own `operator==`, exiting early — can make a
check pass: only the right value can.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import cache
from pathlib import Path

from jacode.io import atomic_write_text
from jacode.languages import CPP_STD, JAVATUPLES, get_language
from jacode.sandbox import javabatch, pch, split
from jacode.sandbox.checks import SIGNALS, ValueCheck, Verdict
from jacode.sandbox.isolation import Limits, Sandbox, Step, StepResult

COMPILE_LIMITS = Limits(timeout_s=60.0, memory_mb=4096, nproc=128, fsize_mb=128, tmp_mb=256)
EXPECTED_RUN_LIMITS = Limits(timeout_s=30.0, memory_mb=2048)
JAVA_BATCH = 16  # programs per compiler JVM


def expected_cache_dir() -> Path:
    """Where expected values are kept: never bound into any sandbox (unlike the tools directory)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jacode" / "expected"


@cache
def _toolchain(language: str) -> str:
    """The toolchain's version: expected values are recomputed when it changes."""
    cmd = {"cpp": ["g++", "--version"], "java": ["javac", "-version"], "cs": ["mcs", "--version"],
           "js": ["node", "--version"]}[language]
    if shutil.which(cmd[0]) is None:
        return "missing"
    out = subprocess.run(cmd, capture_output=True, text=True)
    return (out.stdout + out.stderr).strip()


@cache
def _code_version() -> str:
    """jacode's own code that shapes expected values: the splitter, the decoder and the serializers."""
    here = Path(__file__).parent
    parts = [here / "split.py", here / "values.py", *sorted((here / "serializers").iterdir())]
    return hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()[:16]


@cache
def _cpp_linker() -> list[str]:
    """`-fuse-ld=gold` where g++ can link with gold: ~25 ms of CPU per program instead of ld.bfd's ~60 ms (a
    tenth of a sample's cost once the PCH has cut the compile). The same objects and libraries are linked; only
    the linker differs. Tried once per process: [] (the default linker) when gold is absent or fails."""
    gxx = shutil.which("g++")
    if gxx is None or shutil.which("ld.gold") is None:
        return []
    with tempfile.TemporaryDirectory(prefix="jacode-gold-") as d:
        (Path(d) / "t.cpp").write_text("#include <string>\nint main() { return std::string(\"ok\").size() - 2; }\n")
        ok = subprocess.run([gxx, CPP_STD, "-fuse-ld=gold", "-o", f"{d}/t", f"{d}/t.cpp"],
                            capture_output=True).returncode == 0 and subprocess.run([f"{d}/t"]).returncode == 0
    return ["-fuse-ld=gold"] if ok else []


def _cpp_helpers(program: str, tools_mount: str) -> tuple[list[str], list[str]]:
    """g++ arguments (before the source, after it) that link the value writer's prebuilt helpers (pch.py), for
    a program that holds jacode's value writer; ([], []) otherwise or when they cannot be built."""
    if split.serializer("cpp") not in program:
        return [], []
    return pch.helpers_args((CPP_STD,), tools_mount)


def _problem(check: ValueCheck) -> dict:
    return {"language": check.language, "task_id": check.task_id, "prompt": check.prompt, "tests": check.tests}


class ValueRunner:
    def __init__(self, sandbox: Sandbox, language: str, use_pch: bool = True, batch_compile: bool = True):
        self.sandbox = sandbox
        self.lang = get_language(language)
        if self.lang.values is None:
            raise ValueError(f"{language}: no value-check row in jacode.languages")
        self.use_pch, self.batch_compile = use_pch, batch_compile
        self.compile_limits = replace(COMPILE_LIMITS, memory_kind=self.lang.memory_kind)
        self.run_limits = replace(sandbox.limits, memory_kind=self.lang.memory_kind)
        self.expected_limits = replace(EXPECTED_RUN_LIMITS, memory_kind=self.lang.memory_kind)
        self._expected: dict[str, tuple[bool, bytes | str]] = {}
        self._compiled: dict[str, list[tuple[bool, dict[str, bytes] | str]]] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    # ---- expected values (trusted) -------------------------------------------------------------------------
    def _expected_key(self, check: ValueCheck) -> str:
        ident = [self.lang.name, _code_version(), _toolchain(self.lang.name), check.prompt, check.tests]
        return hashlib.sha256(json.dumps(ident).encode()).hexdigest()

    def expected(self, check: ValueCheck) -> tuple[bool, bytes | str]:
        """(True, the expected-values stream) or (False, why the task's test cannot be used)."""
        key = self._expected_key(check)
        with self._lock:
            if key in self._expected:
                return self._expected[key]
            lock = self._key_locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._expected:
                self._expected[key] = self._load_or_compute(check, key)
        return self._expected[key]

    def _load_or_compute(self, check: ValueCheck, key: str) -> tuple[bool, bytes | str]:
        path = expected_cache_dir() / self.lang.name / f"{key}.json"
        if path.exists():
            rec = json.loads(path.read_text())
            return (True, base64.b64decode(rec["stream"])) if rec["ok"] else (False, rec["detail"])
        result = self._compute_expected(check)
        ok, value = result
        atomic_write_text(path, json.dumps({"ok": ok, "task_id": check.task_id, **(
            {"stream": base64.b64encode(value).decode("ascii")} if ok else {"detail": value})}))
        return result

    def _compute_expected(self, check: ValueCheck) -> tuple[bool, bytes | str]:
        problem = _problem(check)
        try:
            files = split.expected_files(problem)
            checks = split.problem_split(problem).checks
        except split.SplitError as e:
            return False, f"the benchmark's test cannot be split: {e}"
        steps = self._steps(files, self.expected_limits, compile_needed=True)
        job = self.sandbox.run_steps(files, steps)
        if self.lang.values.compile:
            c = job.steps[0]
            if c.timed_out or c.returncode != 0:
                return False, ("the benchmark's test does not compile (so no sample can pass, as in MultiPL-E): "
                               + (c.output[-1500:] if not c.timed_out else "compiler timed out"))
        r = job.steps[-1]
        if r.timed_out or r.returncode != 0:
            return False, f"the expected-values program failed (status {r.returncode}): {r.output[-1000:]}"
        try:
            split.expected_values(checks, r.results or b"")
        except split.ExpectedValuesError as e:
            return False, str(e)
        return True, r.results or b""

    # ---- the candidate's program ---------------------------------------------------------------------------
    def _steps(self, files: dict[str, str], run_limits: Limits, compile_needed: bool) -> list[Step]:
        v = self.lang.values
        steps = []
        if v.compile and compile_needed:
            argv = list(v.compile)
            if self.lang.name == "cpp":
                before, after = _cpp_helpers(files["program.cpp"], self.sandbox.tools)
                argv[1:1] = before + _cpp_linker()
                argv += after
                if self.use_pch:
                    argv[1:1] = pch.include_args(files["program.cpp"], (CPP_STD,), self.sandbox.tools)
            steps.append(Step(argv, self.compile_limits, stop_unless_ok=True))
        steps.append(Step(list(v.run), run_limits, results=True))
        return steps

    def prepare(self, checks: list[ValueCheck], workers: int) -> None:
        """Before the runs: expected values for every task, and (Java) the programs compiled in batches."""
        tasks = list({self._expected_key(c): c for c in checks}.values())
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(self.expected, tasks))
        if self.lang.name != "java" or not self.batch_compile or len(checks) < 2:
            return
        file_sets = []
        for c in checks:
            try:
                file_sets.append(split.candidate_files(_problem(c), c.completion))
            except split.SplitError:
                continue
        batches = [file_sets[i:i + JAVA_BATCH] for i in range(0, len(file_sets), JAVA_BATCH)]

        def compile_one(batch: list[dict[str, str]]) -> None:
            limits = replace(self.compile_limits, timeout_s=self.compile_limits.timeout_s + 5 * len(batch))
            results = javabatch.compile_batch(self.sandbox, batch, JAVATUPLES, limits)
            if results is None:
                return  # these programs get compiled one by one in run()
            with self._lock:
                for files, res in zip(batch, results):
                    self._compiled.setdefault(_digest(files), []).append(res)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(compile_one, batches))

    def run(self, check: ValueCheck) -> Verdict:
        ok, expected = self.expected(check)
        if not ok:
            return Verdict(False, "compile_error", 0.0, str(expected))
        problem = _problem(check)
        try:
            files = split.candidate_files(problem, check.completion)
            checks = split.problem_split(problem).checks
        except split.SplitError as e:
            return Verdict(False, "sandbox_error", 0.0, f"the benchmark's test cannot be split: {e}")
        with self._lock:  # one compiled copy per run of this program (copies are compiled separately too)
            queue = self._compiled.get(_digest(files))
            pre = queue.pop() if queue else None
        job_files: dict[str, str | bytes] = dict(files)
        if pre is not None:
            compiled_ok, out = pre
            if not compiled_ok:
                return Verdict(False, "compile_error", 0.0, str(out))
            job_files.update(out)
        compile_here = bool(self.lang.values.compile) and pre is None
        job = self.sandbox.run_steps(job_files, self._steps(files, self.run_limits, compile_needed=compile_here))
        if compile_here:
            c = job.steps[0]
            if c.timed_out or c.returncode != 0:
                return Verdict(False, "compile_error", c.duration_s,
                               "compiler timed out" if c.timed_out else c.output[-1500:])
        r = job.steps[-1]
        return self._verdict(r, checks, expected)

    def _verdict(self, r: StepResult, checks, expected: bytes) -> Verdict:
        passed, status, detail = split.compare(self.lang.name, checks, expected, r.results or b"")
        tail = r.output[-300:]
        if passed and r.returncode == 0 and not r.timed_out:
            return Verdict(True, "pass", r.duration_s, "")
        if passed:  # every value was right, but the program did not end well (as MultiPL-E, a failure)
            status, detail = "exit", f"every check had its value, then the program ended with status {r.returncode}"
        if status == "exit":  # no value for a check: name how the program ended
            if r.timed_out:
                return Verdict(False, "timeout", r.duration_s, f"wall-clock limit reached; {detail}")
            if r.oom:
                return Verdict(False, "memory", r.duration_s, f"the sample's memory limit was reached; {detail}")
            if r.output_truncated or r.returncode == -25:
                return Verdict(False, "output_limit", r.duration_s, "output exceeded the file-size limit")
            if r.signal is not None:
                name = SIGNALS.get(r.signal, f"signal {r.signal}")
                kind = "timeout" if r.signal == 24 else "killed"
                return Verdict(False, kind, r.duration_s, f"terminated by {name}; {detail}; output tail: {tail}")
            return Verdict(False, "exit", r.duration_s, f"{detail}; status {r.returncode}; output tail: {tail}")
        return Verdict(False, status, r.duration_s, detail)


def _digest(files: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
