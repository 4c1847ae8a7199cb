"""Checks on model directories, before a library reads them (its errors are long and late)."""

from __future__ import annotations

import json
from pathlib import Path

from jacode.errors import JacodeError


class ModelDirError(JacodeError):
    """Not a usable Hugging Face model directory."""


def check_model_dir(path: str | Path) -> Path:
    """A clear error for the usual mistakes, before transformers prints a long one."""
    p = Path(path)
    if not p.exists():
        raise ModelDirError(f"model {path}: no such directory")
    if not p.is_dir() or not (p / "config.json").is_file():
        raise ModelDirError(f"model {path}: not a Hugging Face model directory (no config.json)")
    try:
        cfg = json.loads((p / "config.json").read_text())
    except json.JSONDecodeError as e:
        raise ModelDirError(f"model {path}: config.json is not valid JSON ({e})") from None
    if "model_type" not in cfg:
        raise ModelDirError(f"model {path}: config.json has no model_type")
    if not any(p.glob("*.safetensors")) and not any(p.glob("*.bin")):
        raise ModelDirError(f"model {path}: no weights (*.safetensors or *.bin)")
    return p


def load_tokenizer(path: str | Path):
    """AutoTokenizer.from_pretrained with the usual mistakes said plainly (its own errors are long and vague)."""
    from transformers import AutoTokenizer

    p = Path(path)
    if not p.is_dir():
        raise ModelDirError(f"tokenizer {path}: no such directory")
    try:
        return AutoTokenizer.from_pretrained(p)
    except (OSError, ValueError) as e:
        files = ", ".join(sorted(f.name for f in p.iterdir())[:8]) or "it is empty"
        raise ModelDirError(f"tokenizer {path}: not a Hugging Face tokenizer directory ({files}): "
                            f"{str(e).splitlines()[0]}") from None
