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

# extension → (language, kind). "code" documents go through the code filters, "text" through the text filters.
EXTENSIONS: dict[str, tuple[str, str]] = {
    "py": ("python", "code"), "pyi": ("python", "code"), "c": ("c", "code"), "h": ("c", "code"),
    "cc": ("cpp", "code"), "cpp": ("cpp", "code"), "cxx": ("cpp", "code"), "hpp": ("cpp", "code"),
    "hh": ("cpp", "code"), "cs": ("csharp", "code"), "java": ("java", "code"), "js": ("javascript", "code"),
    "mjs": ("javascript", "code"), "cjs": ("javascript", "code"), "ts": ("typescript", "code"),
    "go": ("go", "code"), "rs": ("rust", "code"), "rb": ("ruby", "code"), "php": ("php", "code"),
    "swift": ("swift", "code"), "kt": ("kotlin", "code"), "scala": ("scala", "code"), "sh": ("shell", "code"),
    "sql": ("sql", "code"), "html": ("html", "code"), "css": ("css", "code"), "json": ("json", "code"),
    "yaml": ("yaml", "code"), "yml": ("yaml", "code"), "toml": ("toml", "code"), "xml": ("xml", "code"),
    # Prose files in a repository are text; their natural language is decided by the language check.
    "md": (None, "text"), "rst": (None, "text"), "txt": (None, "text"),
}
# Content types that mimetypes does not know on a minimal system.
_CONTENT_TYPES = {"python": "text/x-python", "csharp": "text/x-csharp", "typescript": "text/x-typescript",
                  "go": "text/x-go", "rust": "text/x-rust", "markdown": "text/markdown"}


def language_of(path: str) -> tuple[str | None, str] | None:
    ext = posixpath.splitext(path)[1].lower().lstrip(".")
    return EXTENSIONS.get(ext)


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
        if self.data_folder.size(filepath) > self.max_bytes:
            self.stat_update("skipped_huge")
            return
        with self.data_folder.open(filepath, "rb") as f:
            raw = f.read(self.max_bytes + 1)
        if b"\0" in raw[:8192]:  # the same test git uses to call a file binary
            self.stat_update("skipped_binary")
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.stat_update("skipped_invalid_utf8")
            return
        metadata = {"path": filepath, "language": language, "kind": kind, "size_bytes": len(raw),
                    "content_type": mimetypes.guess_type(filepath)[0] or _CONTENT_TYPES.get(language or "",
                                                                                         "text/plain")}
        if self.repository:
            metadata["repository"] = dict(self.repository)
        prefix = self.repository.get("name", "")
        yield Document(text=text, id=f"{prefix}/{filepath}" if prefix else filepath, metadata=metadata)


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
