"""`jacode merge`: chat vector and task arithmetic on tiny random Llama models, checked tensor by tensor."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from jacode.errors import JacodeError
from jacode.surgery.merge import MergeConfig, chat_vector, merge
from jacode.surgery.tensors import ModelTensors


def _weights(d: Path) -> dict[str, torch.Tensor]:
    out = {}
    for f in sorted(d.glob("*.safetensors")):
        out.update(load_file(f))
    return out


def _variant(src: Path, dst: Path, seed: int, scale: float = 0.01, dtype=None) -> Path:
    """A copy of src with every float tensor moved by a random delta (a stand-in for fine-tuning)."""
    import shutil

    shutil.copytree(src, dst)
    g = torch.Generator().manual_seed(seed)
    for f in dst.glob("*.safetensors"):
        tensors = load_file(f)
        out = {}
        for k, v in tensors.items():
            v = v + scale * torch.randn(v.shape, generator=g) if v.is_floating_point() else v
            out[k] = v.to(dtype) if dtype is not None and v.is_floating_point() else v
        save_file(out, f, metadata={"format": "pt"})
    return dst


@pytest.fixture(scope="module")
def models(tiny_model, tmp_path_factory):
    root = tmp_path_factory.mktemp("merge")
    base = tiny_model
    instruct = _variant(base, root / "instruct", seed=1)
    (instruct / "chat_template.jinja").write_text("{% for m in messages %}<|{{ m.role }}|>{{ m.content }}"
                                                  "{% endfor %}INSTRUCT-TEMPLATE")
    return base, instruct, root


def test_chat_vector_onto_the_base_gives_the_instruct_model_exactly(models, tmp_path):
    base, instruct, _ = models
    report = chat_vector(str(base), str(instruct), str(base), tmp_path / "out")
    got, want = _weights(tmp_path / "out"), _weights(instruct)
    assert got.keys() == want.keys()
    for k in want:
        assert torch.equal(got[k], want[k]), k
    assert report["changed_entries"] > 0
    assert (tmp_path / "out" / "chat_template.jinja").read_text().endswith("INSTRUCT-TEMPLATE")
    assert json.loads((tmp_path / "out" / "config.json").read_text())["model_type"] == "llama"
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "chat vector" in readme and "chat_template.jinja" in readme
    from transformers import AutoModelForCausalLM, AutoTokenizer

    AutoModelForCausalLM.from_pretrained(tmp_path / "out")  # a normal HF model directory
    tok = AutoTokenizer.from_pretrained(tmp_path / "out")
    assert tok.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False).endswith("INSTRUCT-TEMPLATE")


def test_scale_zero_gives_the_target_and_scale_is_linear(models, tmp_path, monkeypatch):
    from jacode.surgery import merge as merge_module

    monkeypatch.setattr(merge_module, "CHUNK", 1000)  # many row blocks per tensor, as with 8B-size tensors
    base, instruct, root = models
    target = _variant(base, tmp_path / "target", seed=2)
    chat_vector(str(base), str(instruct), str(target), tmp_path / "zero", scale=0.0)
    half = chat_vector(str(base), str(instruct), str(target), tmp_path / "half", scale=0.5)
    t, b, i = _weights(target), _weights(base), _weights(instruct)
    zero, h = _weights(tmp_path / "zero"), _weights(tmp_path / "half")
    for k in t:
        assert torch.equal(zero[k], t[k]), k
        assert torch.allclose(h[k], t[k] + 0.5 * (i[k] - b[k]), atol=1e-6), k
    assert half["description"] == "chat vector"


def test_dtype_and_shards_follow_the_target(models, tmp_path):
    base, instruct, _ = models
    target = _variant(base, tmp_path / "bf16", seed=3, dtype=torch.bfloat16)
    chat_vector(str(base), str(instruct), str(target), tmp_path / "out")
    got, t = _weights(tmp_path / "out"), _weights(target)
    assert all(got[k].dtype == t[k].dtype == torch.bfloat16 for k in t if t[k].is_floating_point())


def test_vocabulary_extension_keeps_the_new_rows(models, tmp_path):
    """T's tokenizer appends Japanese tokens: shared rows get the vector, new rows keep T's values."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base, instruct, _ = models
    tok = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base)
    n_base = len(tok)
    tok.add_tokens(["関数", "変数", "テスト"])
    model.resize_token_embeddings(len(tok))
    with torch.no_grad():
        model.get_input_embeddings().weight[n_base:] = 7.0
    target = tmp_path / "extended"
    model.save_pretrained(target)
    tok.save_pretrained(target)
    report = chat_vector(str(base), str(instruct), str(target), tmp_path / "out")
    got, b, i, t = _weights(tmp_path / "out"), _weights(base), _weights(instruct), _weights(target)
    name = "model.embed_tokens.weight"
    assert report["vocab_rows_shared"] == {name: n_base}
    assert torch.allclose(got[name][:n_base], t[name][:n_base] + i[name] - b[name], atol=1e-6)
    assert torch.equal(got[name][n_base:], t[name][n_base:])
    assert (got[name][n_base:] == 7.0).all()


def test_mismatches_are_clear_errors_naming_the_tensor(models, tmp_path):
    base, instruct, _ = models
    bad = _variant(base, tmp_path / "bad", seed=4)
    f = next(bad.glob("*.safetensors"))
    tensors = load_file(f)
    name = "model.layers.0.mlp.up_proj.weight"
    tensors[name] = tensors[name][:-1]
    save_file(tensors, f, metadata={"format": "pt"})
    with pytest.raises(JacodeError, match=name.replace(".", r"\.")):
        chat_vector(str(base), str(instruct), str(bad), tmp_path / "o1")
    missing = _variant(base, tmp_path / "missing", seed=5)
    f = next(missing.glob("*.safetensors"))
    tensors = load_file(f)
    del tensors["model.norm.weight"]
    save_file(tensors, f, metadata={"format": "pt"})
    with pytest.raises(JacodeError, match=r"model\.norm\.weight is missing"):
        chat_vector(str(base), str(missing), str(base), tmp_path / "o2")
    other = _variant(base, tmp_path / "other", seed=6)
    cfg = json.loads((other / "config.json").read_text())
    cfg["model_type"] = "qwen2"
    (other / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(JacodeError, match="architecture families"):
        chat_vector(str(base), str(instruct), str(other), tmp_path / "o3")
    with pytest.raises(JacodeError, match="not a Hugging Face model|not a safetensors"):
        chat_vector(str(base), str(instruct), str(tmp_path), tmp_path / "o4")
    assert not (tmp_path / "o1").exists()  # nothing is written before the checks pass


def test_task_arithmetic_and_ties(models, tmp_path):
    base, instruct, _ = models
    other = _variant(base, tmp_path / "other", seed=7)
    cfg = MergeConfig(target=str(base), base=str(base), vectors=[(str(instruct), 0.6), (str(other), 0.4)])
    merge(cfg, tmp_path / "linear")
    b, i, o = _weights(base), _weights(instruct), _weights(other)
    lin = _weights(tmp_path / "linear")
    for k in b:
        assert torch.allclose(lin[k], b[k] + 0.6 * (i[k] - b[k]) + 0.4 * (o[k] - b[k]), atol=1e-6), k
    cfg.method, cfg.density = "ties", 0.3
    merge(cfg, tmp_path / "ties")
    ties = _weights(tmp_path / "ties")
    k = "model.layers.0.mlp.up_proj.weight"
    d1, d2, dm = i[k] - b[k], o[k] - b[k], ties[k] - b[k]
    # Trimmed: far fewer entries move than with the linear merge; kept entries follow the elected sign.
    assert dm.count_nonzero() < 0.6 * d1.numel()
    t1, t2 = d1 * (d1.abs() >= d1.abs().quantile(0.7)), d2 * (d2.abs() >= d2.abs().quantile(0.7))
    elected = torch.sign(0.6 * t1 + 0.4 * t2)
    moved = dm != 0
    assert (torch.sign(dm[moved]) == elected[moved]).float().mean() > 0.99


def test_cli_chat_vector(models, tmp_path):
    base, instruct, _ = models
    proc = subprocess.run([sys.executable, "-m", "jacode.cli", "merge", "chat-vector", "--base", str(base),
                           "--instruct", str(instruct), "--target", str(base), "--scale", "1.0",
                           "--out", str(tmp_path / "cv")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads((tmp_path / "cv" / "merge_report.json").read_text())["vectors"][0]["weight"] == 1.0
    with ModelTensors(tmp_path / "cv") as m:
        assert "model.embed_tokens.weight" in m


def test_ties_weights_and_signs_and_refusing_to_overwrite_an_input(models, tmp_path):
    from jacode.surgery.merge import _ties, _ties_abs

    d = torch.tensor([1.0, -2.0, 3.0, -4.0])
    for ties in (_ties, _ties_abs):
        assert torch.allclose(ties([d, d], [0.5, 0.5], 1.0), d)  # identical vectors give themselves back
    assert torch.allclose(_ties_abs([d], [-1.0], 1.0), -d)  # ties-abs: a negative weight subtracts the vector
    assert torch.allclose(_ties([d], [-1.0], 1.0), d)  # mergekit: ÷ Σwᵢ = −1 cancels the sign: added, not subtracted
    ones = torch.ones(4)  # exactly k = int(density·n) entries kept even among equal magnitudes (ties-abs keeps all)
    assert _ties([ones], [1.0], 0.5).tolist() == [1.0, 1.0, 0.0, 0.0] and _ties_abs([ones], [1.0], 0.5).sum() == 4
    base, instruct, _ = models
    with pytest.raises(JacodeError, match="one of the input models"):
        chat_vector(str(base), str(instruct), str(base), base)
    with pytest.raises(JacodeError, match="unknown merge method"):
        merge(MergeConfig(target=str(base), base=str(base), vectors=[(str(instruct), 1.0)], method="dare"),
              tmp_path / "o")


def _mergekit_ties(base: torch.Tensor, models: list[torch.Tensor], weights: list[float], density: float):
    """mergekit's own TIES (its registry's `ties` method, with that method's default parameters) on one tensor."""
    from mergekit.merge_methods import registry
    from mergekit.merge_methods.base import TensorGroup

    method = registry.get("ties")
    defaults = {p.name: p.default for p in method.spec.parameters if p.name in ("int8_mask", "normalize", "rescale",
                                                                               "lambda")}
    assert defaults == {"int8_mask": False, "normalize": True, "rescale": False, "lambda": 1.0}
    group = TensorGroup.from_tensors([base, *models], base_index=0)
    ids = [e.id for e in group.non_base]
    return method.merge_group(group, **defaults, weight=dict(zip(ids, weights)), density=dict.fromkeys(ids, density))


@pytest.mark.parametrize("shape,density,weights", [
    ((64, 48), 0.2, [0.6, 0.4]),
    ((100,), 0.29, [1.0, 0.5, 0.3]),  # int(0.29·100) = 28, not round() = 29
    ((3,), 0.2, [0.7, -0.3]),  # k = max(1, int(0.6)) = 1
    ((), 0.2, [1.0, 1.0]),  # a scalar
    ((32, 8), 0.5, [-1.0]),  # a negative weight alone: mergekit adds the vector (÷ Σwᵢ)
    ((40, 40), 1.0, [0.5, -0.5, 1.0]),  # no trim; opposite weights
    ((16, 16), 0.0, [1.0, 2.0]),  # everything trimmed
])
def test_ties_is_mergekits_ties(shape, density, weights):
    """jacode's `ties` against mergekit's own merge method on random tensors: identical, bit for bit."""
    from jacode.surgery.merge import _ties

    g = torch.Generator().manual_seed(len(weights) * 100 + len(shape))
    base = torch.randn(shape, generator=g, dtype=torch.float64)
    models = [base + torch.randn(shape, generator=g, dtype=torch.float64) for _ in weights]
    want = _mergekit_ties(base, models, weights, density)
    got = base + _ties([m - base for m in models], weights, density)
    assert torch.equal(got, want)


def test_ties_merge_of_models_is_mergekits_tensor_by_tensor(models, tmp_path):
    """The whole streamed merge (method `ties`, the default TIES) against mergekit tensor by tensor; `ties-abs`
    gives the same merge for positive weights up to the trim's rounding and differs where a weight is negative."""
    base, instruct, _ = models
    other = _variant(base, tmp_path / "other", seed=8)
    b, i, o = _weights(base), _weights(instruct), _weights(other)
    for weights in ([0.6, 0.4], [0.7, -0.3]):
        cfg = MergeConfig(target=str(base), base=str(base), vectors=[(str(instruct), weights[0]),
                                                                     (str(other), weights[1])],
                          method="ties", density=0.3)
        merge(cfg, tmp_path / f"ties{weights[1]}")
        got = _weights(tmp_path / f"ties{weights[1]}")
        for k in b:  # float32 models: jacode computes in float64, so mergekit is given float64 too
            want = _mergekit_ties(b[k].double(), [i[k].double(), o[k].double()], weights, 0.3).to(b[k].dtype)
            assert torch.equal(got[k], want), k
    cfg.method = "ties-abs"
    merge(cfg, tmp_path / "abs")
    absolute = _weights(tmp_path / "abs")
    k = "model.layers.0.mlp.up_proj.weight"
    # Entries where only the negatively weighted vector survives: ties-abs moves them by −Δ, mergekit by +Δ.
    assert not torch.allclose(absolute[k], got[k])
    readme = (tmp_path / "abs" / "README.md").read_text()
    assert "TIES (jacode" in readme and "density 0.3" in readme
