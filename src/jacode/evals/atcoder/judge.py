"""Judge a program on a problem's cases: per-case AC, WA, TLE, MLE, RE, or CE for the program.

Each case runs as its own sandboxed command (fresh PID namespace and uid) in the sample's workspace, with
the case's input on stdin; stdout is compared with the expected output:
- exact: token-wise (whitespace-separated tokens equal; trailing whitespace and blank lines ignored)
- float: token-wise, numeric tokens equal within abs_tol or rel_tol
- special: the problem's checker.py decides (run in the sandbox too)
The sample's overall verdict is AC when every case is AC, else the first non-AC verdict in case order.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from jacode.evals.code.execution import Verdict, prepare_python
from jacode.evals.code.sandbox import WORKDIR, Limits, Sandbox

COMPILE = {"cpp": ["g++", "-std=c++17", "-O2", "-o", f"{WORKDIR}/main", f"{WORKDIR}/main.cpp"]}
SOURCE = {"python": "main.py", "cpp": "main.cpp"}


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


def _run_verdict(result, time_limit: float) -> str | None:
    """Verdict from how the run ended, or None when it ended normally (then the output decides)."""
    tail = result.output or ""
    err = ""
    if result.output_path is not None:
        err_file = result.output_path.with_name(result.output_path.name + ".err")
        if err_file.exists():
            err = err_file.read_text(errors="replace")[-2000:]
    if result.timed_out or result.duration_s > time_limit:
        return "TLE"
    if result.returncode != 0:
        if "MemoryError" in err or "bad_alloc" in err or "MemoryError" in tail:
            return "MLE"
        return "RE"
    return None


def judge_program(sandbox: Sandbox, problem: dict[str, Any], language: str, source: str) -> Verdict:
    if language not in SOURCE:
        return Verdict(False, "CE", 0.0, f"language {language!r} is not supported by the judge (python, cpp)")
    if language == "python":
        try:
            compile(source, "main.py", "exec")  # syntax check only; nothing is executed here
        except SyntaxError as e:
            return Verdict(False, "CE", 0.0, f"SyntaxError: {e}")
    tl = problem["time_limit_s"]
    run_limits = Limits(timeout_s=tl * 1.5 + 0.5, cpu_s=tl + 1, memory_mb=problem["memory_mb"] + 64,
                        fsize_mb=64, nproc=32)
    cases_out: list[dict[str, Any]] = []
    total = 0.0
    with sandbox.workspace({SOURCE[language]: source}) as ws:
        if language in COMPILE:
            c = ws.exec(COMPILE[language], limits=Limits(timeout_s=60, memory_mb=4096, fsize_mb=128))
            if c.timed_out or c.returncode != 0:
                return Verdict(False, "CE", c.duration_s, c.output[-1500:])
            argv, env = [f"{WORKDIR}/main"], {}
        else:
            exe, env = prepare_python(sandbox)
            argv = [exe, "-I", "-S", f"{WORKDIR}/main.py"]
        for case in problem["cases"]:
            r = ws.exec(argv, limits=run_limits, stdin=Path(case["input"]), env=env, merge_stderr=False)
            total += r.duration_s
            verdict = _run_verdict(r, tl)
            if verdict is None:
                verdict = "AC" if _accepted(sandbox, problem, case, r.output_path) else "WA"
            cases_out.append({"case": case["name"], "verdict": verdict, "time_s": round(r.duration_s, 3)})
    first_bad = next((c for c in cases_out if c["verdict"] != "AC"), None)
    status = "AC" if first_bad is None else first_bad["verdict"]
    detail = "" if first_bad is None else f"{first_bad['verdict']} on {first_bad['case']}"
    return Verdict(first_bad is None, status, total, detail, extra={"cases": cases_out})


def _accepted(sandbox: Sandbox, problem: dict[str, Any], case: dict[str, Any], output_path: Path) -> bool:
    out = output_path.read_text(encoding="utf-8", errors="replace")
    expected = Path(case["output"]).read_text(encoding="utf-8")
    if problem["checker"] != "special":
        return tokens_equal(out, expected, problem["checker"], problem["abs_tol"], problem["rel_tol"])
    # The special judge runs sandboxed too: it reads contestant output, which is untrusted.
    files = {"checker.py": Path(problem["checker_path"]).read_text(encoding="utf-8"),
             "input.txt": Path(case["input"]).read_text(encoding="utf-8"), "expected.txt": expected, "output.txt": out}
    with sandbox.workspace(files) as ws:
        exe, env = prepare_python(sandbox)
        r = ws.exec([exe, "-I", "-S", f"{WORKDIR}/checker.py", f"{WORKDIR}/input.txt", f"{WORKDIR}/expected.txt",
                     f"{WORKDIR}/output.txt"], limits=replace(Limits(), timeout_s=30), env=env)
    return r.returncode == 0 and not r.timed_out
