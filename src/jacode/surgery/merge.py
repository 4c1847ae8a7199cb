"""Task arithmetic and the chat vector: out = T + Σ wᵢ·(Mᵢ − B), tensor by tensor, streaming.

The chat vector (Llama-3.1-Future-Code-Ja's recipe) is the one-vector case: T = the continually pretrained model,
M = Llama-3.1-Instruct, B = Llama-3.1 base: T gains instruction following without any SFT data. TIES merging
(Yadav et al., 2023) is offered for several vectors: each vector is trimmed to its largest `density` share of
entries, a sign is elected per entry by the summed weighted values, and only entries that agree are averaged.
Two variants, which differ only in details and give the same merge for positive weights up to how many entries
the trim keeps:

- `ties` (the default TIES): mergekit's `ties` merge method (mergekit/merge_methods/generalized_task_arithmetic.py
  and sparsify.py, `normalize: true`), formula for formula: each Δᵢ keeps exactly k = max(1, int(density·n)) entries
  of largest |Δᵢ|; the sign elected per entry is that of Σ wᵢΔᵢ (+ where the sum is 0); the merged delta is
  Σ wᵢΔᵢ over the agreeing entries divided by the Σ wᵢ of those entries (1 where that sum is 0). A mergekit TIES
  config (same weights, same density) gives the same merge here, up to the precision the deltas are taken in
  (jacode: float64 for float32 models, float32 for 16-bit ones). A negative weight cancels in that division: a
  single vector of weight −1 is added, not subtracted (mergekit's behaviour too).
- `ties-abs`: jacode's own variant: every entry whose |Δᵢ| reaches the k-th largest is kept (k = round(density·n)),
  entries whose weighted sum is exactly 0 elect no sign, and the division is by Σ |wᵢ| of the agreeing entries, so
  that a negative weight subtracts a vector.

Checks happen before anything is written: one architecture family, identical tensor names, identical shapes
between B and every Mᵢ, and T's shapes equal to B's — except the embedding and LM-head rows when T's tokenizer
extends B's (Japanese tokens appended): then only the shared rows receive the vector and the new rows keep T's
values. Anything else is an error naming the tensor. The output has T's names, dtypes and shard layout, so it is
written as it is computed (tensors.py): peak memory is a few tensors, not three models.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from jacode.errors import JacodeError
from jacode.models.resolve import resolve_model
from jacode.progress import progress
from jacode.surgery.tensors import DTYPES, ModelTensors, ShardWriter, write_index

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
                   "added_tokens.json", "vocab.json", "merges.txt")
VOCAB_TENSORS = ("embed_tokens.weight", "lm_head.weight", "wte.weight", "embed_out.weight")


@dataclass
class MergeConfig:
    target: str
    base: str
    vectors: list[tuple[str, float]]  # (model Mᵢ, weight wᵢ)
    method: str = "linear"  # linear | ties (mergekit's TIES) | ties-abs (jacode's, divided by Σ|wᵢ|)
    density: float = 0.2  # TIES: share of each vector's entries kept
    template_from: str | None = None  # the parent whose chat template the output gets (default: first Mᵢ)
    description: str = "task arithmetic"
    extra: dict = field(default_factory=dict)


def _config(path: str) -> dict:
    p = Path(path) / "config.json"
    if not p.exists():
        raise JacodeError(f"{path}: no config.json — not a Hugging Face model directory")
    return json.loads(p.read_text())


def _vocab(path: str) -> dict[str, int] | None:
    tok = Path(path) / "tokenizer.json"
    if not tok.exists():
        return None
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(tok)).get_vocab(with_added_tokens=True)


def check_compatible(cfg: MergeConfig, t: ModelTensors, b: ModelTensors, ms: list[ModelTensors]) -> dict[str, int]:
    """Raises a JacodeError naming the first problem; returns {vocab tensor: shared rows} for vocab extension."""
    configs = {p: _config(p) for p in [cfg.target, cfg.base, *[m for m, _ in cfg.vectors]]}
    families = {p: (c.get("model_type"), tuple(c.get("architectures") or ())) for p, c in configs.items()}
    if len({f[0] for f in families.values()}) != 1:
        raise JacodeError("models are of different architecture families: "
                          + ", ".join(f"{p}: {f[0]}" for p, f in families.items()))
    for (path, m) in [(cfg.base, b), *[(p, mt) for (p, _), mt in zip(cfg.vectors, ms)]]:
        for name in sorted(set(t.infos) ^ set(m.infos)):
            side = "target" if name not in t.infos else path
            raise JacodeError(f"tensor {name} is missing from {side} (tensor names must match)")
    partial: dict[str, int] = {}
    for name, ti in t.infos.items():
        bi = b.infos[name]
        for (path, _), m in zip(cfg.vectors, ms):
            mi = m.infos[name]
            if mi.shape != bi.shape:
                raise JacodeError(f"tensor {name}: shape {mi.shape} in {path} but {bi.shape} in base {cfg.base}")
        if ti.shape == bi.shape:
            continue
        grows_rows = (name.endswith(VOCAB_TENSORS) and len(ti.shape) == 2 and ti.shape[1] == bi.shape[1]
                      and ti.shape[0] > bi.shape[0])
        if not grows_rows:
            raise JacodeError(f"tensor {name}: shape {ti.shape} in target but {bi.shape} in base")
        partial[name] = bi.shape[0]
    if partial:
        tv, bv = _vocab(cfg.target), _vocab(cfg.base)
        if tv is None or bv is None:
            raise JacodeError(f"tensor {next(iter(partial))}: the target has more vocabulary rows than the base, "
                              "and without both tokenizer.json files jacode cannot check that it extends it")
        moved = [tok for tok, i in bv.items() if tv.get(tok) != i]
        if moved:
            raise JacodeError(f"tensor {next(iter(partial))}: the target's tokenizer does not extend the base's "
                              f"(e.g. token {moved[0]!r} has id {bv[moved[0]]} in the base, {tv.get(moved[0])} "
                              "in the target); only appended tokens can keep their own rows")
    return partial


CHUNK = 1 << 22  # elements per block of arithmetic: bounds the temporaries to a few tens of MB


def _compute_dtype(*tensors: torch.Tensor) -> torch.dtype:
    """float64 when any input is float32/64: then T + (I − B) with T = B gives I bit for bit (differences of
    float32 numbers are exact in float64). For 16-bit inputs float32 is enough for that and twice as fast."""
    return torch.float64 if any(t.dtype in (torch.float32, torch.float64) for t in tensors) else torch.float32


def _linear(target, base, models, weights, rows) -> tuple[torch.Tensor, int]:
    """T[:rows] += Σ wᵢ (Mᵢ − B), in row blocks (the rows beyond `rows` are the target's added vocabulary)."""
    ct = _compute_dtype(target, base, *models)
    result = target.clone() if target.dim() else target.reshape(1).clone()
    flat = [x.reshape(1, -1) if x.dim() == 0 else x for x in (base, *models)]
    base2, models2 = flat[0], flat[1:]
    per_row = max(1, result[0].numel()) if result.dim() else 1
    step = max(1, CHUNK // per_row)
    changed = 0
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        b = base2[r0:r1].to(ct)
        delta = sum(w * (m[r0:r1].to(ct) - b) for w, m in zip(weights, models2))
        changed += int(delta.count_nonzero())
        result[r0:r1] = (result[r0:r1].to(ct) + delta).to(target.dtype)
    return result.reshape(target.shape), changed


def _ties_tensor(target, base, models, weights, rows, density, method="ties") -> tuple[torch.Tensor, int]:
    ct = _compute_dtype(target, base, *models)
    b = base.to(ct)
    deltas = [m.to(ct) - b for m in models]
    delta = _ties(deltas, weights, density) if method == "ties" else _ties_abs(deltas, weights, density)
    result = target.to(ct)
    if target.dim():
        result[:rows] += delta
    else:
        result += delta
    return result.to(target.dtype), int(delta.count_nonzero())


def _top_k(d: torch.Tensor, k: int) -> torch.Tensor:
    """d with all but its k entries of largest magnitude zeroed; among equal magnitudes at the cut, the first in
    memory order are kept (mergekit's argsort leaves that order unspecified)."""
    if k >= d.numel():
        return d
    a = d.abs().flatten()
    threshold = a.kthvalue(a.numel() - k + 1).values
    keep = a > threshold
    at = a == threshold
    keep |= at & (at.cumsum(0) <= k - int(keep.sum()))
    return torch.where(keep.reshape(d.shape), d, torch.zeros_like(d))


def _ties(deltas: list[torch.Tensor], weights: list[float], density: float) -> torch.Tensor:
    """mergekit's TIES (method `ties`, consensus `sum`, `normalize: true`, `rescale: false`, `lambda` 1):
    magnitude-trim each Δᵢ to k = max(1, int(density·n)) entries, elect per entry the sign of Σ wᵢΔᵢ (+ at 0),
    and divide the agreeing Σ wᵢΔᵢ by the agreeing Σ wᵢ (1 where that is 0)."""
    if density >= 1:
        trimmed = list(deltas)
    elif density <= 0:
        trimmed = [torch.zeros_like(d) for d in deltas]
    else:
        trimmed = [_top_k(d, max(1, int(density * d.numel()))) for d in deltas]
    weighted = [w * d for w, d in zip(weights, trimmed)]
    majority = torch.where(sum(weighted) >= 0, 1.0, -1.0).to(weighted[0].dtype)
    agree = [torch.sign(wd) == majority for wd in weighted]
    mixed = sum(torch.where(a, wd, torch.zeros_like(wd)) for a, wd in zip(agree, weighted))
    divisor = sum(a.to(mixed.dtype) * w for a, w in zip(agree, weights))
    return mixed / torch.where(divisor == 0, torch.ones_like(divisor), divisor)


def _ties_abs(deltas: list[torch.Tensor], weights: list[float], density: float) -> torch.Tensor:
    """jacode's TIES on the weighted vectors wᵢ·Δᵢ: trim each to its top `density` share by magnitude, elect a sign
    per entry from their sum, and take the weighted mean of the entries that agree (Σ wᵢΔᵢ / Σ |wᵢ| over them), so
    identical vectors give themselves back and a negative weight subtracts a vector."""
    trimmed = []
    for d in deltas:
        k = max(1, int(round(density * d.numel())))
        if k < d.numel():
            threshold = d.abs().flatten().kthvalue(d.numel() - k + 1).values
            d = torch.where(d.abs() >= threshold, d, torch.zeros_like(d))
        trimmed.append(d)
    weighted = [w * d for w, d in zip(weights, trimmed)]
    sign = torch.sign(sum(weighted))
    agree = [(torch.sign(wd) == sign) & (wd != 0) for wd in weighted]
    total_weight = sum(a.to(weighted[0].dtype) * abs(w) for a, w in zip(agree, weights)).clamp(min=1e-12)
    return sum(torch.where(a, wd, torch.zeros_like(wd)) for a, wd in zip(agree, weighted)) / total_weight


METHODS = ("linear", "ties", "ties-abs")
TIES_NAMES = {"ties": "TIES (mergekit: ÷ Σwᵢ)", "ties-abs": "TIES (jacode: ÷ Σ|wᵢ|)"}


def merge(cfg: MergeConfig, out: str | Path) -> dict:
    out = Path(out)
    if cfg.method not in METHODS:
        raise JacodeError(f"unknown merge method {cfg.method!r} ({', '.join(METHODS)})")
    if not cfg.vectors:
        raise JacodeError("give at least one model to take a task vector from")
    start = time.time()
    cfg = replace(cfg, target=str(resolve_model(cfg.target)), base=str(resolve_model(cfg.base)),
                  vectors=[(str(resolve_model(m)), w) for m, w in cfg.vectors],
                  template_from=str(resolve_model(cfg.template_from)) if cfg.template_from else None)
    if out.resolve() in {Path(p).resolve() for p in [cfg.target, cfg.base, *[m for m, _ in cfg.vectors]]}:
        raise JacodeError(f"--out {out} is one of the input models; write the merge to a new directory")
    t, b = ModelTensors(cfg.target), ModelTensors(cfg.base)
    ms = [ModelTensors(p) for p, _ in cfg.vectors]
    try:
        partial = check_compatible(cfg, t, b, ms)
        out.mkdir(parents=True, exist_ok=True)
        weights = [w for _, w in cfg.vectors]
        weight_map, total, changed = {}, 0, 0
        by_file = t.names_by_file()
        bar = progress(len(t.infos), "merge", "tensor")
        for path, names in by_file.items():
            infos = [t.infos[n] for n in names]
            with ShardWriter(out / path.name, [(i.name, i.dtype, i.shape) for i in infos],
                             t.metadata[path.name]) as writer:
                for name in names:
                    target = t.read(name)
                    if not target.is_floating_point():  # integer buffers (e.g. position ids) are not task vectors
                        writer.write(name, target)
                        bar.update()
                        continue
                    rows = partial.get(name, target.shape[0] if target.dim() else 1)
                    base, models = b.read(name), [m.read(name) for m in ms]
                    if cfg.method == "linear":
                        result, n = _linear(target, base, models, weights, rows)
                    else:
                        result, n = _ties_tensor(target, base, models, weights, rows, cfg.density, cfg.method)
                    del base, models
                    changed += n
                    writer.write(name, result)
                    weight_map[name] = path.name
                    bar.update()
            total += writer.total
        bar.close()
        weight_map.update({n: t.infos[n].file.name for n in t.infos})
        write_index(out, weight_map, total)
    finally:  # file handles are closed whether or not the merge got through
        for m in (t, b, *ms):
            m.close()
    sources = _copy_side_files(cfg, out)
    report = {"method": cfg.method, "description": cfg.description, "target": cfg.target, "base": cfg.base,
              "vectors": [{"model": p, "weight": w} for p, w in cfg.vectors], "density": cfg.density,
              "vocab_rows_shared": partial, "changed_entries": changed, "seconds": round(time.time() - start, 2),
              "files_from": sources, **cfg.extra}
    (out / "merge_report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (out / "README.md").write_text(_readme(report))
    return report


def _copy_side_files(cfg: MergeConfig, out: Path) -> dict[str, str]:
    """config and tokenizer from the target (its vocabulary is the one the weights use); the chat template and the
    generation config (its end-of-turn tokens) from the instruct/vector model: what the merge adds is the ability
    to hold a conversation, which needs generation to stop at the end of a turn."""
    sources: dict[str, str] = {}
    template_parent = Path(cfg.template_from or cfg.vectors[0][0])
    for name in ("config.json", "generation_config.json", *TOKENIZER_FILES):
        parent = template_parent if name == "generation_config.json" and (template_parent / name).exists() \
            else Path(cfg.target)
        if (parent / name).exists():
            shutil.copy(parent / name, out / name)
            sources[name] = str(parent)
    template = _chat_template(template_parent)
    if template is not None:
        (out / "chat_template.jinja").write_text(template)
        tc = out / "tokenizer_config.json"
        if tc.exists():  # a template inside tokenizer_config.json would override the file: drop it
            data = json.loads(tc.read_text())
            if data.pop("chat_template", None) is not None:
                tc.write_text(json.dumps(data, indent=2, ensure_ascii=False))
        sources["chat_template.jinja"] = str(template_parent)
    return sources


def _chat_template(model_dir: Path) -> str | None:
    if (model_dir / "chat_template.jinja").exists():
        return (model_dir / "chat_template.jinja").read_text()
    tc = model_dir / "tokenizer_config.json"
    if tc.exists():
        template = json.loads(tc.read_text()).get("chat_template")
        if isinstance(template, str):
            return template
    return None


def _readme(r: dict) -> str:
    terms = " + ".join(f"{v['weight']}·({v['model']} − base)" for v in r["vectors"])
    if r["method"] != "linear":
        terms = f"{TIES_NAMES[r['method']]}({terms}; density {r['density']})"
    lines = [f"# Merged model ({r['description']})", "", "Made by `jacode merge`:", "",
             f"    out = {r['target']} + {terms}", f"    base = {r['base']}", ""]
    if r["vocab_rows_shared"]:
        lines += ["The target's vocabulary extends the base's: only the shared rows of "
                  + ", ".join(f"`{k}` (first {v})" for k, v in r["vocab_rows_shared"].items())
                  + " received the vector; the added rows keep the target's values.", ""]
    lines += ["Files taken from the parents:", ""] + [f"- `{k}`: {v}" for k, v in r["files_from"].items()]
    return "\n".join(lines) + "\n"


def chat_vector(base: str, instruct: str, target: str, out: str | Path, scale: float = 1.0) -> dict:
    return merge(MergeConfig(target=target, base=base, vectors=[(instruct, scale)], description="chat vector",
                             template_from=instruct), out)


__all__ = ["DTYPES", "MergeConfig", "chat_vector", "merge"]


def from_mergekit(path: str | Path) -> MergeConfig:
    """The MergeConfig of a mergekit YAML (merge_method linear, task_arithmetic or ties; jacode.formats translates
    it and refuses what jacode does not implement)."""
    from jacode.formats import mergekit_config

    return MergeConfig(**mergekit_config(path))
