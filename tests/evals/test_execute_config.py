"""`jacode eval execute` refuses bad limits before any work, and refuses to resume under other settings."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from jacode.cli import app
from jacode.errors import JacodeError
from jacode.evals.execute import ExecuteConfig, execute
from jacode.io import read_jsonl, write_jsonl

runner = CliRunner()


@pytest.mark.parametrize("args, message", [
    (["--timeout", "0"], "--timeout must be > 0"),
    (["--timeout", "-1"], "--timeout must be > 0"),
    (["--memory-mb", "-5"], "--memory-mb must be an integer > 0"),
    (["--memory-mb", "0"], "--memory-mb must be an integer > 0"),
    (["--workers", "0"], "--workers must be an integer >= 1"),
])
def test_bad_limits_are_refused_before_any_work(tmp_path, args, message):
    samples = tmp_path / "s.jsonl"
    write_jsonl(samples, [{"task_id": "HumanEval/0", "completion": "    return True\n"}])
    out = tmp_path / "out"
    r = runner.invoke(app, ["eval", "execute", "--benchmark", "humaneval", "--samples", str(samples), "--out",
                            str(out), *args])
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert not out.exists(), "nothing may be written before the settings are checked"


def test_resume_with_other_settings_is_refused_with_a_diff(tmp_path, bwrap):
    samples = tmp_path / "s.jsonl"
    write_jsonl(samples, [{"task_id": "HumanEval/0", "completion": "    return True\n"},
                          {"task_id": "HumanEval/1", "completion": "    return []\n"}])
    out = tmp_path / "out"
    cfg = ExecuteConfig(benchmark="humaneval", workers=1, timeout_s=5.0)
    execute(cfg, samples, out)
    # An interrupted run leaves a partial file; resuming it under another timeout would mix verdicts.
    (out / "results.partial.jsonl").write_text(json.dumps({"index": 0, "hash": "x", "verdict": {}}) + "\n")
    with pytest.raises(JacodeError, match=r"timeout_s.*5\.0.*3\.0"):
        execute(ExecuteConfig(benchmark="humaneval", workers=1, timeout_s=3.0), samples, out)
    with pytest.raises(JacodeError, match="memory_mb"):
        execute(ExecuteConfig(benchmark="humaneval", workers=1, timeout_s=5.0, memory_mb=1024), samples, out)
    # The same settings resume (workers may differ: they do not change verdicts).
    rows = list(read_jsonl(execute(ExecuteConfig(benchmark="humaneval", workers=2, timeout_s=5.0), samples, out)))
    assert [r["passed"] for r in rows] == [False, False]
