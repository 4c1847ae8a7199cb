"""Readers: local source trees (one document per file) and JSONL(.gz)/Parquet document files.

A source tree is what a team actually has on disk: a checkout with code, docs, vendored blobs, images and the
odd file in Latin-1. Such files must never stop a job, so each is counted under a reason (`skipped_binary`,
`skipped_invalid_utf8`, `skipped_huge`, `skipped_unknown_extension`) in the reader's stats and left out.
"""

from __future__ import annotations

import mimetypes
import os
import posixpath

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.readers import JsonlReader, ParquetReader
from datatrove.pipeline.readers.base import BaseDiskReader
from fsspec.implementations.local import LocalFileSystem

from jacode.data.writers import WORK_LEVEL, gzip_at
from jacode.languages import find_language, language_of_extension

# Prose files in a repository are text; their natural language is decided by the language check. Every other
# known extension is a programming language's (jacode.languages), and its files are code.
PROSE_EXTENSIONS = ("md", "rst", "txt")


def language_of(path: str) -> tuple[str | None, str] | None:
    """(language, kind) from the file's extension; None for an unknown extension."""
    ext = posixpath.splitext(path)[1].lower().lstrip(".")
    if ext in PROSE_EXTENSIONS:
        return None, "text"
    lang = language_of_extension(ext)
    return (lang.name, "code") if lang else None


def _content_type(path: str, language: str | None) -> str:
    lang = find_language(language)
    return mimetypes.guess_type(path)[0] or (lang.content_type if lang and lang.content_type else "text/plain")


class SourceTreeReader(BaseDiskReader):
    """One document per file of a local (or fsspec) tree.

    Metadata: path (relative to the tree), language and kind from the extension, content_type, size_bytes, and
    the `repository` dict when given (name, url, licence, commit: whatever the user knows).
    """

    name = "🌲 source tree"

    def __init__(self, data_folder, glob_pattern: str | None = None, repository: dict | None = None,
                 max_bytes: int = 1_000_000, include_unknown: bool = False, **kwargs):
        kwargs.setdefault("add_file_path", False)  # `path` (relative to the tree) says it without the local prefix
        super().__init__(data_folder, glob_pattern=glob_pattern, **kwargs)
        self.repository = repository or {}
        self.max_bytes = max_bytes
        self.include_unknown = include_unknown

    def read_file(self, filepath: str) -> DocumentsPipeline:
        lang = language_of(filepath)
        if lang is None and not self.include_unknown:
            self.stat_update("skipped_unknown_extension")
            return
        language, kind = lang or (None, "text")
        raw = self._read(filepath)
        if raw is None:
            self.stat_update("skipped_huge")
            return
        if b"\0" in raw[:8192]:  # the same test git uses to call a file binary
            self.stat_update("skipped_binary")
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.stat_update("skipped_invalid_utf8")
            return
        metadata = {"path": filepath, "language": language, "kind": kind, "size_bytes": len(raw),
                    "content_type": _content_type(filepath, language)}
        if self.repository:
            metadata["repository"] = dict(self.repository)
        prefix = self.repository.get("name", "")
        yield Document(text=text, id=f"{prefix}/{filepath}" if prefix else filepath, metadata=metadata)

    def _read(self, filepath: str) -> bytes | None:
        """The file's bytes, or None when it is larger than max_bytes. On a local disk through os (a third of the
        time of fsspec's stat and open layers, per file), elsewhere through the DataFolder."""
        join = getattr(self.data_folder, "_join", None)  # DirFileSystem's (with its check that paths stay inside)
        if join is not None and isinstance(self.data_folder.fs, LocalFileSystem):
            path = join(filepath)
            if os.stat(path).st_size > self.max_bytes:
                return None
            with open(path, "rb") as f:
                return f.read(self.max_bytes + 1)
        if self.data_folder.size(filepath) > self.max_bytes:
            return None
        with self.data_folder.open(filepath, "rb") as f:
            return f.read(self.max_bytes + 1)


def document_reader(spec: dict):
    """A datatrove reader from one `readers:` entry of a data config (type: source_tree | jsonl | parquet)."""
    spec = dict(spec)
    kind = spec.pop("type")
    path = spec.pop("path")
    if kind == "source_tree":
        return SourceTreeReader(path, glob_pattern=spec.pop("glob", None), repository=spec.pop("repository", None),
                                max_bytes=spec.pop("max_bytes", 1_000_000),
                                include_unknown=spec.pop("include_unknown", False), **spec)
    # Document files: `kind`/`language` given in the entry apply to every record that does not say otherwise.
    defaults = {k: spec.pop(k) for k in ("kind", "language") if k in spec}
    cls = {"jsonl": JsonlReader, "parquet": ParquetReader}.get(kind)
    if cls is None:
        raise ValueError(f"unknown reader type {kind!r} (source_tree, jsonl, parquet)")
    glob = spec.pop("glob", None) or ("**/*.jsonl*" if kind == "jsonl" else "**/*.parquet")
    if os.path.isfile(path):  # one file: read it as a folder holding just that file
        path, glob = os.path.dirname(path) or ".", os.path.basename(path)
    return cls(path, glob_pattern=glob, default_metadata=defaults or None, **spec)


class ShardReader(JsonlReader):
    """Reads a previous pipeline step's shards. When every document was dropped before it, that step wrote no
    file (datatrove's writers open files lazily) and datatrove's reader would raise "No files found"; an empty
    step is a legitimate outcome (a shard of pure spam), so it reads nothing and the run goes on. The shards are
    gzip files (writers.py) and are read with zlib-ng, in a third of zlib's time."""

    def __new__(cls, *args, **kwargs):
        # As GzipJsonlWriter: importing orjson (a dependency of jacode) instead of datatrove's check, which reads
        # the metadata of every installed distribution.
        import orjson  # noqa: F401

        return object.__new__(cls)

    def __init__(self, data_folder, **kwargs):
        super().__init__(data_folder, compression=gzip_at(WORK_LEVEL), **kwargs)

    def __setstate__(self, state):  # unpickled in another process: register the compression there too
        self.__dict__.update(state)
        gzip_at(WORK_LEVEL)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if not self.data_folder.exists("") or not self.data_folder.list_files(glob_pattern=self.glob_pattern):
            return
        yield from super().run(data, rank, world_size)
