"""Recipes are validated before any work: a catalogue of broken recipes, each refused at `--dry-run` with
file:line and the key, a did-you-mean for typos, and no traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jacode.cli import app
from jacode.errors import JacodeError
from jacode.recipe import load_recipe, recipes_dir
from jacode.stages import KINDS

runner = CliRunner()
MODEL = "  - name: model\n    kind: model\n    config: {size: tiny}\n"
TOK = ("  - name: tokenizer\n    kind: tokenizer\n"
       "    config: {inputs: ['${shipped}/ja_corpus.jsonl'], vocab_size: 300}\n")

# (recipe text, line, what the message must say)
BROKEN = {
    "top-level typo": ("name: x\nstagez: []\n", 2, r"unknown key 'stagez' \(did you mean 'stages'\?\)"),
    "no name": ("stages:\n" + MODEL, 1, r"`name` must be a non-empty string"),
    "no stages": ("name: x\nstages: []\n", 2, r"`stages` must be a non-empty list"),
    "stage not a mapping": ("name: x\nstages:\n  - model\n", 3, r"each stage is a mapping"),
    "stage key typo": ("name: x\nstages:\n  - name: m\n    kinds: model\n", 4,
                       r"unknown key 'kinds' \(did you mean 'kind'\?\)"),
    "bad stage name": ("name: x\nstages:\n  - name: 1st\n    kind: model\n", 3, r"`name` must be an identifier"),
    "duplicate stage": ("name: x\nstages:\n" + MODEL + MODEL, 6, r"stage name 'model' is used twice"),
    "reserved stage name": ("name: x\nstages:\n  - name: run\n    kind: model\n", 3,
                            r"'run' is used twice or reserved"),
    "kind typo": ("name: x\nstages:\n  - name: p\n    kind: pretrian\n", 4,
                  r"unknown kind 'pretrian' \(did you mean 'pretrain'\?\)"),
    "config not a mapping": ("name: x\nstages:\n  - name: m\n    kind: model\n    config: [1, 2]\n", 5,
                             r"`config` must be a mapping"),
    "config key typo": ("name: x\nstages:\n" + TOK.replace("vocab_size", "vocab_sizee"), 5,
                        r"vocab_sizee: unknown key \(did you mean 'vocab_size'\?\)"),
    "wrong type": ("name: x\nstages:\n" + MODEL + "  - name: p\n    kind: pretrain\n    config:\n"
                   "      model: '${model}'\n      data: ['${shipped}/ja_corpus.jsonl']\n      max_steps: many\n",
                   11, r"max_steps: Input should be a valid integer.*'many'"),
    "string for a list": ("name: x\nstages:\n  - name: t\n    kind: tokenizer\n    config: {inputs: a.jsonl}\n", 5,
                          r"inputs: Input should be a valid list"),
    "enum typo": ("name: x\nstages:\n" + MODEL + "  - name: p\n    kind: pretrain\n    config: {model: '${model}', "
                  "data: ['${shipped}/ja_corpus.jsonl'], report_to: tensorbord}\n", 8,
                  r"report_to: 'tensorbord': Input should be 'none', 'tensorboard' or 'wandb'"),
    "model size": ("name: x\nstages:\n  - name: m\n    kind: model\n    config: {size: huge}\n", 5,
                   r"size: 'huge'"),
    "required key": ("name: x\nstages:\n" + MODEL + "  - name: p\n    kind: pretrain\n"
                     "    config: {model: '${model}'}\n", 8, r"data: required key missing"),
    "reference typo": ("name: x\nstages:\n" + TOK + "  - name: m\n    kind: model\n"
                       "    config: {tokenizer: '${tokenzier}'}\n", 8,
                       r"refers to \$\{tokenzier\}, which is no stage \(did you mean 'tokenizer'\?\)"),
    "later stage": ("name: x\nstages:\n  - name: m\n    kind: model\n    config: {tokenizer: '${tok}'}\n"
                    + TOK.replace("name: tokenizer", "name: tok"), 5,
                    r"refers to \$\{tok\}, a later stage"),
    "cycle": ("name: x\nstages:\n  - name: m\n    kind: model\n    config: {tokenizer: '${tok}'}\n"
              "  - name: tok\n    kind: tokenizer\n    config: {inputs: ['${m}']}\n", 5,
              r"refers to \$\{tok\}, a later stage \(stages run in the order written\)"),
    "self reference": ("name: x\nstages:\n  - name: m\n    kind: model\n    config: {tokenizer: '${m}'}\n", 5,
                       r"refers to its own output"),
    "benchmark typo": ("name: x\nstages:\n" + MODEL + "  - name: e\n    kind: eval\n    config: {models: '${model}', "
                       "benchmarks: [humaneva]}\n", 8, r"unknown benchmark 'humaneva' \(did you mean 'humaneval'\?\)"),
    "benchmark option value": ("name: x\nstages:\n" + MODEL + "  - name: e\n    kind: eval\n    config: {models: "
                               "'${model}', benchmarks: [xlsum], data: {xlsum: /tmp}, options: {xlsum: "
                               "{rouge_tokenizer: mecab}}}\n", 8,
                               r"option rouge_tokenizer must be one of unidic, ipadic"),
    "benchmark option name": ("name: x\nstages:\n" + MODEL + "  - name: e\n    kind: eval\n    config: {models: "
                              "'${model}', benchmarks: [xlsum], data: {xlsum: /tmp}, options: {xlsum: "
                              "{rouge: ipadic}}}\n", 8, r"unknown option 'rouge'"),
    "eval time limit": ("name: x\nstages:\n" + MODEL + "  - name: e\n    kind: eval\n    config: {models: "
                        "'${model}', benchmarks: [humaneval], time_limit: 'reference,max=3'}\n", 8,
                        r"time_limit: must be fixed, reference, or reference,min=SECONDS,factor=X: unknown "
                        r"parameter 'max'"),
    "eval timeout": ("name: x\nstages:\n" + MODEL + "  - name: e\n    kind: eval\n    config: {models: "
                     "'${model}', benchmarks: [humaneval], timeout_s: 0}\n", 8, r"timeout_s: must be > 0 seconds"),
    "missing input": ("name: x\nstages:\n" + MODEL + "  - name: p\n    kind: pretrain\n    config: {model: '${model}', "
                      "data: [/nonexistent/corpus.jsonl]}\n", 8, r"/nonexistent/corpus.jsonl: no such file"),
    # Shaped like a hub id, but in a data setting: a missing file (only model settings take hub ids).
    "missing relative input": ("name: x\nstages:\n" + MODEL + "  - name: p\n    kind: pretrain\n    config: "
                               "{model: '${model}', data: [corpus/train.jsonl]}\n", 8,
                               r"corpus/train.jsonl: no such file"),
    "missing shipped input": ("name: x\nstages:\n  - name: t\n    kind: tokenizer\n"
                              "    config: {inputs: ['${shipped}/nope.jsonl']}\n", 5, r"nope.jsonl: no such file"),
    "missing model": ("name: x\nstages:\n  - name: e\n    kind: eval\n    config: {models: {a: /nonexistent/m}, "
                      "benchmarks: [humaneval]}\n", 5, r"/nonexistent/m: no such file or directory"),
    "merge both ways": ("name: x\nstages:\n" + MODEL + "  - name: g\n    kind: merge\n    config: {base: '${model}', "
                        "target: '${model}', instruct: '${model}', vectors: [{model: '${model}', weight: 1}]}\n", 8,
                        r"give `instruct` \(chat vector\) or `vectors`"),
    "merge vector key": ("name: x\nstages:\n" + MODEL + "  - name: g\n    kind: merge\n    config: {base: '${model}', "
                         "target: '${model}', vectors: [{model: '${model}', wieght: 1}]}\n", 8,
                         r"vectors.0.wieght: unknown key \(did you mean 'weight'\?\)"),
    "synth method": ("name: x\nstages:\n" + MODEL + "  - name: s\n    kind: synth\n    config: {method: evol, "
                     "model: '${model}'}\n", 8,
                     r"method: 'evol': Input should be 'magpie', 'persona' or 'code-verified'"),
    "nested data key": ("name: x\nstages:\n  - name: d\n    kind: data\n    config:\n      readers: []\n"
                        "      dedup: {minhashh: {}}\n", 7, r"dedup.minhashh"),
    "launch not a string": ("name: x\nstages:\n  - name: m\n    kind: model\n    launch: [accelerate]\n", 5,
                            r"`launch` is a command prefix string"),
    "not yaml": ("name: x\nstages: [\n", None, r"not valid YAML"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_recipe_is_refused_with_file_line_and_key(case, tmp_path):
    text, line, message = BROKEN[case]
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    with pytest.raises(JacodeError) as e:
        load_recipe(path)
    msg = str(e.value)
    assert re.search(message, msg), msg
    if line is not None:
        assert re.search(rf"{re.escape(str(path))}:{line}: .*{message}", msg), msg
    r = runner.invoke(app, ["run", str(path), "--dry-run"])  # the command: exit 2, one message, no traceback
    assert r.exit_code == 2 and "Traceback" not in r.output and re.search(message, r.output), r.output


def test_every_problem_is_reported_at_once(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text("name: x\nstages:\n" + TOK.replace("vocab_size", "vocab_sizee")
                    + "  - name: m\n    kind: modle\n")
    with pytest.raises(JacodeError, match=r"2 problem\(s\)") as e:
        load_recipe(path)
    assert ":5: " in str(e.value) and ":7: " in str(e.value)


def test_shipped_recipes_validate(tmp_path, bench_data):
    """The tiny recipe validates with its inputs checked; the reference recipes are for GPU nodes with /models and
    /data: they validate except for exactly those inputs."""
    import os

    for name in ("tiny", "real-small"):  # the real model is named, not downloaded, by a dry run
        proc = subprocess.run([sys.executable, "-m", "jacode", "run", str(recipes_dir() / f"{name}.yaml"),
                               "--dry-run"], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                              env={**os.environ, "JACODE_BENCHMARK_DATA": str(bench_data)})
        assert proc.returncode == 0, proc.stderr[-2000:]
        recipe = load_recipe(recipes_dir() / f"{name}.yaml")
        assert all(f"{s.name} " in proc.stdout for s in recipe.stages) and "will run" in proc.stdout
    for name in ("future-code-ja-8b.yaml", "tanuki-8x8b-upcycle.yaml"):
        recipe = load_recipe(recipes_dir() / name, check_inputs=False)
        assert {s.kind for s in recipe.stages} <= set(KINDS)
        with pytest.raises(JacodeError) as e:
            load_recipe(recipes_dir() / name)
        problems = str(e.value).splitlines()[1:]
        missing = re.findall(r": (/\S+): no such file or directory", str(e.value))
        assert missing and all(p.startswith(("/models", "/data", "/benchmarks")) for p in missing), str(e.value)
        # ... and, where they are not installed, the trackers those recipes use
        assert all("no such file" in p or re.search("needs the (tensorboard|wandb) package", p) for p in problems), \
            problems
    # A shipped recipe by name, from any directory.
    proc = subprocess.run([sys.executable, "-m", "jacode", "run", "tanuki-8x8b-upcycle", "--dry-run",
                           "--no-input-check"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0 and "upcycle" in proc.stdout, proc.stderr[-2000:]


UPCYCLED = """name: moe
run_dir: {run}
stages:
  - name: upcycle
    kind: upcycle
    config: {{model: {dense}, experts: 4, top_k: 2}}
  - name: moe_cpt
    kind: pretrain
    launch: accelerate launch --config_file {accel} --num_processes 8
    config: {{model: "${{upcycle}}", data: ["${{shipped}}/ja_corpus.jsonl"], max_steps: 2, fim_rate: 0.0}}
"""


@pytest.mark.parametrize("wrap, ok", [("LlamaDecoderLayer", False), ("MixtralDecoderLayer", True), (None, True)])
def test_fsdp_wrap_classes_are_checked_against_the_model_the_stage_trains(tmp_path, tiny_model, wrap, ok):
    """An upcycled model has Mixtral layers: a config that wraps LlamaDecoderLayer (what the Tanuki recipe's did)
    is refused at validation, naming the model's own layers; unnamed, accelerate derives them."""
    accel = tmp_path / "fsdp.yaml"
    accel.write_text("distributed_type: FSDP\nfsdp_config:\n  fsdp_auto_wrap_policy: TRANSFORMER_BASED_WRAP\n"
                     + (f"  fsdp_transformer_layer_cls_to_wrap: {wrap}\n" if wrap else ""))
    recipe = tmp_path / "moe.yaml"
    recipe.write_text(UPCYCLED.format(run=tmp_path / "run", dense=tiny_model, accel=accel))
    if ok:
        load_recipe(recipe)
        return
    with pytest.raises(JacodeError, match=r"moe\.yaml:7: stage 'moe_cpt' \(pretrain\): launch: .* wraps "
                                          r"LlamaDecoderLayer, but the model \(MixtralForCausalLM\) has "
                                          r"MixtralDecoderLayer"):
        load_recipe(recipe)


def test_shipped_fsdp_config_wraps_the_upcycled_model_s_own_layers(tiny_model, tmp_path):
    """The shipped FSDP2 config names no class; accelerate then wraps `_no_split_modules` — MixtralDecoderLayer
    in an upcycled model (the class LlamaDecoderLayer it used to name is not there: accelerate raised)."""
    import yaml
    from accelerate.utils import FullyShardedDataParallelPlugin
    from transformers import AutoModelForCausalLM

    from jacode.surgery.config import UpcycleConfig
    from jacode.surgery.upcycle import upcycle
    from jacode.train import accelerate_configs

    shipped = yaml.safe_load((Path(accelerate_configs.__path__[0]) / "fsdp2.yaml").read_text())
    assert "fsdp_transformer_layer_cls_to_wrap" not in shipped["fsdp_config"]
    upcycle(tiny_model, tmp_path / "moe", UpcycleConfig(experts=2, top_k=1))
    moe = AutoModelForCausalLM.from_pretrained(tmp_path / "moe")
    plugin = FullyShardedDataParallelPlugin(auto_wrap_policy="transformer_based_wrap")
    plugin.set_auto_wrap_policy(moe)
    assert plugin.transformer_cls_names_to_wrap == ["MixtralDecoderLayer"]
    named = FullyShardedDataParallelPlugin(auto_wrap_policy="transformer_based_wrap",
                                           transformer_cls_names_to_wrap=["LlamaDecoderLayer"])
    with pytest.raises(ValueError, match="Could not find the transformer layer class LlamaDecoderLayer"):
        named.set_auto_wrap_policy(moe)
