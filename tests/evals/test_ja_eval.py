"""Japanese generation evaluation: metrics against hand-computed values, strict judge parsing with retries and
failure accounting, both MT-Bench turns judged, ELYZA-style rubric, metric tasks — against real HTTP servers."""

from __future__ import annotations

import json
import math
import re
import threading

import pytest

from jacode.engines import make_engine
from jacode.evals.ja import metrics
from jacode.evals.ja.judge import parse_rating
from jacode.evals.registry import get_benchmark
from tests.support.jmt import answer_responder, jmt_dir, jmt_questions
from tests.support.servers import ScriptedServer


def test_metric_values_by_hand():
    assert metrics.exact_match("東京 ", ["東京"]) == 1.0 and metrics.exact_match("ｔｏｋｙｏ", ["tokyo"]) == 1.0
    assert metrics.exact_match("京都", ["東京", "大阪"]) == 0.0
    # char F1: 東京都 vs 東京 → overlap 2, P = 2/3, R = 1 → F1 = 0.8
    assert metrics.char_f1("東京都", ["東京"]) == pytest.approx(0.8)
    # Same characters, different order: true char F1 is 1, llm-jp-eval's fuzzy "char_f1" is not.
    assert metrics.char_f1("京東", ["東京"]) == 1.0
    assert metrics.fuzzy_ratio("京東", ["東京"]) == pytest.approx(0.5)  # indel similarity: LCS 1 → 2·1/4
    assert metrics.char_f1("abc", ["xyz"]) == 0.0
    # ROUGE over MeCab words: 猫/が/好き/です vs 犬/が/好き/です
    assert metrics.mecab_words("猫が好きです") == ["猫", "が", "好き", "です"]
    assert metrics.rouge_n("猫が好きです", "犬が好きです", 1) == pytest.approx(0.75)
    assert metrics.rouge_n("猫が好きです", "犬が好きです", 2) == pytest.approx(2 / 3)
    assert metrics.rouge_l("猫が好きです", "犬が好きです") == pytest.approx(0.75)
    assert metrics.rouge_l("好きです猫が", "猫が好きです") == pytest.approx(0.5)  # LCS 好き/です = 2 of 4
    # BLEU, ja-mecab: 私/は/昨日/東京/で/寿司/を/食べ/た vs …/買っ/た: n-gram precisions 8/9, 6/8, 5/7, 4/6, BP 1
    score, signature = metrics.bleu(["私は昨日東京で寿司を食べた"], ["私は昨日東京で寿司を買った"])
    expected = 100 * math.exp(sum(math.log(p) for p in (8 / 9, 6 / 8, 5 / 7, 4 / 6)) / 4)
    assert score == pytest.approx(expected, abs=1e-6) and "tok:ja-mecab" in signature
    assert metrics.bleu(["同じ文です。"], ["同じ文です。"])[0] == pytest.approx(100.0)


@pytest.mark.parametrize("text,rating", [("理由…評価：[[5]]", 5.0), ("Rating: [[ 7 ]]", 7.0), ("[[3]] and [[3]]", 3.0),
                                         ("[[11]]", None), ("[[3]] then [[4]]", None), ("評価は5です", None),
                                         ("[[7.5]]", 7.5)])
def test_strict_rating_parse(text, rating):
    assert parse_rating(text, 1, 10) == rating




class JudgeBehaviour:
    """Rates turn 1 [[6]] and turn 2 [[8]] (turn 2 is recognised by the second answer in the prompt); the first
    question's turn-1 judgment is malformed once (retried), the last question's are always malformed."""

    def __init__(self, flaky: str, broken: str):
        self.flaky, self.broken, self.seen = flaky, broken, set()
        self.lock = threading.Lock()

    def __call__(self, path, body):
        prompt = body["messages"][-1]["content"]
        turn2 = "二つ目の回答です。" in prompt
        if self.broken in prompt:
            return "よく書けています。"  # no rating at all
        if self.flaky in prompt and not turn2:
            with self.lock:
                first = prompt not in self.seen
                self.seen.add(prompt)
            if first:
                return "評価：[[6]] いや [[7]]"  # contradictory: unparseable
        return "理由。評価：[[8]]" if turn2 else "理由。評価：[[6]]"


@pytest.mark.parametrize("variant", ["japanese-mt-bench-stabilityai", "japanese-mt-bench-swallow"])
def test_jmt_bench_judges_both_turns_and_accounts_for_failures(bench_data, tmp_path, variant):
    from jacode.evals.ja.jmt_bench import JMTConfig, run_jmt

    src = bench_data / variant
    if not src.is_dir():
        pytest.skip(f"{src} not found")
    data, chosen = jmt_dir(src, tmp_path)
    behaviour = JudgeBehaviour(flaky=chosen[0]["turns"][0], broken=chosen[-1]["turns"][0])
    answers, judge = ScriptedServer(responder=answer_responder), ScriptedServer(responder=behaviour)
    try:
        bench = get_benchmark("jmt-bench")
        report = run_jmt(make_engine("openai", endpoint=answers.url, model_name="m"),
                         make_engine("openai", endpoint=judge.url, model_name="j"), tmp_path / "out",
                         JMTConfig(data=str(data), settings=bench.settings, judge_settings=bench.judge_settings,
                                   judge_retries=2, parse_mode="strict"))
    finally:
        answers.stop()
        judge.stop()
    rows = [json.loads(line) for line in (tmp_path / "out" / "judgments.jsonl").read_text().splitlines()]
    assert len(rows) == 2 * len(chosen) and report["judgments"] == 8
    ok = {(r["question_id"], r["turn"]): r for r in rows}
    good = [q for q in chosen[:-1]]
    assert all(ok[(str(q["question_id"]), 2)]["rating"] == 8 for q in good)  # turn 2 is judged, with turn 2's answer
    assert all(ok[(str(q["question_id"]), 1)]["rating"] == 6 for q in good)
    assert ok[(str(chosen[0]["question_id"]), 1)]["attempts"] == 2  # malformed once, retried
    broken = [ok[(str(chosen[-1]["question_id"]), t)] for t in (1, 2)]
    assert all(b["rating"] is None and b["attempts"] == 3 and len(b["raw"]) == 3 for b in broken)
    assert report["failed_judgments"] == 2 and report["turn2"]["mean"] == 8 and report["turn1"]["mean"] == 6
    # FastChat's reading of the same final answers agrees here (the retried one ends in a clean [[6]])
    assert report["parse"]["mode"] == "strict" and report["parse"]["other_mode_reads_differently"] == 0
    assert report["overall"]["n"] == 6 and report["overall"]["ci95"][0] <= 7 <= report["overall"]["ci95"][1]
    assert set(report["categories"]) == {"reasoning", "writing"}
    # The reasoning question is graded against its reference answer; turn 2 with a multi-turn prompt.
    prompts = [r["body"]["messages"][-1]["content"] for r in judge.requests]
    reasoning = chosen[0]["turns"][0]
    assert any(reasoning in p and ("Reference" in p or "参照回答" in p) for p in prompts)
    multi = [p for p in prompts if "二つ目の回答です。" in p]
    assert multi and all(chosen_q["turns"][1] in p for p in multi for chosen_q in chosen if chosen_q["turns"][0] in p)
    if variant.endswith("stabilityai"):  # its prompts lack the multi-turn ones: jacode's own are used and named
        assert any("jacode's Japanese prompt" in n for n in report["notes"])
        assert all("アシスタントAとユーザーの会話" in p for p in multi)
    md = (tmp_path / "out" / "scores.md").read_text()
    assert "| writing |" in md and "failed judgments: 2 of 8" in md
    assert "parse mode strict; fastchat mode reads 0 of 8 judgments differently" in md


def test_elyza_style_rubric_on_shipped_and_local_dataset_tasks(tmp_path):
    from jacode.evals.ja.rubric import RubricConfig, load_tasks, run_rubric

    tasks, source = load_tasks(None)
    assert len(tasks) >= 20 and source == "jacode-tasks-ja"
    assert any("レビュー" in t["input"] for t in tasks) and any("説明" in t["input"] for t in tasks)

    def judge(path, body):
        prompt = body["messages"][-1]["content"]
        return "評価：[[5]]" if "良い回答" in prompt.split("# 回答")[-1] else "評価：[[2]]"

    bench = get_benchmark("elyza-tasks")
    answers = ScriptedServer(responder=lambda p, b: "良い回答" if "Python" in b["messages"][-1]["content"] else "x")
    judge_server = ScriptedServer(responder=judge)
    try:
        report = run_rubric(make_engine("openai", endpoint=answers.url, model_name="m"),
                            make_engine("openai", endpoint=judge_server.url, model_name="j"), tmp_path / "out",
                            RubricConfig(settings=bench.settings, judge_settings=bench.judge_settings))
    finally:
        answers.stop()
        judge_server.stop()
    n_python = sum("Python" in t["input"] for t in tasks)
    assert report["distribution"]["5"] == n_python and report["distribution"]["2"] == len(tasks) - n_python
    assert report["score"]["mean"] == pytest.approx((5 * n_python + 2 * (len(tasks) - n_python)) / len(tasks))
    # Local files through the same `datasets.load_dataset` call the hub id goes through.
    local = tmp_path / "elyza"
    local.mkdir()
    (local / "test.jsonl").write_text("".join(json.dumps({"input": f"問{i}", "output": "答", "eval_aspect": "-"},
                                                         ensure_ascii=False) + "\n" for i in range(3)))
    rows, _ = load_tasks(str(local))
    assert [r["input"] for r in rows] == ["問0", "問1", "問2"]


def test_metric_task_through_run_benchmark(tmp_path):
    """niilc end to end through the one entry point: the registry's settings reach the server, the summary
    carries the scores (primary first) and the counts, and a re-run resumes without asking again."""
    from jacode.evals.run import run_benchmark

    qa = tmp_path / "niilc.jsonl"
    qa.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [
        {"question": "日本の首都は？", "answers": ["東京", "東京都"]},
        {"question": "富士山がある県は？", "answers": ["静岡県", "山梨県"]},
        {"question": "日本一長い川は？", "answers": ["信濃川"]},
        {"question": "日本で一番高い山は？", "answers": ["富士山"]}]))
    replies = {"日本の首都は？": "東京", "富士山がある県は？": "静岡", "日本一長い川は？": "利根川"}

    def responder(path, body):
        q = re.search(r"質問：(.*)\n", body["messages"][-1]["content"]).group(1)
        return replies[q] + "\n余計な説明"

    server = ScriptedServer(responder=responder)
    try:
        r = run_benchmark("niilc", tmp_path / "out", endpoint=server.url, model_name="m", data=str(qa), limit=3)
        asked = len(server.requests)
        again = run_benchmark("niilc", tmp_path / "out", endpoint=server.url, model_name="m", data=str(qa), limit=3)
    finally:
        server.stop()
    assert asked == 3 and len(server.requests) == 3 and again["scores"] == r["scores"]  # resumed: nothing re-asked
    assert server.requests[0]["body"]["max_tokens"] == get_benchmark("niilc").settings.max_new_tokens == 64
    assert server.requests[0]["body"]["temperature"] == 0.0
    assert r["benchmark"] == "niilc" and r["kind"] == "metric" and r["primary"] == "char_f1"
    assert list(r["scores"])[0] == "char_f1" and set(r["scores"]) == {"char_f1", "exact_match", "fuzzy_ratio"}
    assert (r["n_tasks"], r["n_total"]) == (3, 4) and r["dir"] == str(tmp_path / "out")
    assert r["settings"] == get_benchmark("niilc").settings.as_dict()
    assert r["scores"]["exact_match"] == pytest.approx(1 / 3)
    # char F1 per item: 1 (東京), 静岡 vs 静岡県 = 0.8, 利根川 vs 信濃川 = 1/3 (川 shared: P = R = 1/3)
    assert r["scores"]["char_f1"] == pytest.approx((1 + 0.8 + 1 / 3) / 3)
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["scores"] == r["scores"]


def test_eval_run_jmt_bench_with_a_judge_server(bench_data, tmp_path):
    """`eval run --benchmark jmt-bench` and its alias `eval ja jmt-bench`: the registry's settings reach both
    servers, a re-run resumes, other settings on the same directory are refused."""
    from typer.testing import CliRunner

    from jacode.cli import app

    data, chosen = jmt_questions(bench_data, tmp_path)
    answers = ScriptedServer(responder=answer_responder)
    judge = ScriptedServer(responder=lambda path, body: "理由。評価：[[7]]")
    out = tmp_path / "out"
    args = ["--endpoint", answers.url, "--model-name", "m", "--judge-endpoint", judge.url, "--judge-model", "j",
            "--data", str(data), "--out", str(out)]
    try:
        r = CliRunner().invoke(app, ["eval", "run", "--benchmark", "jmt-bench", *args])
        assert r.exit_code == 0, r.output
        asked = (len(answers.requests), len(judge.requests))
        manifest = json.loads((out / "manifest.json").read_text())  # as a recipe's eval stage writes it
        again = CliRunner().invoke(app, ["eval", "ja", "jmt-bench", *args])
        assert again.exit_code == 0, again.output
        changed = CliRunner().invoke(app, ["eval", "ja", "jmt-bench", *args, "--max-new-tokens", "512"])
    finally:
        answers.stop()
        judge.stop()
    assert "Overall 7.00" in r.output and "Overall 7.00" in again.output
    assert asked == (2 * len(chosen), 2 * len(chosen)) == (len(answers.requests), len(judge.requests))  # resumed
    assert changed.exit_code == 2 and "max_new_tokens: 1024 -> 512" in changed.output
    bench = get_benchmark("jmt-bench")
    assert {q["body"]["max_tokens"] for q in answers.requests} == {bench.settings.max_new_tokens} == {1024}
    writing = [q["body"] for q in answers.requests if q["body"]["messages"][0]["content"] == chosen[1]["turns"][0]]
    assert writing and all(b["temperature"] == 0.7 for b in writing)  # FastChat's per-category temperature
    assert all(q["body"]["max_tokens"] == 2048 and q["body"]["temperature"] == 0.0 for q in judge.requests)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kind"] == "llm-judge" and summary["scores"]["rating_1_10"] == 7.0
    assert manifest["status"] == "done" and manifest["summary"]["metrics"]["jmt-bench/rating_1_10"] == 7.0
    assert manifest["config"]["judge_endpoint"] == judge.url
    refused = json.loads((out / "manifest.json").read_text())  # the manifest records the last attempt
    assert refused["status"] == "failed" and "max_new_tokens: 1024 -> 512" in refused["error"]
    from jacode.report import build_report

    html = build_report(out, tmp_path / "report.html").read_text()  # a stage run alone is a run to report
    assert "jmt-bench" in html and "max_new_tokens: 1024 -&gt; 512" in html
    assert list(summary["scores"]) == ["rating_1_10", "turn1", "turn2"] and summary["n_tasks"] == len(chosen)
    assert summary["judge"]["model_name"] == "j" and summary["judge"]["settings"]["max_new_tokens"] == 2048


def test_jmt_bench_without_a_reachable_judge_fails_before_any_answer(bench_data, tmp_path):
    from typer.testing import CliRunner

    from jacode.cli import app
    from tests.support.servers import free_port

    data, _ = jmt_questions(bench_data, tmp_path)
    answers = ScriptedServer(responder=answer_responder)
    base = ["eval", "run", "--benchmark", "jmt-bench", "--endpoint", answers.url, "--model-name", "m",
            "--data", str(data)]
    try:
        no_judge = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "a")])
        dead = f"http://127.0.0.1:{free_port()}/v1"
        unreachable = CliRunner().invoke(app, [*base, "--judge-endpoint", dead, "--judge-model", "j",
                                               "--out", str(tmp_path / "b")])
    finally:
        answers.stop()
    assert no_judge.exit_code == 2 and "jmt-bench is graded by a judge model" in no_judge.output
    assert unreachable.exit_code == 2 and "jmt-bench: judge endpoint" in unreachable.output
    assert "cannot be reached" in unreachable.output
    assert answers.requests == [] and not (tmp_path / "b" / "answers.jsonl").exists()
    for d in ("a", "b"):  # run alone, the stage's manifest says it failed and why
        manifest = json.loads((tmp_path / d / "manifest.json").read_text())
        assert manifest["kind"] == "eval" and manifest["status"] == "failed" and "jmt-bench" in manifest["error"]
