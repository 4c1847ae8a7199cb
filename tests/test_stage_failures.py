"""Every stage kind's runtime failures: an input that exists (so validation passes) but cannot be used — an empty
corpus, a model directory that does not load, training data without the fields it needs — ends the run non-zero
with the stage named, its error, and its manifest marked failed. Never a quiet "skipped" or an empty success."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from jacode.errors import JacodeError
from jacode.recipe import load_recipe, run_recipe
from jacode.stages import KINDS


def _inputs(tmp_path: Path, tiny_model: Path) -> dict[str, str]:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty.jsonl").write_text("")
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    (tmp_path / "no-messages.jsonl").write_text(json.dumps({"text": "会話ではない"}, ensure_ascii=False) + "\n")
    (tmp_path / "no-chosen.jsonl").write_text(json.dumps({"prompt": "質問", "rejected": "x"}) + "\n")
    return {"empty_dir": str(tmp_path / "empty"), "empty": str(tmp_path / "empty.jsonl"), "broken": str(broken),
            "tiny": str(tiny_model), "no_messages": str(tmp_path / "no-messages.jsonl"),
            "no_chosen": str(tmp_path / "no-chosen.jsonl")}


# kind → (its config, with {names} of the inputs above; what the error must say)
CASES = {
    "data": ("{{readers: [{{type: jsonl, path: '{empty}', kind: text, language: ja}}]}}",
             r"no documents kept \(the readers found no documents\)"),
    "tokenizer": ("{{inputs: ['{empty}'], vocab_size: 300}}", r"no documents in the inputs"),
    "model": ("{{size: tiny, tokenizer: '{empty_dir}'}}", r"tokenizer .*/empty: not a Hugging Face tokenizer"),
    "pretrain": ("{{model: '{broken}', data: ['{empty}']}}", r"config.json is not valid JSON"),
    "sft": ("{{model: '{tiny}', data: ['{no_messages}'], max_steps: 1}}", r"messages"),
    "dpo": ("{{model: '{tiny}', data: ['{no_chosen}'], max_steps: 1}}", r"chosen"),
    "merge": ("{{base: '{broken}', instruct: '{tiny}', target: '{tiny}'}}", r"config.json is not valid JSON"),
    "upcycle": ("{{model: '{broken}'}}", r"config.json is not valid JSON"),
    "synth": ("{{method: magpie, model: '{broken}', n: 1}}", r"config.json is not valid JSON"),
    "eval": ("{{models: {{x: '{broken}'}}, benchmarks: [humaneval], limit: 1}}", r"config.json is not valid JSON"),
    "report": ("{{}}", r"nothing to report"),
    # The questions file holds none: nothing to compare (before any model is loaded).
    "compare": ("{{before: '{tiny}', after: '{tiny}', judge: '{tiny}', questions: '{empty}'}}", r"no questions"),
}


def test_every_kind_has_a_failure_case():
    assert set(CASES) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_stage_that_cannot_do_its_job_fails_the_run_named(kind, tmp_path, tiny_model):
    config, message = CASES[kind]
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: r\nrun_dir: {tmp_path / 'run'}\nstages:\n  - name: broken_{kind}\n    kind: {kind}\n"
                      f"    config: {config.format(**_inputs(tmp_path, tiny_model))}\n")
    with pytest.raises(JacodeError) as e:
        run_recipe(load_recipe(recipe), echo=lambda s: None)
    text = str(e.value)
    assert text.startswith(f"stage 'broken_{kind}' ({kind}) failed (exit 2): "), text
    assert re.search(message, text), text
    assert "Traceback" not in text.split("\nlog: ")[0]  # the error itself is a sentence, not a traceback
    manifest = json.loads((tmp_path / "run" / f"broken_{kind}" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["error"]
