"""A PEFT adapter directory as a model input: merged into its base once, cached as a plain model directory.

Why merge rather than hand callers the adapter: every reader here (transformers engines, vLLM, the trainers,
the merge and surgery code, the checks) takes one Hugging Face directory; a merged copy works with all of them
unchanged, and generation is as fast as the base model's. The price is disk (one model's weights per adapter),
paid once: the merged directory is keyed by the adapter's content and the base's identity.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

from jacode.errors import JacodeError
from jacode.models.cache import building, locked, models_cache, say
from jacode.models.checks import check_model_dir, load_tokenizer

ADAPTER_CONFIG = "adapter_config.json"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")
SOURCE_FILE = "jacode-source.json"


def is_adapter_dir(path: Path) -> bool:
    return path.is_dir() and (path / ADAPTER_CONFIG).is_file()


def adapter_base(adapter: Path) -> str:
    """The base model an adapter was trained on, as written in its adapter_config.json."""
    try:
        cfg = json.loads((adapter / ADAPTER_CONFIG).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise JacodeError(f"adapter {adapter}: unreadable {ADAPTER_CONFIG} ({e})") from None
    base = cfg.get("base_model_name_or_path")
    if not base:
        raise JacodeError(f"adapter {adapter}: {ADAPTER_CONFIG} names no base_model_name_or_path")
    # A relative path is written relative to where training ran; beside the adapter is the other good guess.
    if not Path(base).expanduser().exists() and (adapter / base).exists():
        return str(adapter / base)
    return base


def merged_dir(adapter: Path, base_dir: Path, cache_dir: str | Path | None = None) -> Path:
    """Where the merge of `adapter` into `base_dir` is cached: the adapter's bytes (small: hashed in full) and
    the base's path and weight files' sizes and mtimes (large: a stat, not a read)."""
    h = hashlib.sha256()
    for f in sorted(p for p in adapter.rglob("*") if p.is_file()):
        h.update(f"{f.relative_to(adapter)}\0".encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())
    h.update(f"base\0{base_dir.resolve()}\0".encode())
    for f in sorted(base_dir.glob("*")):
        if f.is_file() and f.suffix in {".safetensors", ".bin", ".json"}:
            st = f.stat()
            h.update(f"{f.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return models_cache(cache_dir) / "merged" / h.hexdigest()


def merge_adapter(adapter: str | Path, resolve_base: Callable[[str], Path],
                  cache_dir: str | Path | None = None) -> Path:
    """The plain model directory of `adapter` merged into its base (`resolve_base` turns the base's name into a
    directory: the caller's resolver, so a base may itself be a GGUF file, a hub id or another adapter)."""
    adapter = Path(adapter)
    base_spec = adapter_base(adapter)
    try:
        base_dir = resolve_base(base_spec)
    except JacodeError as e:
        raise JacodeError(f"adapter {adapter}: its base model {base_spec!r} cannot be used: {e}") from None
    out = merged_dir(adapter, base_dir, cache_dir)
    if not out.is_dir():
        with locked(out):
            if not out.is_dir():
                say(f"merging adapter {adapter} into {base_dir} -> {out}")
                t0 = time.monotonic()
                with building(out) as tmp:
                    _merge_into(adapter, base_dir, tmp)
                    (tmp / SOURCE_FILE).write_text(json.dumps(
                        {"adapter": str(adapter.resolve()), "base": base_spec, "base_dir": str(base_dir)},
                        indent=1) + "\n")
                say(f"merged in {time.monotonic() - t0:.0f} s")
    say(f"model from adapter {adapter}: {out} (cache: {out.parent}; set JACODE_CACHE to move it)")
    return out


def _merge_into(adapter: Path, base_dir: Path, out: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    # The adapter's own tokenizer when it has one (training may have added tokens), else the base's.
    tok = load_tokenizer(adapter if any((adapter / f).is_file() for f in TOKENIZER_FILES) else base_dir)
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype="auto")
    if len(tok) > base.get_input_embeddings().weight.shape[0]:
        base.resize_token_embeddings(len(tok))  # as at training time, or the adapter's saved embeddings won't fit
    try:
        model = PeftModel.from_pretrained(base, adapter)
    except (ValueError, RuntimeError, KeyError) as e:  # e.g. shapes of another base, target modules it lacks
        raise JacodeError(f"adapter {adapter} does not fit its base {base_dir}: {str(e).splitlines()[0]}") from None
    model.merge_and_unload().save_pretrained(out)
    tok.save_pretrained(out)
    check_model_dir(out)
