"""Where converted, merged and downloaded models live, and how a directory gets there whole.

One root for all of them: `$JACODE_CACHE`, else `$XDG_CACHE_HOME/jacode`, else `~/.cache/jacode` (the same
`jacode` folder the sandbox and the manifests already use under XDG_CACHE_HOME). Models go in `<root>/models`.

A cached directory only ever appears by a rename of a finished temporary directory, under a lock: a conversion
that is interrupted (Ctrl-C, a kill, a full disk) leaves at most a `.tmp-*` folder, which the next run removes,
and never a directory that looks complete.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from jacode.io import atomic_write_text


def cache_root() -> Path:
    if os.environ.get("JACODE_CACHE"):
        return Path(os.environ["JACODE_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jacode"


def models_cache(cache_dir: str | Path | None = None) -> Path:
    """`cache_dir` (tests, or a user with a bigger disk elsewhere) or `<cache_root>/models`."""
    return Path(cache_dir).expanduser() if cache_dir else cache_root() / "models"


def say(msg: str) -> None:
    """One line for the user, on stderr: stdout may be a pipe of results."""
    print(f"jacode: {msg}", file=sys.stderr, flush=True)


def _progress(total: int, desc: str):
    from tqdm.auto import tqdm

    # Quiet when not a terminal: a CI log full of carriage returns helps nobody.
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, disable=not sys.stderr.isatty(), leave=False)


def file_sha256(path: Path, desc: str | None = None) -> str:
    """SHA-256 of a file, read in 1 MiB chunks (a GGUF can be tens of GB)."""
    h = hashlib.sha256()
    with open(path, "rb") as f, _progress(path.stat().st_size, desc or f"hashing {path.name}") as bar:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            bar.update(len(chunk))
    return h.hexdigest()


def memo_sha256(path: Path, memo_dir: Path) -> str:
    """file_sha256, remembered by (path, size, mtime) in `memo_dir/hashes.json`, so that resolving the same big
    file again costs a stat, not a read. A changed file has a new size or mtime and is hashed again."""
    memo_file = memo_dir / "hashes.json"
    try:
        memo = json.loads(memo_file.read_text())
    except (OSError, ValueError):
        memo = {}
    st = path.stat()
    key = f"{path.resolve()}\0{st.st_size}\0{st.st_mtime_ns}"
    if key not in memo:
        memo[key] = file_sha256(path)
        try:
            atomic_write_text(memo_file, json.dumps(memo, indent=0))
        except OSError:
            pass  # only a memo: the next call hashes again
    return memo[key]


@contextlib.contextmanager
def locked(target: Path) -> Iterator[None]:
    """An exclusive lock for building `target` (two processes, e.g. pytest workers, converting the same file
    wait for each other instead of doing the work twice)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def building(target: Path) -> Iterator[Path]:
    """A fresh temporary directory beside `target`, renamed to `target` when the block ends without an error and
    removed when it raises. Call it while holding `locked(target)`: leftovers of an earlier, killed run (which
    could not clean up) are removed first."""
    for stale in target.parent.glob(f".tmp-{target.name}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    try:
        yield tmp
        tmp.chmod(0o755)  # mkdtemp's 0700 would hide a cache shared between users (JACODE_CACHE on a team disk)
        os.replace(tmp, target)  # atomic on one file system; target does not exist (checked under the lock)
    except BaseException:  # KeyboardInterrupt too: that is the interruption this guards against
        shutil.rmtree(tmp, ignore_errors=True)
        raise
