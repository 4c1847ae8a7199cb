"""A model server a stage starts and stops (`serve: jacode | vllm` in the eval stage)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jacode.errors import JacodeError


def _servers_of(model: Path) -> list[int]:
    found = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                cmd = (p / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in cmd and str(model).encode() in cmd:
                found.append(int(p.name))
    return found


def test_eval_stage_serves_each_local_model_and_stops_the_server(tiny_model, tmp_path, bwrap):
    from jacode.config import validate
    from jacode.stages import EvalStageConfig, run_eval

    cfg = validate(EvalStageConfig, {"models": {"tiny": str(tiny_model)}, "benchmarks": ["atcoder-mini"],
                                     "limit": 1, "serve": "jacode", "concurrency": 2,
                                     "settings": {"mode": "chat", "max_new_tokens": 8}})
    summary = run_eval(cfg, tmp_path / "eval")
    assert summary["tables"][0]["rows"][0][-1] == "done"
    generation = (tmp_path / "eval" / "tiny" / "atcoder-mini" / "generation_config.json").read_text()
    assert '"engine": "openai"' in generation and '"model_name": "tiny"' in generation  # through the server
    assert _servers_of(tiny_model) == []  # stopped with the stage


def test_a_server_that_cannot_start_fails_with_its_output(tmp_path):
    from jacode.engines.launch import served

    with pytest.raises(JacodeError, match=r"jacode serve .* exited .* before it answered"):
        with served(str(tmp_path / "no-such-model"), "jacode"):
            pass
    with pytest.raises(JacodeError, match="serve must be one of jacode, vllm"):
        with served("m", "sglang"):
            pass


def test_synth_stage_serves_its_model_for_the_stage(tiny_model, tmp_path, bwrap, capsys):
    from jacode.config import validate
    from jacode.io import read_jsonl, write_jsonl
    from jacode.stages import SynthStageConfig, run_synth

    write_jsonl(tmp_path / "problems.jsonl", [{"problem": "2つの数を足す関数 add を書いてください。"}] * 2)
    cfg = validate(SynthStageConfig, {"method": "code-verified", "model": str(tiny_model), "serve": "jacode",
                                      "problems": str(tmp_path / "problems.jsonl"), "responses": 1,
                                      "max_new_tokens": 8, "allow_empty": True, "concurrency": 2})
    summary = run_synth(cfg, tmp_path / "synth")
    assert "answers to 2 problems" in summary["text"]
    assert f"jacode serve: {tiny_model} on http://127.0.0.1:" in capsys.readouterr().out
    assert len(list(read_jsonl(tmp_path / "synth" / "answers.jsonl"))) == 2
    assert _servers_of(tiny_model) == []
