"""Comparing two models: answers from both, a judge asked in both orders, wins/ties/losses with an interval."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from jacode.cli import app
from jacode.io import read_jsonl
from tests.support.servers import ScriptedServer

runner = CliRunner()


def longer_wins(path, body):
    """A judge that prefers the longer answer, and never answers in the expected form for one question."""
    prompt = body["messages"][-1]["content"]
    if "UNPARSEABLE" in prompt:
        return "どちらとも言えません。"
    a = re.search(r"\[アシスタントAの回答\]\n(.*?)\n\n\[アシスタントBの回答\]", prompt, re.S).group(1)
    b = re.search(r"\[アシスタントBの回答\]\n(.*)\n$", prompt, re.S).group(1)
    return "理由。" + ("[[A]]" if len(a) > len(b) else "[[B]]" if len(b) > len(a) else "[[C]]")


def test_compare_two_models_judged_in_both_orders_and_resumed(tiny_model, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in [
        {"question_id": 1, "turns": ["自己紹介してください。", "続けて"]},
        {"instruction": "Write a function."},
        {"question": "UNPARSEABLE 質問"}]), encoding="utf-8")
    judge = ScriptedServer(responder=longer_wins)
    try:
        args = ["eval", "compare", "--before", str(tiny_model), "--after", str(tiny_model),
                "--questions", str(questions), "--judge", "j", "--judge-endpoint", judge.url,
                "--max-new-tokens", "12", "--out", str(tmp_path / "cmp")]
        # Both sides at temperature 0 from the same weights: equal answers → every verdict a tie, or unparseable.
        r = runner.invoke(app, args, catch_exceptions=False)
        assert r.exit_code == 0, r.output
        result = json.loads((tmp_path / "cmp" / "compare.json").read_text())
        answers = list(read_jsonl(tmp_path / "cmp" / "answers.jsonl"))
        assert [a["question"] for a in answers] == ["自己紹介してください。", "Write a function.", "UNPARSEABLE 質問"]
        assert all(a["before"] == a["after"] for a in answers)
        assert result["questions"] == 3 and result["ties"] == 3 and result["win_rate"] == 0.5
        assert result["judge_failures"] == 2  # the unparseable question, both orders, after its retries
        asked = len(judge.requests)
        assert asked == 2 + 2 + 2 * 3  # two orders each; the unparseable one asked 3 times per order
        manifest = json.loads((tmp_path / "cmp" / "manifest.json").read_text())
        assert manifest["status"] == "done" and "win rate 0.500" in manifest["summary"]["text"]
        # Resumed: nothing is generated or judged again.
        r = runner.invoke(app, args, catch_exceptions=False)
        assert r.exit_code == 0 and len(judge.requests) == asked
        # Another setting in the same directory is refused, not mixed.
        r = runner.invoke(app, [*args[:-2], "--judge-max-new-tokens", "5", "--out", str(tmp_path / "cmp")])
        assert r.exit_code != 0 and "another config" in r.output
    finally:
        judge.stop()


def test_compare_outcomes_count_for_the_second_model(tmp_path):
    from jacode.engines import SamplingParams
    from jacode.engines.openai import OpenAIEngine  # noqa: F401 - the judge is a real HTTP client
    from jacode.evals.pairwise import judge_pair

    judge_server = ScriptedServer(responder=longer_wins)
    try:
        from jacode.engines import make_engine

        judge = make_engine("openai", endpoint=judge_server.url, model_name="j")
        params = SamplingParams(max_new_tokens=20)
        assert judge_pair(judge, "q", "短い", "ずっと長い回答です", params, 0)["outcome"] == "y"
        assert judge_pair(judge, "q", "ずっと長い回答です", "短い", params, 0)["outcome"] == "x"
        assert judge_pair(judge, "q", "同じ", "同じ", params, 0)["outcome"] == "tie"
    finally:
        judge_server.stop()
