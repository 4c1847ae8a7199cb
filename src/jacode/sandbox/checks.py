"""Checks and verdicts: what a sample is asked to do, and the trusted side's decision about it.

A benchmark turns (problem, completion) into one of three kinds of check; `run_checks` runs many of them on a
Sandbox and gives each a Verdict:
- PythonCheck: the candidate's code runs in one sandboxed process, the checks in another (runtime/pycheck.py);
  only plain values cross.
- ValueCheck (C++, Java, C#, JavaScript): the sandboxed program only evaluates the candidate on each check's
  arguments and reports the values; the expected values come from a trusted program built from the benchmark
  alone; jacode compares them with the language's own equality (split.py, values.py).
- JudgedProgram (stdin/stdout): the program runs on each case's input; jacode compares its output (judge.py).

Statuses: pass, fail (a check failed), error (the candidate raised), exit (it ended before the checks were
done), timeout, memory, output_limit, killed (a signal), compile_error, sandbox_error (jacode's own failure),
and the judge's AC/WA/TLE/MLE/RE/CE.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from jacode.sandbox.isolation import Sandbox, ServerError, with_limits


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


@dataclass(frozen=True)
class PythonCheck:
    """A Python sample. `candidate` runs in one process; `tests` (after `prelude`) and then `call` run in
    another, with each of `names` (the first also as `candidate`) bound to a proxy of the candidate's function.

    With no tests, the verdict says only whether the candidate's code ran to its end without an exception:
    that is a run, not a check, and is used for whole programs (the sandbox's own tests).
    """

    candidate: str
    tests: str = ""
    names: tuple[str, ...] = ()
    prelude: str = ""  # trusted code for the checker: the benchmark prompt's helpers (never the completion)
    call: str = ""  # e.g. "check(has_close_elements)"
    language: str = "python"
    timeout_s: float | None = None  # this check's wall-clock limit (default: the sandbox's)

    def spec(self) -> dict[str, Any]:
        return {"prelude": self.prelude, "tests": self.tests, "names": list(self.names), "call": self.call}


@dataclass(frozen=True)
class ValueCheck:
    """A MultiPL-E-style sample in a compiled language or JavaScript."""

    language: str
    task_id: str
    prompt: str
    tests: str
    completion: str


@dataclass(frozen=True)
class JudgedProgram:
    """A whole program judged on stdin/stdout cases (AtCoder style)."""

    language: str
    source: str
    task_id: str
    time_limit_s: float
    memory_mb: int
    cases: tuple[tuple[str, str, str], ...]  # (name, input file, expected output file)
    checker: str = "exact"  # exact | float | special
    abs_tol: float = 1e-6
    rel_tol: float = 1e-6
    checker_path: str | None = None


Check = PythonCheck | ValueCheck | JudgedProgram


def check_key(check: Check, sandbox: Sandbox) -> str:
    """Identical checks under identical limits get one run (when deduplication is on)."""
    payload = json.dumps([type(check).__name__, asdict(check), sandbox.limits.fingerprint()], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


# ---- Python ----------------------------------------------------------------------------------------------
SIGNALS = {9: "SIGKILL", 24: "SIGXCPU", 11: "SIGSEGV", 6: "SIGABRT", 25: "SIGXFSZ"}


def python_verdict(facts: dict[str, Any], fsize_bytes: int) -> Verdict:
    """The verdict from a pycheck job's facts: the checker's report decides; the rest only names the failure."""
    duration = float(facts.get("duration_s", facts.get("wall_s", 0.0)))
    if "report" not in facts:
        if facts.get("job_timed_out"):
            return Verdict(False, "timeout", duration, "wall-clock limit reached")
        if facts.get("oom_kills"):
            return Verdict(False, "memory", duration, "the sample's memory limit was reached (cgroup)")
        if facts.get("init_status") == -24:  # the checker (the job's init) used up its CPU time on the answers
            return Verdict(False, "timeout", duration, "the checks ran out of CPU time on the candidate's answers")
        return Verdict(False, "sandbox_error", duration, str(facts.get("error", "no report from the checker")))
    status, detail, _calls = facts["report"]
    if status == "pass":
        return Verdict(True, "pass", duration, "")
    cand = facts.get("candidate", {})
    tail = cand.get("output", "")[-300:]
    if facts.get("oom_kills"):
        return Verdict(False, "memory", duration, f"the sample's memory limit was reached (cgroup); {detail}")
    rc = cand.get("returncode")
    if cand.get("output_size", 0) >= fsize_bytes or rc == -25:
        return Verdict(False, "output_limit", duration, "output exceeded the file-size limit")
    if status == "exit":
        if rc is not None and rc < 0:
            sig = -rc
            kind = "timeout" if sig == 24 else "killed"
            return Verdict(False, kind, duration, f"terminated by {SIGNALS.get(sig, f'signal {sig}')}; {detail}; "
                                                  f"output tail: {tail}")
        if "MemoryError" in tail:
            return Verdict(False, "memory", duration, tail)
        code = "" if rc is None else f" (status {rc})"
        return Verdict(False, "exit", duration, f"{detail}{code}; output tail: {tail}")
    return Verdict(False, status, duration, detail)


class PythonRunner:
    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def run(self, check: PythonCheck) -> Verdict:
        limits = None if check.timeout_s is None else with_limits(self.sandbox, timeout_s=check.timeout_s)
        facts = self.sandbox.run_pycheck(check.candidate, check.spec(), limits)
        verdict = python_verdict(facts, self.sandbox.limits.fsize_mb * 2**20)
        if verdict.passed and check.tests and facts["report"][2] == 0:
            # Checks that never called the candidate prove nothing about it (`assert 1 == 1`).
            return Verdict(False, "fail", verdict.duration_s, "the checks never called the candidate's code")
        return verdict


# ---- running many ----------------------------------------------------------------------------------------
def make_runner(sandbox: Sandbox, check: Check):
    if isinstance(check, PythonCheck):
        return PythonRunner(sandbox)
    if isinstance(check, JudgedProgram):
        from jacode.sandbox.judge import JudgeRunner

        return JudgeRunner(sandbox)
    from jacode.sandbox.compiled import ValueRunner

    return ValueRunner(sandbox, check.language)


def run_checks(
    checks: list[Check],
    sandbox: Sandbox,
    *,
    workers: int,
    dedup: bool = True,
    on_result: Callable[[int, Verdict], None] | None = None,
    skip: Iterable[int] = (),
) -> dict[int, Verdict]:
    """A verdict for checks[i] for every i not in skip; identical checks run once when dedup is on.

    on_result is called (from worker threads, serialised by a lock) as each index gets its verdict, so that
    the caller can append it to disk at once. A failure of jacode's own machinery is that sample's
    `sandbox_error` verdict, never a crash of the whole run.
    """
    if workers < 1:
        raise ValueError("workers must be >= 1")
    skip = set(skip)
    groups: dict[str, list[int]] = {}
    for i, check in enumerate(checks):
        if i in skip:
            continue
        key = check_key(check, sandbox) if dedup else str(i)
        groups.setdefault(key, []).append(i)
    verdicts: dict[int, Verdict] = {}
    lock = threading.Lock()
    runners: dict[tuple[type, str], Any] = {}
    for idx in groups.values():
        c = checks[idx[0]]
        runners.setdefault((type(c), c.language), make_runner(sandbox, c))

    def work(indices: list[int]) -> None:
        check = checks[indices[0]]
        try:
            verdict = runners[(type(check), check.language)].run(check)
        except ServerError as e:
            verdict = Verdict(False, "sandbox_error", 0.0, f"ServerError: {e}")
        except Exception as e:  # noqa: BLE001 - a harness failure is this sample's verdict, not a crash
            verdict = Verdict(False, "sandbox_error", 0.0, f"{type(e).__name__}: {e}")
        with lock:
            for i in indices:
                verdicts[i] = verdict
                if on_result:
                    on_result(i, verdict)

    for key, runner in runners.items():
        prepare = getattr(runner, "prepare", None)  # e.g. expected values, batch compilation
        if prepare is not None:
            prepare([checks[idx[0]] for idx in groups.values() if (type(checks[idx[0]]), checks[idx[0]].language)
                     == key], workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(work, groups.values()))
    return verdicts
