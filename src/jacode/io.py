"""JSONL reading with line-numbered errors, crash-safe appending, and atomic writes.

Per-record work (generation, execution) appends one line per record and flushes, so a SIGKILL loses at
most the record being written. A torn last line (no trailing newline) is dropped on the next open.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from jacode.errors import JacodeError


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def read_jsonl(path: str | Path, *, skip_torn_tail: bool = False) -> Iterator[dict[str, Any]]:
    """Yield one dict per non-empty line, streaming (training files may be far larger than memory); a
    malformed line raises JacodeError naming file and line.

    skip_torn_tail: ignore a final line that has no newline and does not parse (an interrupted append).
    Only the last line of a file can lack its newline, so this needs no look-ahead.
    """
    for _, record in read_jsonl_numbered(path, skip_torn_tail=skip_torn_tail):
        yield record


def read_jsonl_numbered(path: str | Path, *, skip_torn_tail: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    """read_jsonl with each record's line number, for errors about a record's contents."""
    path = Path(path)
    if not path.exists():
        raise JacodeError(f"{path}: no such file")
    with _open_text(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                if skip_torn_tail and not line.endswith("\n"):
                    return
                raise JacodeError(f"{path}:{lineno}: malformed JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(record, dict):
                raise JacodeError(f"{path}:{lineno}: expected a JSON object, got {type(record).__name__}")
            yield lineno, record


def repair_torn_tail(path: Path) -> None:
    """Cut an unterminated last line left by a killed writer, so appends start on a fresh line."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb+") as f:
        data = f.read()
        if data.endswith(b"\n"):
            return
        f.truncate(data.rfind(b"\n") + 1)


class JsonlAppender:
    """Append records one line at a time, flushed to the OS after each line (survives SIGKILL)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        repair_torn_tail(self.path)
        self._f = open(self.path, "a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        self._f.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._f.flush()

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextmanager
def atomic_writer(path: str | Path) -> Iterator[TextIO]:
    """A text file written via a temporary file and renamed when the block ends, so readers never see it
    half-written (and a failed block leaves the old file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_writer(path) as f:
        f.write(text)


def appended_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """What a resumable step appended so far, streamed: nothing when it never started; a torn last line (killed
    mid-write) is ignored — the step's JsonlAppender repairs it before appending again."""
    path = Path(path)
    return read_jsonl(path, skip_torn_tail=True) if path.exists() else iter(())


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Atomically, one record at a time (records may be a generator over more than fits in memory); the count."""
    n = 0
    with atomic_writer(path) as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
            n += 1
    return n


def write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def refuse_changed_config(path: str | Path, new: dict[str, Any], what: str,
                          missing: dict[str, Any] | None = None) -> None:
    """A resumable step's output directory records the config that made it (at `path`): resuming under another
    config would mix results made differently, so it is refused, with what changed. `missing`: the value a key
    added to the config later had in runs recorded before it existed."""
    path = Path(path)
    if not path.exists():
        return
    old = {**(missing or {}), **json.loads(path.read_text(encoding="utf-8"))}
    diff = [f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in new if old.get(k) != new.get(k)]
    if diff:
        raise JacodeError(f"{path.parent} holds {what} made with another config ({'; '.join(diff)}); "
                          "use a new --out directory, or the same settings to resume")
