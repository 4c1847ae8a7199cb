"""Exact deduplication: keep the first document of each normalized-content hash (single process).

Normalization ignores what does not change the content: Unicode NFKC, line-ending style and trailing
whitespace. (Near-duplicate MinHash LSH and the multi-process version are still to come.)
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

_TRAILING = re.compile(r"[ \t]+$", re.M)


def content_hash(text: str) -> str:
    norm = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    norm = _TRAILING.sub("", norm).strip("\n")
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


class ExactDedupFilter(BaseFilter):
    name = "🫂 exact dedup"

    def __init__(self, exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.seen: set[str] = set()

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        h = content_hash(doc.text)
        if h in self.seen:
            return False, "exact_duplicate"
        self.seen.add(h)
        doc.metadata["content_hash"] = h
        return True
