"""One manifest for every stage, run alone (`jacode train sft --out DIR`) or in a recipe: DIR/manifest.json holds
the stage's kind, its config, the fingerprint of its inputs, versions, timings, its status (running, done,
partial, failed) with the error, and its summary (what the report shows).

Run directories are relocatable: paths inside the run are stored as `${run}/...`, so a copied run directory
(`cp -a runs/x runs/y`) has the same fingerprints and re-plans nothing. Inputs from outside the run are
fingerprinted by content (SHA-256, cached by path, size and modification time so that a large model is read
once), not by file times.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from jacode.errors import JacodeError
from jacode.io import atomic_write_text

MANIFEST = "manifest.json"
RUN_VAR = "${run}"
SKIP_PARTS = {"__pycache__", "site-packages", "dist-packages", ".git"}  # never a recipe's input


def read(stage_dir: Path) -> dict:
    try:
        return json.loads((Path(stage_dir) / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def write(stage_dir: Path, manifest: dict) -> None:
    atomic_write_text(Path(stage_dir) / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("jacode", "torch", "transformers", "trl", "datatrove", "accelerate"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def relative(value: Any, run_dir: Path | None) -> Any:
    """The value with paths inside run_dir written as ${run}/...: what a manifest stores and a fingerprint uses."""
    if run_dir is None:
        return value
    root = str(Path(run_dir).resolve())
    if isinstance(value, str):
        return RUN_VAR + value[len(root):] if value == root or value.startswith(root + os.sep) else value
    if isinstance(value, list | tuple):
        return [relative(v, run_dir) for v in value]
    if isinstance(value, dict):
        return {k: relative(v, run_dir) for k, v in value.items()}
    return value


def config_dict(cfg: Any) -> Any:
    if dataclasses.is_dataclass(cfg):
        return json.loads(json.dumps(dataclasses.asdict(cfg), default=str))
    if hasattr(cfg, "model_dump"):
        return cfg.model_dump(mode="json")
    return json.loads(json.dumps(cfg, default=str))  # a command's options (paths as strings)


# ---- content fingerprints ---------------------------------------------------------------------------------------
def _hash_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jacode" / "file-hashes.json"


_cache: dict[str, str] | None = None


def _file_hash(path: Path) -> str:
    """SHA-256 of a file's content, remembered by (path, size, mtime): a 16 GB model is read once, not per plan."""
    global _cache
    if _cache is None:
        try:
            _cache = json.loads(_hash_cache().read_text())
        except (OSError, ValueError):
            _cache = {}
    st = path.stat()
    key = f"{path.resolve()}\0{st.st_size}\0{st.st_mtime_ns}"
    if key not in _cache:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _cache[key] = h.hexdigest()
    return _cache[key]


def save_hash_cache() -> None:
    if _cache:
        try:
            atomic_write_text(_hash_cache(), json.dumps(_cache))
        except OSError:
            pass  # a cache: the next plan hashes again


def content_fingerprint(path: Path) -> str:
    """A file's or a directory's content: relative names and file hashes (caches and installed packages aside)."""
    path = Path(path)
    if path.is_file():
        return _file_hash(path)
    h = hashlib.sha256()
    for f in sorted(x for x in path.rglob("*") if x.is_file() and not SKIP_PARTS & set(x.relative_to(path).parts)):
        h.update(f"{f.relative_to(path)}\0{_file_hash(f)}\n".encode())
    return h.hexdigest()


# ---- running a stage with its manifest --------------------------------------------------------------------------
def run_stage(kind, cfg: Any, out: Path, *, name: str | None = None, fingerprint: str | None = None,
              upstream_runs: dict | None = None, run_dir: Path | None = None, raw_config: Any = None) -> dict:
    """Run one stage of a kind (jacode.stages.KINDS) with its manifest (see `record`)."""
    return record(out, kind.name, cfg, lambda: kind.run(cfg, out), output=kind.output, name=name,
                  fingerprint=fingerprint, upstream_runs=upstream_runs, run_dir=run_dir, raw_config=raw_config)


def main_process() -> bool:
    """False on the other ranks of a multi-process launch (torchrun/accelerate set RANK): one manifest, one line."""
    return os.environ.get("RANK", "0") == "0"


def record(out: Path, kind: str, cfg: Any, work, *, output: str = "", name: str | None = None,
           fingerprint: str | None = None, upstream_runs: dict | None = None, run_dir: Path | None = None,
           raw_config: Any = None) -> dict:
    """Do a stage's work with its manifest: `running`, then `done`/`partial` with the summary `work()` returns, or
    `failed` with the error (raised again: the caller exits non-zero). Every stage command writes one, in a recipe
    or alone, so the report and the runner read one format."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if not main_process():  # another rank of a multi-process launch: it works, the main process records
        summary = work() or {}
        return {"stage": name or out.name, "kind": kind, "status": summary.pop("status", "done"), "summary": summary,
                "rank": int(os.environ["RANK"])}
    manifest = {
        "stage": name or out.name, "kind": kind, "config": relative(config_dict(cfg), run_dir),
        "raw_config": raw_config, "fingerprint": fingerprint, "upstream_runs": upstream_runs or {},
        "output": output, "versions": versions(), "status": "running", "started": time.time(),
        "run_id": uuid.uuid4().hex,
    }
    write(out, manifest)
    started = time.time()
    try:
        summary = work() or {}
    except BaseException as e:
        manifest.update(status="failed", finished=time.time(), seconds=round(time.time() - started, 2),
                        error=f"{type(e).__name__}: {e}" if not isinstance(e, JacodeError) else str(e),
                        traceback=None if isinstance(e, JacodeError) else traceback.format_exc()[-4000:])
        write(out, manifest)
        raise
    status = summary.pop("status", "done")
    manifest.update(status=status, finished=time.time(), seconds=round(time.time() - started, 2),
                    summary=relative(summary, run_dir))
    write(out, manifest)
    return manifest
