"""`jacode synth`: pre-query templates, Magpie/persona generation with filters and resume, test-verified code in
the sandbox, and reward/judge scoring into TRL-ready SFT and DPO files."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jacode.errors import JacodeError
from jacode.io import read_jsonl
from jacode.synth.templates import pre_query_template
from tests.support.servers import ScriptedServer

LLAMA3 = ("{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n"
          "{{ m.content }}<|eot_id|>{% endfor %}{% if add_generation_prompt %}<|start_header_id|>assistant"
          "<|end_header_id|>\n\n{% endif %}")
CHATML = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
SHIJI = ("{% for m in messages %}{% if m.role == 'system' %}{{ m.content }}\n\n{% elif m.role == 'user' %}"
         "### 指示:\n{{ m.content }}\n\n{% else %}### 応答:\n{{ m.content }}\n\n{% endif %}{% endfor %}"
         "{% if add_generation_prompt %}### 応答:\n{% endif %}")
UPPER = "{% for m in messages %}<{{ m.role }}>{{ m.content | upper }}</{{ m.role }}>{% endfor %}"
NO_SYSTEM = "{% for m in messages if m.role != 'system' %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model)


@pytest.mark.parametrize("template,system,prefix,stop", [
    (LLAMA3, None, "<|start_header_id|>user<|end_header_id|>\n\n", "<|eot_id|>"),
    (CHATML, None, "<|im_start|>user\n", "<|im_end|>"),
    (CHATML, "あなたはレビュアーです。", "<|im_start|>system\nあなたはレビュアーです。<|im_end|>\n<|im_start|>user\n",
     "<|im_end|>"),
    (SHIJI, None, "### 指示:\n", "### 応答:"),
    (SHIJI, "システム", "システム\n\n### 指示:\n", "### 応答:"),
])
def test_pre_query_template_is_cut_from_the_chat_template(tokenizer, template, system, prefix, stop):
    tokenizer.chat_template = template
    pq = pre_query_template(tokenizer, system)
    assert pq.prefix.endswith(prefix) and (pq.prefix == prefix or template == LLAMA3)
    assert stop in pq.stops


@pytest.mark.parametrize("template,system,match", [(UPPER, None, "exactly once"),
                                                    (NO_SYSTEM, "システム", "drops the system prompt"),
                                                    (None, None, "no chat template")])
def test_uncuttable_templates_fail_clearly(tokenizer, template, system, match):
    tokenizer.chat_template = template
    with pytest.raises(JacodeError, match=match):
        pre_query_template(tokenizer, system)


INSTRUCTIONS = [
    "Pythonでリストの重複を順序を保ったまま取り除く方法を教えてください。",
    "Pythonでリストの重複を順序を保ったまま取り除く方法を教えてください。",  # exact duplicate
    "Pythonでリストの重複を順序を保ったまま取り除く方法を教えてください！",  # near duplicate
    "How do I reverse a string in Python?",  # not Japanese
    "申し訳ありませんが、その質問にはお答えできません。",  # refusal
    "JavaScriptの非同期処理でPromiseとasync/awaitの違いを説明してください。",
    "SQLでNULLを含む列を集計するときの注意点は何ですか。",
    "C#のLINQでグループごとの合計を求めるコードを書いてください。",
]


def magpie_responder(path, body):
    if path.endswith("/completions") and not path.endswith("/chat/completions"):
        # The instruction slot is told apart by the seed jacode sends per batch (batch size 1 here).
        return INSTRUCTIONS[body["seed"] % len(INSTRUCTIONS)]
    question = body["messages"][-1]["content"]
    return [f"{question[:10]}についての回答です。まず要点を説明し、次に具体的なコード例を示します。" + "詳しく" * i
            for i in range(body["n"])]


def _magpie_cmd(server, tiny_model, out, n, extra=()):
    return [sys.executable, "-m", "jacode", "synth", "magpie", "--endpoint", server.url, "--model-name", "m",
            "--chat-template-from", str(tiny_model), "--n", str(n), "--responses", "3", "--out", str(out),
            "--system", "coding", "--batch-size", "1", *extra]


def test_magpie_over_http_filters_and_resumes_after_kill(tiny_model, tmp_path):
    server = ScriptedServer(responder=magpie_responder, delay=0.15)
    try:
        out = tmp_path / "magpie"
        env = dict(os.environ)
        proc = subprocess.Popen(_magpie_cmd(server, tiny_model, out, 8), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True, env=env)
        deadline = time.time() + 120
        inst = out / "instructions.jsonl"
        while time.time() < deadline and (not inst.exists() or len(inst.read_text().splitlines()) < 3):
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        partial = len(inst.read_text().splitlines())
        assert 3 <= partial < 8
        done = subprocess.run(_magpie_cmd(server, tiny_model, out, 8), capture_output=True, text=True,
                              timeout=300, env=env)
        assert done.returncode == 0, done.stderr[-2000:]
    finally:
        server.stop()
    records = list(read_jsonl(inst))
    assert sorted(r["id"] for r in records) == list(range(8))  # nothing lost, nothing twice
    stats = json.loads((out / "stats.json").read_text())
    assert stats["instructions"]["dropped"] == {"exact_duplicate": 1, "near_duplicate": 1, "not_japanese": 1,
                                                "refusal": 1}
    assert stats["instructions"]["kept"] == 4
    # The pre-query template carried the shipped Japanese system prompt; responses asked with it too.
    completions = [r for r in server.requests if r["path"].endswith("/v1/completions")]
    assert all("ソフトウェアエンジニア" in r["body"]["prompt"] for r in completions)
    candidates = list(read_jsonl(out / "candidates.jsonl"))
    assert len(candidates) == 4 and all(len(c["responses"]) == 3 for c in candidates)
    assert candidates[0]["prompt"][0]["role"] == "system"
    manifest = json.loads((out / "manifest.json").read_text())  # as a recipe's synth stage writes it
    assert manifest["kind"] == "synth" and manifest["status"] == "done"
    assert manifest["summary"]["metrics"] == {"candidates": 4} and manifest["config"]["n"] == 8
    # A run that keeps nothing (every answer a refusal) fails, saying so, instead of an empty success.
    refusing = ScriptedServer(default=("ok", "申し訳ありませんが、お答えできません。"))
    try:
        empty = subprocess.run(_magpie_cmd(refusing, tiny_model, tmp_path / "empty", 2), capture_output=True,
                               text=True, timeout=300)
    finally:
        refusing.stop()
    assert empty.returncode == 2 and "magpie: no candidates kept (instructions kept 0/2" in empty.stderr
    assert json.loads((tmp_path / "empty" / "manifest.json").read_text())["status"] == "failed"


def test_persona_with_a_local_model(tiny_model, tmp_path):
    from jacode.engines import make_engine
    from jacode.synth.generate import GenerateConfig
    from jacode.synth.persona import load_list, persona

    personas = tmp_path / "p.yaml"
    personas.write_text("- Pythonを学ぶ学生\n- Goのバックエンドエンジニア\n", encoding="utf-8")
    engine = make_engine("transformers", model=str(tiny_model))
    cfg = GenerateConfig(n_responses=2, japanese=False)
    cfg.instruction_params = cfg.instruction_params.__class__(temperature=1.0, max_new_tokens=16)
    cfg.response_params = cfg.response_params.__class__(temperature=1.0, max_new_tokens=16)
    persona(engine, tmp_path / "out", load_list(str(personas), ""), load_list(None, "task_templates.yaml"), n=3,
            cfg=cfg)
    records = list(read_jsonl(tmp_path / "out" / "instructions.jsonl"))
    assert len(records) == 3
    assert all(r["persona"] in ("Pythonを学ぶ学生", "Goのバックエンドエンジニア") for r in records)
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["instructions"]["total"] == 3
    with pytest.raises(JacodeError, match="list of non-empty strings"):
        bad = tmp_path / "bad.yaml"
        bad.write_text("persona: x\n")
        load_list(str(bad), "")


GOOD = "```python\ndef add(a, b):\n    return a + b\n```\nテスト:\n```python\nassert add(1, 2) == 3\n```"
WRONG = "```python\ndef add(a, b):\n    return a - b\n```\n```python\nassert add(1, 2) == 3\n```"
NO_ASSERT = "```python\ndef add(a, b):\n    return a + b\n```\n```python\nprint(add(1, 2))\n```"
NO_BLOCKS = "add は a + b を返せばよいです。"


def test_code_verified_keeps_only_answers_that_pass_their_tests(bwrap, tmp_path):
    from jacode.engines import make_engine
    from jacode.synth.verified_code import VerifiedConfig, code_verified

    answers = {"good": [GOOD, WRONG], "noassert": [NO_ASSERT, NO_BLOCKS]}

    def responder(path, body):
        text = body["messages"][-1]["content"]
        return answers["good" if "足し算" in text else "noassert"]

    server = ScriptedServer(responder=responder)
    try:
        engine = make_engine("openai", endpoint=server.url, model_name="m")
        problems = [{"id": "p1", "problem": "2つの数の足し算をする関数 add を書いてください。"},
                    {"id": "p2", "problem": "2つの数を加える関数を書いてください。"}]
        stats = code_verified(engine, problems, tmp_path, VerifiedConfig(n_samples=2, workers=2))
    finally:
        server.stop()
    assert stats["passed"] == 1 and stats["answers"] == 4
    assert stats["dropped"] == {"fail": 1, "missing_blocks": 1, "tests_without_assert": 1}
    kept = list(read_jsonl(tmp_path / "sft.jsonl"))
    assert [k["id"] for k in kept] == ["p1#0"] and kept[0]["verdict"]["status"] == "pass"
    assert kept[0]["messages"][1]["content"] == GOOD


def _candidates(path: Path) -> Path:
    rows = [{"id": "q1", "prompt": [{"role": "user", "content": "Pythonのリスト内包表記を説明してください。"}],
             "responses": ["短い。", "リスト内包表記は、既存のリストから新しいリストを作る簡潔な書き方です。",
                           "リスト内包表記は [式 for 要素 in イテラブル] の形で書き、条件も付けられます。例: "
                           "[x * 2 for x in range(5) if x % 2 == 0]"]},
            {"id": "q2", "prompt": [{"role": "user", "content": "BIAS"}],
             "responses": ["一つ目の回答", "二つ目の回答"]},
            {"id": "q3", "prompt": [{"role": "user", "content": "MALFORMED"}], "responses": ["あ", "いい"]}]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def judge_responder(path, body):
    prompt = body["messages"][-1]["content"]
    a = re.search(r"\[アシスタントAの回答\]\n(.*?)\n\n\[アシスタントBの回答\]", prompt, re.S).group(1)
    b = re.search(r"\[アシスタントBの回答\]\n(.*)\n$", prompt, re.S).group(1)
    if "BIAS" in prompt:
        return "Aの方が良いです。[[A]]"  # a judge that always prefers the first position
    if "MALFORMED" in prompt:
        return "どちらも良いと思います。"  # never parseable
    return "理由: 詳しいほうが良い。" + ("[[A]]" if len(a) > len(b) else "[[B]]" if len(b) > len(a) else "[[C]]")


def test_judge_scoring_swaps_positions_and_writes_trl_sets(tmp_path, tiny_model):
    from transformers import AutoTokenizer
    from trl.data_utils import is_conversational, maybe_apply_chat_template

    from jacode.data_policy import refuse_eval_only
    from jacode.engines import make_engine
    from jacode.synth.scoring import JudgeScorer, ScoreConfig, score_candidates

    server = ScriptedServer(responder=judge_responder)
    try:
        scorer = JudgeScorer(make_engine("openai", endpoint=server.url, model_name="judge"),
                             ScoreConfig(judge_max_new_tokens=40))
        stats = score_candidates(_candidates(tmp_path / "c.jsonl"), scorer, tmp_path / "out")
    finally:
        server.stop()
    scores = {r["id"]: r for r in read_jsonl(tmp_path / "out" / "scores.jsonl")}
    assert scores["q1"]["scores"] == [0.0, 0.5, 1.0]  # longest wins both orders of every pair
    assert scores["q2"]["scores"] == [0.5, 0.5]  # position bias: the swapped verdicts disagree → tie
    assert all(j["outcome"] == "tie" for j in scores["q3"]["detail"]["judgments"])
    assert stats["judge_parse_failures"] == 2  # q3's two orders, after the retries
    assert len([r for r in server.requests if "MALFORMED" in r["body"]["messages"][-1]["content"]]) == 6
    assert {r["body"]["max_tokens"] for r in server.requests} == {40}  # the judge's budget is a setting
    dpo = list(read_jsonl(tmp_path / "out" / "dpo.jsonl"))
    assert len(dpo) == 1 and dpo[0]["rejected"][0]["content"] == "短い。"
    assert dpo[0]["chosen"][0]["content"].startswith("リスト内包表記は [式")
    sft = list(read_jsonl(tmp_path / "out" / "sft.jsonl"))
    assert len(sft) == 3 and sft[0]["messages"][-1]["role"] == "assistant"
    # TRL reads them as conversational data and renders them with a chat template.
    tok = AutoTokenizer.from_pretrained(tiny_model)
    for row in dpo:
        assert is_conversational(row)
        rendered = maybe_apply_chat_template(row, tok)
        assert rendered["chosen"] and rendered["rejected"] and rendered["prompt"]
    assert all(is_conversational(r) for r in sft)
    for f in ("sft.jsonl", "dpo.jsonl"):
        refuse_eval_only(tmp_path / "out" / f)  # synthetic sets are valid training input


def test_reward_model_scoring(tmp_path, tiny_model):
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    from jacode.synth.scoring import RewardScorer, score_candidates

    config = AutoConfig.from_pretrained(tiny_model, num_labels=1)
    torch.manual_seed(0)
    rm = AutoModelForSequenceClassification.from_config(config)
    rm.save_pretrained(tmp_path / "rm")
    AutoTokenizer.from_pretrained(tiny_model).save_pretrained(tmp_path / "rm")
    scorer = RewardScorer(str(tmp_path / "rm"))
    stats = score_candidates(_candidates(tmp_path / "c.jsonl"), scorer, tmp_path / "out")
    scores = {r["id"]: r["scores"] for r in read_jsonl(tmp_path / "out" / "scores.jsonl")}
    assert len(scores["q1"]) == 3 and len(set(scores["q1"])) == 3
    assert stats["dpo"] == 3 and sum(stats["score_histogram"].values()) == 7
    # Scores are the reward model's: recomputing one gives the same number.
    again, _ = scorer.score([{"role": "user", "content": "BIAS"}], ["一つ目の回答", "二つ目の回答"])
    assert again == pytest.approx(scores["q2"], abs=1e-5)


def test_magpie_with_a_local_model(tiny_model, tmp_path):
    """The transformers engine is given the pre-query text as a raw prompt (its chat template's own prefix)."""
    from dataclasses import replace

    from transformers import AutoTokenizer

    from jacode.engines import make_engine
    from jacode.synth.generate import GenerateConfig
    from jacode.synth.magpie import magpie, system_prompts

    tok = AutoTokenizer.from_pretrained(tiny_model)
    cfg = GenerateConfig(n_responses=1, japanese=False, near_dedup=False)
    cfg.instruction_params = replace(cfg.instruction_params, max_new_tokens=12)
    cfg.response_params = replace(cfg.response_params, max_new_tokens=12)
    magpie(make_engine("transformers", model=str(tiny_model)), tok, tmp_path, 3, system_prompts("review"), cfg)
    records = list(read_jsonl(tmp_path / "instructions.jsonl"))
    assert [r["id"] for r in records] == [0, 1, 2] and all("コードレビュー" in r["system"] for r in records)
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["pre_query_templates"] and stats["instructions"]["total"] == 3
    with pytest.raises(JacodeError, match="unknown system prompt"):
        system_prompts("coding,poetry")


def test_rescoring_after_candidates_change_never_reuses_old_scores(tmp_path):
    from jacode.synth.scoring import score_candidates

    class Longest:
        failures = 0

        def score(self, prompt, responses):
            return [float(len(r)) for r in responses], {}

    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"id": "q", "prompt": [{"role": "user", "content": "質問"}],
                                "responses": ["a", "bbb", "cc", "dddd"]}) + "\n")
    score_candidates(path, Longest(), tmp_path / "out")
    path.write_text(json.dumps({"id": "q", "prompt": [{"role": "user", "content": "質問"}],
                                "responses": ["zz", "y"]}) + "\n")
    score_candidates(path, Longest(), tmp_path / "out")
    (pair,) = list(read_jsonl(tmp_path / "out" / "dpo.jsonl"))
    assert pair["chosen"][0]["content"] == "zz" and pair["rejected"][0]["content"] == "y"


def test_persona_templates_may_contain_braces(tmp_path):
    from jacode.synth.persona import persona

    server = ScriptedServer(default=("ok", "Pythonで辞書 {\"a\": 1} の値を取り出す方法を教えてください。"))
    try:
        from jacode.engines import make_engine
        from jacode.synth.generate import GenerateConfig

        persona(make_engine("openai", endpoint=server.url, model_name="m"), tmp_path, ["学生"],
                ['「{persona}」として JSON {"key": "value"} を扱う質問を書いてください。'],
                cfg=GenerateConfig(n_responses=1))
        sent = [r["body"]["messages"][-1]["content"] for r in server.requests]
        assert sent[0] == '「学生」として JSON {"key": "value"} を扱う質問を書いてください。'
    finally:
        server.stop()


def _adder(name: str, op: str = "+") -> str:
    return (f"```python\ndef {name}(a, b):\n    return a {op} b\n```\n"
            f"```python\nassert {name}(1, 2) == 3\nassert {name}(0, 0) == 0\n```")


def test_code_verified_holds_out_tasks_that_synth_heldout_evaluates(bwrap, tmp_path):
    """holdout: a share of the verified problems never reaches sft.jsonl; it becomes tasks with the tests that
    verified them, and a model's new answers are judged against those tests (its own function names required)."""
    from jacode.engines import make_engine
    from jacode.evals.run import run_benchmark
    from jacode.synth.verified_code import VerifiedConfig, code_verified

    def responder(path, body):
        text = body["messages"][-1]["content"]
        name = re.search(r"(f\d)", text).group(1)
        if "must contain two code blocks" in text:  # synthesis: after one worked exchange (the example), in English
            assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
            assert "assert square(3) == 9" in body["messages"][1]["content"]
        if "Define the function(s)" in text:  # the benchmark's question: f2, f4 right; f5 misnamed; f7 wrong
            return {"f2": _adder("f2"), "f4": _adder("f4"), "f5": _adder("g5")}.get(name, _adder(name, "-"))
        return [_adder(name), _adder(name, "-")]

    problems = [{"id": f"p{i}", "problem": f"2つの数を足す関数 f{i} を書いてください。"} for i in range(1, 9)]
    server = ScriptedServer(responder=responder)
    try:
        engine = make_engine("openai", endpoint=server.url, model_name="m")
        cfg = VerifiedConfig(n_samples=2, workers=2, holdout=0.5, language="en")
        stats = code_verified(engine, problems, tmp_path / "v", cfg)
        again = code_verified(engine, problems, tmp_path / "v", cfg)
        assert stats == again  # resumed: the same problems are held out
        assert stats["passed"] == 8 and stats["held_out"] == 4 and stats["kept"] == 4
        tasks = list(read_jsonl(tmp_path / "v" / "heldout.jsonl"))
        trained = {k["id"].split("#")[0] for k in read_jsonl(tmp_path / "v" / "sft.jsonl")}
        held = {t["task_id"].removeprefix("synth/") for t in tasks}
        assert held == {"p2", "p4", "p5", "p7"}  # sha256(seed:id) order: pinned so that a change is noticed
        assert not held & trained and held | trained == {p["id"] for p in problems}
        assert all(t["names"] == [f"f{t['task_id'][-1]}"] and "assert" in t["tests"] for t in tasks)
        r = run_benchmark("synth-heldout", tmp_path / "eval", endpoint=server.url, model_name="m",
                          data=str(tmp_path / "v" / "heldout.jsonl"), workers=2)
    finally:
        server.stop()
    assert r["n_tasks"] == r["n_total"] == 4
    assert r["scores"]["pass@1"] == 0.5
    verdicts = {x["task_id"]: x["status"] for x in read_jsonl(tmp_path / "eval" / "results.jsonl")}
    assert {t for t, v in verdicts.items() if v == "pass"} == {"synth/p2", "synth/p4"}
    from jacode.errors import JacodeError
    from jacode.evals.check import check
    from jacode.evals.execute import ExecuteConfig

    passed, total, _ = check(ExecuteConfig(benchmark="synth-heldout", data=str(tmp_path / "v" / "heldout.jsonl")))
    assert passed == total == 4  # `eval check`: every held-out task's verified answer passes its tests
    with pytest.raises(JacodeError, match="needs --data FILE"):
        run_benchmark("synth-heldout", tmp_path / "e2", endpoint=server.url, model_name="m")


def test_recipe_synth_and_eval_stages_generate_through_a_served_model(tiny_model, tmp_path, bwrap):
    """At scale a recipe points its synth and eval stages at a server (vLLM, SGLang, any OpenAI-compatible one):
    the same stages, the engine chosen by `endpoint`; Magpie still cuts its template from the local `model`."""
    from jacode.config import validate
    from jacode.stages import EvalStageConfig, SynthStageConfig, run_eval, run_synth

    server = ScriptedServer(responder=magpie_responder)
    try:
        cfg = validate(SynthStageConfig, {"method": "magpie", "model": str(tiny_model), "endpoint": server.url,
                                          "model_name": "served", "n": 8, "responses": 3, "system": "coding",
                                          "concurrency": 4, "max_new_tokens": 64})
        summary = run_synth(cfg, tmp_path / "synth")
        candidates = list(read_jsonl(tmp_path / "synth" / "candidates.jsonl"))
        assert candidates and f"candidates {len(candidates)}" in summary["text"]
        assert all(len(c["responses"]) == 3 for c in candidates)
        paths = {r["path"] for r in server.requests}
        assert paths == {"/v1/completions", "/v1/chat/completions"}  # every answer came from the server
        assert all(r["body"]["model"] == "served" for r in server.requests)
        ev = validate(EvalStageConfig, {"models": {"served": {"endpoint": server.url, "model_name": "served"}},
                                        "benchmarks": ["atcoder-mini"], "limit": 2, "concurrency": 4,
                                        "settings": {"mode": "chat", "temperature": 0.8, "n": 2}})
        before = len(server.requests)
        out = run_eval(ev, tmp_path / "eval")
    finally:
        server.stop()
    assert out["tables"][0]["rows"][0][-1] == "done"
    asked = server.requests[before:]
    assert len(asked) == 2 and all(r["body"]["n"] == 2 and r["body"]["temperature"] == 0.8 for r in asked)
    with pytest.raises(JacodeError, match="model .local. or endpoint"):
        run_synth(validate(SynthStageConfig, {"method": "persona"}), tmp_path / "none")


def test_near_dedup_keeps_distinct_instructions_at_scale_and_still_drops_near_copies():
    """LSH alone (32 bands of 4 rows, threshold ~0.42) makes some pairs of unrelated short instructions collide;
    union-find then chains them, and at tens of thousands of instructions one cluster swallowed most of a Magpie
    run (75% of 100,000 distinct instructions dropped, bench_synth_scale.py). Candidates must be confirmed by
    their estimated Jaccard before they are joined."""
    import random

    from jacode.synth.filters import dedup

    kanji = "日本語学習関数配列辞書文字列整数再帰例外型引数戻値探索木図表集計重複最大小平均素数行列動的計画貪欲暗号圧縮"
    particles = ("を", "の", "で", "と", "に", "から")
    rng = random.Random(0)
    texts = ["".join(rng.choice(kanji) + rng.choice(kanji) + rng.choice(particles) for _ in range(12))
             + "処理する関数を書いてください。" for _ in range(6000)]
    near = [t[:3] + "X" + t[4:] for t in texts[:50]]  # one character changed
    reasons = dedup(texts + near + texts[:20])
    assert sum(r is not None for r in reasons[:6000]) < 60  # < 1% of distinct texts
    assert all(r == "near_duplicate" for r in reasons[6000:6050])
    assert all(r == "exact_duplicate" for r in reasons[6050:])
