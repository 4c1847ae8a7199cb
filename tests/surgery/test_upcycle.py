"""`jacode upcycle`: dense tiny Llama → Mixtral MoE; equal logits at init, both weight layouts, training moves
the router."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from jacode.errors import JacodeError
from jacode.surgery.upcycle import UpcycleConfig, fused_to_per_expert, per_expert_to_fused, upcycle
from tests.support import FIXTURES

DATA = FIXTURES


def _weights(d: Path) -> dict[str, torch.Tensor]:
    out = {}
    for f in sorted(d.glob("*.safetensors")):
        out.update(load_file(f))
    return out


REAL_BATCH = ["def add(a, b):\n    return a + b\n", "日本語の文章とコードを学習します。",
              "class Stack:\n    def push(self, x):\n        self.items.append(x)  # 要素を積む\n"]


def test_router_init_defaults_to_random_at_mixtral_init_scale():
    assert UpcycleConfig().router_init == "random"
    from jacode.surgery.config import UpcycleStageConfig

    assert UpcycleStageConfig(model="m").router_init == "random"


@pytest.mark.parametrize("router_init", ["random", "zeros", "hidden"])
def test_upcycled_model_equals_the_dense_model_at_init(tiny_model, tmp_path, router_init):
    """Equal logits whatever the routing (identical experts, top-k weights renormalised to 1); with `random` (and
    `hidden`) the tokens of a real batch go to several expert pairs, with `zeros` all to the same pair."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    r = upcycle(tiny_model, tmp_path / "moe", UpcycleConfig(experts=4, top_k=2, router_init=router_init))
    assert r["verify"]["equal_within_1e-4"] and r["verify"]["round_trip"] and r["router_init"] == router_init
    moe = AutoModelForCausalLM.from_pretrained(tmp_path / "moe").eval()
    dense = AutoModelForCausalLM.from_pretrained(tiny_model).eval()
    assert type(moe).__name__ == "MixtralForCausalLM" and moe.config.num_local_experts == 4
    assert moe.config.output_router_logits and moe.config.router_aux_loss_coef == 0.01
    tok = AutoTokenizer.from_pretrained(tiny_model)
    batch = tok(REAL_BATCH, return_tensors="pt", padding=True)
    ids = torch.randint(0, dense.config.vocab_size, (2, 24), generator=torch.Generator().manual_seed(0))
    routed = []  # the experts each token is sent to, as the model's own router (top-k) returns them
    hooks = [layer.mlp.gate.register_forward_hook(lambda m, a, o: routed.append(o[2]))
             for layer in moe.model.layers]
    with torch.no_grad():
        assert torch.allclose(moe(ids).logits, dense(ids).logits, atol=1e-4)
        routed.clear()
        got = moe(**batch).logits
        want = dense(**batch).logits
    for h in hooks:
        h.remove()
    real = batch["attention_mask"].bool()
    assert torch.allclose(got[real], want[real], atol=1e-4)
    assert len(routed) == moe.config.num_hidden_layers
    for indices in routed:  # (tokens, top_k) per layer
        pairs = {tuple(p) for p in indices[real.flatten()].sort(-1).values.tolist()}
        if router_init == "zeros":  # uniform softmax: top-k's tie-breaking sends every token to the same pair
            assert len(pairs) == 1, pairs
        else:
            assert len(pairs) > 1, pairs
    router = _weights(tmp_path / "moe")["model.layers.0.block_sparse_moe.gate.weight"]
    assert router.shape == (4, dense.config.hidden_size)
    assert (router == 0).all() == (router_init == "zeros")
    if router_init == "random":  # N(0, initializer_range²), as transformers initializes a Mixtral router
        assert float(router.std()) == pytest.approx(dense.config.initializer_range, rel=0.1)
        assert abs(float(router.mean())) < 0.005


def test_on_disk_per_expert_layout_matches_transformers_fused_layout(tiny_model, tmp_path):
    from transformers import AutoModelForCausalLM

    upcycle(tiny_model, tmp_path / "moe", UpcycleConfig(experts=3, top_k=2, router_init="random", noise=0.05,
                                                         verify=False))
    saved = _weights(tmp_path / "moe")
    dense = _weights(tiny_model)
    # Each expert is a (noisy) copy of the dense MLP, and the copies differ from each other.
    w = [saved[f"model.layers.1.block_sparse_moe.experts.{j}.w1.weight"] for j in range(3)]
    gate = dense["model.layers.1.mlp.gate_proj.weight"]
    assert all(0 < float((x - gate).abs().max()) < 0.5 for x in w) and not torch.equal(w[0], w[1])
    state = AutoModelForCausalLM.from_pretrained(tmp_path / "moe").state_dict()
    for layer in range(2):
        fused = per_expert_to_fused(saved, layer, 3)
        for k, v in fused.items():
            assert torch.equal(state[k], v), k
        back = fused_to_per_expert(state, layer)
        for k, v in back.items():
            assert torch.equal(saved[k], v), k


def test_noise_breaks_equality_and_verification_says_so(tiny_model, tmp_path):
    r = upcycle(tiny_model, tmp_path / "moe", UpcycleConfig(experts=2, top_k=1, noise=0.02))
    assert r["verify"]["equality_expected"] is False and r["verify"]["max_abs_logit_diff"] > 1e-4


def test_bad_inputs_are_clear_errors(tiny_model, tmp_path):
    with pytest.raises(JacodeError, match="top-k"):
        upcycle(tiny_model, tmp_path / "a", UpcycleConfig(experts=2, top_k=3))
    cfg = json.loads((tiny_model / "config.json").read_text())
    other = tmp_path / "qwen"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({**cfg, "model_type": "gpt2"}))
    shutil.copy(tiny_model / "model.safetensors", other)  # a whole model directory, of another family
    with pytest.raises(JacodeError, match="Llama-family"):
        upcycle(other, tmp_path / "b")
    with pytest.raises(JacodeError, match="router init"):
        upcycle(tiny_model, tmp_path / "c", UpcycleConfig(router_init="magic"))


def test_moe_continued_pretraining_changes_the_router(tiny_model, tmp_path):
    """A few `jacode train pretrain` steps on the upcycled model: the aux loss is logged and the router moves."""
    subprocess.run([sys.executable, "-m", "jacode", "upcycle", "--model", str(tiny_model), "--out",
                    str(tmp_path / "moe"), "--experts", "4", "--top-k", "2", "--noise", "0.01",
                    "--router-init", "random"], check=True, capture_output=True, timeout=300)
    data = tmp_path / "data"
    data.mkdir()
    (data / "ja.jsonl").write_bytes((DATA / "ja_corpus.jsonl").read_bytes())
    proc = subprocess.run([sys.executable, "-m", "jacode", "train", "pretrain", "--model", str(tmp_path / "moe"),
                           "--data", str(data), "--out", str(tmp_path / "run"), "--seq-len", "64",
                           "--batch-size", "4", "--max-steps", "4", "--warmup-steps", "1", "--lr", "3e-3",
                           "--log-every", "2", "--save-every", "4", "--fim-rate", "0"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert all(r["router_aux_loss"] > 0 for r in rows)
    before = _weights(tmp_path / "moe")["model.layers.0.block_sparse_moe.gate.weight"]
    after = _weights(tmp_path / "run" / "final")["model.layers.0.block_sparse_moe.gate.weight"]
    assert not torch.allclose(before, after)
