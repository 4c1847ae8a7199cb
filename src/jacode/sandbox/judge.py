"""Judge a whole program on stdin/stdout cases: per-case AC, WA, TLE, MLE, RE, or CE for the program.

One sandbox job per sample: the compile step (if the language has one), then one step per case, each a fresh
process under its own uid with the case's input on stdin (what a step leaves running is killed before the
next). The expected outputs never enter the job: its stdout comes back and jacode compares it here:
- exact: token-wise (whitespace-separated tokens equal; trailing whitespace and blank lines ignored)
- float: token-wise, numeric tokens equal within abs_tol or rel_tol
- special: the problem's checker.py decides, run in a separate sandbox job of its own (it reads the
  contestant's output, which is untrusted, and the expected output, which the contestant must not see)
The sample's overall verdict is AC when every case is AC, else the first non-AC verdict in case order.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from jacode.languages import get_language
from jacode.sandbox.checks import JudgedProgram, Verdict
from jacode.sandbox.isolation import WORKDIR, Limits, Sandbox, Step, StepResult

COMPILE_LIMITS = Limits(timeout_s=60, memory_mb=4096, fsize_mb=128, tmp_mb=256)
CHECKER_LIMITS = Limits(timeout_s=30)


def tokens_equal(out: str, expected: str, checker: str, abs_tol: float, rel_tol: float) -> bool:
    got, want = out.split(), expected.split()
    if len(got) != len(want):
        return False
    for g, w in zip(got, want):
        if g == w:
            continue
        if checker != "float":
            return False
        try:
            gf, wf = float(g), float(w)
        except ValueError:
            return False
        if not (math.isfinite(gf) and math.isclose(gf, wf, rel_tol=rel_tol, abs_tol=abs_tol)):
            return False
    return True


def judged_program(problem: dict[str, Any], language: str, source: str) -> JudgedProgram:
    return JudgedProgram(
        language=language, source=source, task_id=problem["task_id"], time_limit_s=problem["time_limit_s"],
        memory_mb=problem["memory_mb"], cases=tuple((c["name"], c["input"], c["output"]) for c in problem["cases"]),
        checker=problem["checker"], abs_tol=problem["abs_tol"], rel_tol=problem["rel_tol"],
        checker_path=problem.get("checker_path"))


def judge_program(sandbox: Sandbox, problem: dict[str, Any], language: str, source: str) -> Verdict:
    return JudgeRunner(sandbox).run(judged_program(problem, language, source))


class JudgeRunner:
    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def run(self, p: JudgedProgram) -> Verdict:
        lang = get_language(p.language)
        judge = lang.judge
        if judge is None:
            return Verdict(False, "CE", 0.0, f"language {p.language!r} cannot be judged (no judge row)")
        if lang.name == "python":
            try:
                compile(p.source, judge.source, "exec")  # syntax check only; nothing is executed here
            except SyntaxError as e:
                return Verdict(False, "CE", 0.0, f"SyntaxError: {e}")
        tl = p.time_limit_s
        run_limits = Limits(timeout_s=tl * 1.5 + 0.5, cpu_s=tl + 1, memory_mb=p.memory_mb + 64, fsize_mb=64,
                            nproc=32, memory_kind=lang.memory_kind)
        steps = []
        if judge.compile:
            steps.append(Step(list(judge.compile), COMPILE_LIMITS, stop_unless_ok=True))
        run_argv = [a.replace("{python}", self.sandbox.python) for a in judge.run]
        for _name, inp, _out in p.cases:
            steps.append(Step(run_argv, run_limits, stdin=Path(inp).read_bytes(), split_stderr=True))
        job = self.sandbox.run_steps({judge.source: p.source}, steps)
        results = job.steps
        if judge.compile:
            c = results[0]
            if c.timed_out or c.returncode != 0:
                return Verdict(False, "CE", c.duration_s, "compiler timed out" if c.timed_out else c.output[-1500:])
            results = results[1:]
        cases_out: list[dict[str, Any]] = []
        total = 0.0
        for (name, inp, out), r in zip(p.cases, results):
            total += r.duration_s
            verdict = _run_verdict(r, tl)
            if verdict is None:
                verdict = "AC" if self._accepted(p, inp, out, r.stdout or b"") else "WA"
            cases_out.append({"case": name, "verdict": verdict, "time_s": round(r.duration_s, 3)})
        first_bad = next((c for c in cases_out if c["verdict"] != "AC"), None)
        status = "AC" if first_bad is None else first_bad["verdict"]
        detail = "" if first_bad is None else f"{first_bad['verdict']} on {first_bad['case']}"
        return Verdict(first_bad is None, status, total, detail, extra={"cases": cases_out})

    def _accepted(self, p: JudgedProgram, inp: str, out: str, stdout: bytes) -> bool:
        text = stdout.decode("utf-8", errors="replace")
        expected = Path(out).read_text(encoding="utf-8")
        if p.checker != "special":
            return tokens_equal(text, expected, p.checker, p.abs_tol, p.rel_tol)
        # The special judge: the problem's own code, in a job of its own (never the contestant's).
        files = {"checker.py": Path(p.checker_path).read_text(encoding="utf-8"), "input.txt": Path(inp).read_bytes(),
                 "expected.txt": expected, "output.txt": stdout}
        step = Step([self.sandbox.python, "-I", "-S", f"{WORKDIR}/checker.py", f"{WORKDIR}/input.txt",
                     f"{WORKDIR}/expected.txt", f"{WORKDIR}/output.txt"], CHECKER_LIMITS)
        r = self.sandbox.run_steps(files, [step]).steps[0]
        return r.returncode == 0 and not r.timed_out


def _run_verdict(result: StepResult, time_limit: float) -> str | None:
    """Verdict from how the run ended, or None when it ended normally (then the output decides)."""
    if result.timed_out or result.duration_s > time_limit:
        return "TLE"
    if result.returncode != 0:
        err = result.stderr or ""
        if result.oom or "MemoryError" in err or "bad_alloc" in err:
            return "MLE"
        return "RE"
    return None
