"""Where benchmark data comes from: a local file or directory, or a Hugging Face Hub dataset.

Both go through `datasets.load_dataset`: a hub id and a local directory are the same call, so the code
path used online is the one tests exercise on local copies.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jacode.errors import JacodeError
from jacode.io import read_jsonl


def load_records(data: str | None, *, hub_id: str | None, hub_config: str | None = None,
                 split: str = "test", what: str = "benchmark") -> list[dict[str, Any]]:
    """Records from `data` (a .jsonl/.jsonl.gz file, or a directory/hub id for datasets), or the hub."""
    if data:
        path = Path(data)
        if path.is_file():
            return list(read_jsonl(path))
        if path.is_dir():
            return _load_dataset(str(path), None, split, what)
        raise JacodeError(f"{what}: --data {data} is neither a file nor a directory")
    if hub_id is None:
        raise JacodeError(f"{what}: needs --data (a local copy); it has no hub dataset")
    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1":
        raise JacodeError(f"{what}: offline and no --data given; pass a local copy of {hub_id} with --data")
    return _load_dataset(hub_id, hub_config, split, what)


def _load_dataset(path: str, config: str | None, split: str, what: str) -> list[dict[str, Any]]:
    import datasets  # heavy import: only when a dataset is actually loaded

    try:
        ds = datasets.load_dataset(path, config, split=split)
    except Exception as e:  # noqa: BLE001 - datasets raises many types; the user needs one clear message
        raise JacodeError(f"{what}: could not load {path!r} (split {split!r}): {e}") from e
    return [dict(r) for r in ds]
