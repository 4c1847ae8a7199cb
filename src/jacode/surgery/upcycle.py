"""Dense → Mixture-of-Experts upcycling (Tanuki-8x8B's route): Llama-family dense model → Mixtral architecture.

Every expert starts as a copy of the dense MLP (gate→w1, down→w2, up→w3), a router (`block_sparse_moe.gate`) is
added per layer, and everything else is copied. The output is written in the per-expert layout that Mixtral
checkpoints use on disk (`...experts.{j}.w1.weight`), which transformers fuses into `mlp.experts.gate_up_proj`
(E, 2·I, H) and `mlp.experts.down_proj` (E, H, I) when it loads the model, and which vLLM reads as it is.

Why the upcycled model equals the dense one: Mixtral's router renormalizes the top-k probabilities to sum to 1,
so with identical experts the layer's output is Σ wⱼ·MLP(x) = MLP(x) whatever the router says. Noise on the
expert copies (`noise`) lets experts diverge during continued pretraining at the price of that equality.

Router initializations:

- `random` (the default): every router weight drawn from N(0, σ²) with σ the dense config's `initializer_range`
  (0.02 when absent): what transformers' MixtralPreTrainedModel._init_weights gives a fresh Mixtral router, and the
  usual start of sparse upcycling (Komatsuzaki et al., 2023: experts copied, the router newly initialized).
  Different tokens then go to different top-k experts from the first step, so every expert receives gradients.
  (mergekit-moe's `gate_mode: random` draws N(0, 1) unscaled; its `uniform_random` is nn.Linear's U(±1/√H).)
- `zeros`: all router logits are 0, the softmax is uniform and top-k breaks the tie the same way for every token,
  so all tokens go to the same k experts until training moves the router; the others get no gradient at first.
- `hidden`: k-means centroids of each layer's MLP inputs on sample text, so that tokens are spread over experts
  by what they look like.

The output equals the dense model's under all three (see above): routing decides which copies are mixed, not what
the mix is.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import torch

from jacode.errors import JacodeError
from jacode.models.resolve import resolve_model
from jacode.surgery.config import UpcycleConfig
from jacode.surgery.merge import TOKENIZER_FILES
from jacode.surgery.tensors import NAMES, ModelTensors, ShardWriter, write_index

DENSE_FAMILIES = ("llama", "mistral")
MLP = re.compile(r"^model\.layers\.(\d+)\.mlp\.(gate_proj|up_proj|down_proj)\.weight$")
EXPERT_NAME = {"gate_proj": "w1", "down_proj": "w2", "up_proj": "w3"}
COPIED_CONFIG = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                 "num_key_value_heads", "head_dim", "hidden_act", "max_position_embeddings", "rms_norm_eps",
                 "rope_theta", "rope_parameters", "rope_scaling", "tie_word_embeddings", "bos_token_id",
                 "eos_token_id", "pad_token_id", "attention_dropout", "initializer_range", "sliding_window")


def mixtral_config(dense: dict, cfg: UpcycleConfig) -> dict:
    if dense.get("model_type") not in DENSE_FAMILIES:
        raise JacodeError(f"upcycling takes a Llama-family dense model ({', '.join(DENSE_FAMILIES)}); "
                          f"got model_type {dense.get('model_type')!r}")
    for flag in ("attention_bias", "mlp_bias"):
        if dense.get(flag):
            raise JacodeError(f"config.{flag} is true; Mixtral has no biases there, so the copy would not be exact")
    if not 1 <= cfg.top_k <= cfg.experts:
        raise JacodeError(f"--top-k must be between 1 and --experts ({cfg.experts}); got {cfg.top_k}")
    out = {k: dense[k] for k in COPIED_CONFIG if k in dense}
    out.update(model_type="mixtral", architectures=["MixtralForCausalLM"], num_local_experts=cfg.experts,
               num_experts_per_tok=cfg.top_k, router_aux_loss_coef=cfg.aux_loss_coef,
               output_router_logits=True,  # so that training adds the load-balancing loss (jacode train pretrain)
               router_jitter_noise=0.0, dtype=dense.get("dtype") or dense.get("torch_dtype") or "float32")
    return out


def _router(layer: int, hidden: int, cfg: UpcycleConfig, dtype: torch.dtype, centroids: dict,
            std: float = 0.02) -> torch.Tensor:
    if cfg.router_init == "zeros":
        return torch.zeros(cfg.experts, hidden, dtype=dtype)
    if cfg.router_init == "random":
        g = torch.Generator().manual_seed(cfg.seed * 1000 + layer)
        return (std * torch.randn(cfg.experts, hidden, generator=g)).to(dtype)
    if cfg.router_init == "hidden":
        return centroids[layer].to(dtype)
    raise JacodeError(f"unknown router init {cfg.router_init!r} (random, zeros, hidden)")


def hidden_state_centroids(dense_dir: Path, cfg: UpcycleConfig) -> dict[int, torch.Tensor]:
    """Per layer, k-means (k = experts) of the normalized MLP inputs on the sample texts: router rows."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(dense_dir)
    model = AutoModelForCausalLM.from_pretrained(dense_dir, dtype=torch.float32).eval()
    inputs: dict[int, list[torch.Tensor]] = {}
    hooks = [layer.mlp.register_forward_hook(lambda m, a, o, i=i: inputs.setdefault(i, []).append(a[0][0]))
             for i, layer in enumerate(model.model.layers)]
    with torch.no_grad():
        for text in cfg.sample_texts:
            model(**tok(text, return_tensors="pt"))
    for h in hooks:
        h.remove()
    g = torch.Generator().manual_seed(cfg.seed)
    out = {}
    for i, xs in inputs.items():
        x = torch.nn.functional.normalize(torch.cat(xs), dim=-1)
        if len(x) < cfg.experts:
            raise JacodeError(f"--router-init hidden needs at least {cfg.experts} sample tokens; got {len(x)}")
        c = x[torch.randperm(len(x), generator=g)[:cfg.experts]].clone()
        for _ in range(20):
            assign = (x @ c.T).argmax(-1)
            for j in range(cfg.experts):
                if (assign == j).any():
                    c[j] = torch.nn.functional.normalize(x[assign == j].mean(0), dim=-1)
        out[i] = c
    return out


def per_expert_to_fused(tensors: dict[str, torch.Tensor], layer: int, experts: int) -> dict[str, torch.Tensor]:
    """On-disk Mixtral layout → the fused parameters transformers keeps in memory for one layer."""
    p = f"model.layers.{layer}.block_sparse_moe.experts"
    w1 = torch.stack([tensors[f"{p}.{j}.w1.weight"] for j in range(experts)])
    w3 = torch.stack([tensors[f"{p}.{j}.w3.weight"] for j in range(experts)])
    return {f"model.layers.{layer}.mlp.experts.gate_up_proj": torch.cat([w1, w3], dim=1),
            f"model.layers.{layer}.mlp.experts.down_proj": torch.stack(
                [tensors[f"{p}.{j}.w2.weight"] for j in range(experts)]),
            f"model.layers.{layer}.mlp.gate.weight": tensors[f"model.layers.{layer}.block_sparse_moe.gate.weight"]}


def fused_to_per_expert(state: dict[str, torch.Tensor], layer: int) -> dict[str, torch.Tensor]:
    """The in-memory fused layout → per-expert tensors as Mixtral checkpoints store them."""
    gate_up = state[f"model.layers.{layer}.mlp.experts.gate_up_proj"]
    down = state[f"model.layers.{layer}.mlp.experts.down_proj"]
    inter = gate_up.shape[1] // 2
    p = f"model.layers.{layer}.block_sparse_moe"
    out = {f"{p}.gate.weight": state[f"model.layers.{layer}.mlp.gate.weight"]}
    for j in range(gate_up.shape[0]):
        out[f"{p}.experts.{j}.w1.weight"] = gate_up[j, :inter]
        out[f"{p}.experts.{j}.w3.weight"] = gate_up[j, inter:]
        out[f"{p}.experts.{j}.w2.weight"] = down[j]
    return out


def upcycle(dense_dir: str | Path, out: str | Path, cfg: UpcycleConfig = UpcycleConfig()) -> dict:
    dense_dir, out = resolve_model(dense_dir), Path(out)
    start = time.time()
    dense_cfg = json.loads((dense_dir / "config.json").read_text())
    moe_cfg = mixtral_config(dense_cfg, cfg)
    centroids = hidden_state_centroids(dense_dir, cfg) if cfg.router_init == "hidden" else {}
    src = ModelTensors(dense_dir)
    try:
        return _write_upcycled(src, dense_dir, dense_cfg, moe_cfg, centroids, out, cfg, start)
    finally:
        src.close()


def _write_upcycled(src, dense_dir, dense_cfg, moe_cfg, centroids, out, cfg, start) -> dict:
    layers = sorted({int(m.group(1)) for n in src.infos if (m := MLP.match(n))})
    if len(layers) != dense_cfg["num_hidden_layers"]:
        raise JacodeError(f"{dense_dir}: found MLP weights for {len(layers)} layers, config says "
                          f"{dense_cfg['num_hidden_layers']} (expected model.layers.N.mlp.*_proj.weight)")
    out.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(cfg.seed)
    weight_map, total = {}, 0
    files = src.names_by_file()
    for k, names in enumerate(files.values()):
        # Plan this output shard: dense MLP tensors become E expert copies; each layer's router follows its
        # down_proj (every layer has exactly one).
        plan: list[tuple[str, str, tuple[int, ...], tuple]] = []
        for name in names:
            info = src.infos[name]
            m = MLP.match(name)
            if not m:
                plan.append((name, info.dtype, info.shape, ("copy", name)))
                continue
            layer, proj = int(m.group(1)), m.group(2)
            for j in range(cfg.experts):
                plan.append((f"model.layers.{layer}.block_sparse_moe.experts.{j}.{EXPERT_NAME[proj]}.weight",
                             info.dtype, info.shape, ("expert", name, j)))
            if proj == "down_proj":
                plan.append((f"model.layers.{layer}.block_sparse_moe.gate.weight", info.dtype,
                             (cfg.experts, dense_cfg["hidden_size"]), ("router", layer)))
        shard = f"model-{k + 1:05d}-of-{len(files):05d}.safetensors" if len(files) > 1 else "model.safetensors"
        with ShardWriter(out / shard, [(n, d, s) for n, d, s, _ in plan]) as writer:
            cached: tuple[str, torch.Tensor] | None = None
            for name, dtype, _shape, how in plan:
                if how[0] == "router":
                    tensor = _router(how[1], dense_cfg["hidden_size"], cfg, _dtype(dtype), centroids,
                                     float(dense_cfg.get("initializer_range") or 0.02))
                else:
                    if cached is None or cached[0] != how[1]:
                        cached = (how[1], src.read(how[1]))  # read once, written E times
                    tensor = cached[1]
                    if how[0] == "expert" and cfg.noise > 0:
                        noise = torch.randn(tensor.shape, generator=g) * (cfg.noise * tensor.float().std())
                        tensor = (tensor.float() + noise).to(tensor.dtype)
                writer.write(name, tensor)
                weight_map[name] = shard
        total += writer.total
    write_index(out, weight_map, total)
    (out / "config.json").write_text(json.dumps(moe_cfg, indent=2))
    for name in ("generation_config.json", "chat_template.jinja", *TOKENIZER_FILES):
        if (dense_dir / name).exists():
            shutil.copy(dense_dir / name, out / name)
    report = {"dense": str(dense_dir), "experts": cfg.experts, "top_k": cfg.top_k, "router_init": cfg.router_init,
              "noise": cfg.noise, "aux_loss_coef": cfg.aux_loss_coef, "seconds": round(time.time() - start, 2)}
    if cfg.verify:
        report["verify"] = verify(dense_dir, out, cfg)
    (out / "upcycle_report.json").write_text(json.dumps(report, indent=2))
    return report


def _dtype(name: str) -> torch.dtype:
    return next(t for t, n in NAMES.items() if n == name)


def verify(dense_dir: Path, moe_dir: Path, cfg: UpcycleConfig) -> dict:
    """Logits of the dense and upcycled models on sample inputs, and a save → load round trip."""
    import tempfile

    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(dense_dir)
    dense = AutoModelForCausalLM.from_pretrained(dense_dir, dtype=torch.float32).eval()
    moe = AutoModelForCausalLM.from_pretrained(moe_dir, dtype=torch.float32).eval()
    diff = 0.0
    with torch.no_grad():
        for text in cfg.sample_texts:
            ids = tok(text, return_tensors="pt")
            diff = max(diff, float((dense(**ids).logits - moe(**ids).logits).abs().max()))
    del dense
    with tempfile.TemporaryDirectory() as tmp:
        moe.save_pretrained(tmp)
        again = AutoModelForCausalLM.from_pretrained(tmp, dtype=torch.float32)
        a, b = moe.state_dict(), again.state_dict()
        round_trip = a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    exact_expected = cfg.noise == 0
    result = {"max_abs_logit_diff": diff, "equal_within_1e-4": diff <= 1e-4, "round_trip": round_trip,
              "equality_expected": exact_expected}
    if (exact_expected and diff > 1e-4) or not round_trip:
        raise JacodeError(f"upcycled model failed verification: {result}")
    return result
