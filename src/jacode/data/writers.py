"""JSONL shard writers with a chosen gzip level.

datatrove's JsonlWriter opens its files through fsspec, whose gzip (without python-isal) is GzipFile at level 9:
on source code that is ~3x the time of level 6 for a file 1.4% smaller, and 10x level 1. The final output and
the excluded documents are written at level 6 (gzip's own default), the intermediate shards under work/, which
the next stage reads once, at level 1.

The gzip itself is zlib-ng's (python-zlib-ng, a drop-in for the gzip module): standard gzip files that any
reader takes, at the same level in about half of zlib's CPU time for the same size (31.5 MB of the standard
library at level 6: 0.39 s and 6.54 MB vs zlib's 0.73 s and 6.53 MB; see BENCHMARKS.md), and reading them
back (the dedup stages' intermediate shards) in a third of zlib's time.
"""

from __future__ import annotations

from datatrove.data import Document
from datatrove.pipeline.writers import JsonlWriter
from fsspec.compression import compr, register_compression
from zlib_ng.gzip_ng import GzipFile

OUTPUT_LEVEL = 6
WORK_LEVEL = 1


def gzip_at(level: int) -> str:
    """The name of an fsspec compression: gzip at `level` (registered on first use, in each process)."""
    name = f"gzip-{level}"
    if name not in compr:
        register_compression(name, lambda f, mode="rb", **kw: GzipFile(fileobj=f, mode=mode, compresslevel=level,
                                                                         **kw), [], force=True)
    return name


def plain_copy(value):
    """A copy of JSON-like data (dicts with str keys, lists, str, int, float, bool, None) as dataclasses.asdict
    makes it, or None when the value holds anything else (asdict has rules for tuples, dataclasses, ...)."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is dict:
        copy = {}
        for key, item in value.items():
            if type(key) is not str or ((item_copy := plain_copy(item)) is None and item is not None):
                return None
            copy[key] = item_copy
        return copy
    if kind is list:
        copy = []
        for item in value:
            if (item_copy := plain_copy(item)) is None and item is not None:
                return None
            copy.append(item_copy)
        return copy
    return None


class GzipJsonlWriter(JsonlWriter):
    """JsonlWriter whose .jsonl.gz files are compressed at `level`."""

    def __new__(cls, *args, **kwargs):
        # datatrove's PipelineStep.__new__ checks a step's dependencies by reading the metadata of every installed
        # distribution (~0.06 s per process). The one dependency here, orjson, is jacode's own: importing it is
        # the check.
        import orjson  # noqa: F401

        return object.__new__(cls)

    def __init__(self, output_folder, output_filename: str | None = None, level: int = OUTPUT_LEVEL, **kwargs):
        self.level = level
        super().__init__(output_folder, output_filename=output_filename, compression=gzip_at(level), **kwargs)

    def __setstate__(self, state):  # unpickled in another process (a pool worker, a Slurm job): register there too
        self.__dict__.update(state)
        gzip_at(self.level)

    def _default_adapter(self, document: Document) -> dict:
        """datatrove's record (the document's non-empty fields, as dataclasses.asdict copies them), built without
        asdict's deep copy of every value when the metadata is plain JSON data, as a source tree's is."""
        if not document.media and not self.expand_metadata and type(document.metadata) is dict:
            metadata = plain_copy(document.metadata)
            if metadata is not None:
                return {key: value for key, value in (("text", document.text), ("id", document.id),
                                                     ("metadata", metadata)) if value}
        return super()._default_adapter(document)
