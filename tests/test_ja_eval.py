"""Japanese generation evaluation: metrics against hand-computed values, strict judge parsing with retries and
failure accounting, both MT-Bench turns judged, ELYZA-style rubric, metric tasks — against real HTTP servers."""

from __future__ import annotations

import json
import math
import re
import shutil
import threading

import pytest

from jacode.engines import make_engine
from jacode.evals.ja import metrics
from jacode.evals.ja.judge import parse_rating
from tests.servers import ScriptedServer


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




def _jmt_dir(src, tmp_path, n=4):
    qs = [json.loads(line) for line in (src / "question.jsonl").read_text().splitlines()]
    chosen = [q for q in qs if q["category"] == "reasoning"][:1] + [q for q in qs if q["category"] == "writing"][:n - 1]
    d = tmp_path / "jmt"
    d.mkdir()
    (d / "question.jsonl").write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in chosen))
    shutil.copytree(src / "reference_answer", d / "reference_answer")
    for name in ("judge_prompts.jsonl", "judge_ja_prompts.jsonl"):
        if (src / name).exists():
            shutil.copy(src / name, d / name)
    return d, chosen


def answer_responder(path, body):
    return "二つ目の回答です。" if len(body["messages"]) > 1 else "一つ目の回答です。"


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
    data, chosen = _jmt_dir(src, tmp_path)
    behaviour = JudgeBehaviour(flaky=chosen[0]["turns"][0], broken=chosen[-1]["turns"][0])
    answers, judge = ScriptedServer(responder=answer_responder), ScriptedServer(responder=behaviour)
    try:
        report = run_jmt(make_engine("openai", endpoint=answers.url, model_name="m"),
                         make_engine("openai", endpoint=judge.url, model_name="j"), tmp_path / "out",
                         JMTConfig(data=str(data), judge_retries=2))
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


def test_elyza_style_rubric_on_shipped_and_local_dataset_tasks(tmp_path):
    from jacode.evals.ja.rubric import load_tasks, run_rubric

    tasks, source = load_tasks(None)
    assert len(tasks) >= 20 and source == "jacode-tasks-ja"
    assert any("レビュー" in t["input"] for t in tasks) and any("説明" in t["input"] for t in tasks)

    def judge(path, body):
        prompt = body["messages"][-1]["content"]
        return "評価：[[5]]" if "良い回答" in prompt.split("# 回答")[-1] else "評価：[[2]]"

    answers = ScriptedServer(responder=lambda p, b: "良い回答" if "Python" in b["messages"][-1]["content"] else "x")
    judge_server = ScriptedServer(responder=judge)
    try:
        report = run_rubric(make_engine("openai", endpoint=answers.url, model_name="m"),
                            make_engine("openai", endpoint=judge_server.url, model_name="j"), tmp_path / "out")
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


def test_metric_tasks_from_local_jsonl(tmp_path):
    from jacode.evals.ja.metric_tasks import MetricTaskConfig, run_metric_task

    qa = tmp_path / "niilc.jsonl"
    qa.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [
        {"question": "日本の首都は？", "answers": ["東京", "東京都"]},
        {"question": "富士山がある県は？", "answers": ["静岡県", "山梨県"]},
        {"question": "日本一長い川は？", "answers": ["信濃川"]}]))
    replies = {"日本の首都は？": "東京", "富士山がある県は？": "静岡", "日本一長い川は？": "利根川"}

    def responder(path, body):
        q = re.search(r"質問：(.*)\n", body["messages"][-1]["content"]).group(1)
        return replies[q] + "\n余計な説明"

    server = ScriptedServer(responder=responder)
    try:
        r = run_metric_task(make_engine("openai", endpoint=server.url, model_name="m"), tmp_path / "out",
                            MetricTaskConfig(task="niilc", data=str(qa)))
    finally:
        server.stop()
    assert r["metrics"]["exact_match"] == pytest.approx(1 / 3)
    # char F1 per item: 1 (東京), 静岡 vs 静岡県 = 0.8, 利根川 vs 信濃川 = 1/3 (川 shared: P = R = 1/3)
    assert r["metrics"]["char_f1"] == pytest.approx((1 + 0.8 + 1 / 3) / 3)
