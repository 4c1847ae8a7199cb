"""Syntax validity with tree-sitter (offline grammars from tree-sitter-language-pack 0.13.0) and Python's ast,
with crash isolation: parsing happens in a worker process with a per-file timeout. A segfault or a hang drops
that one document (reason parser_crash / parser_timeout) and a fresh worker takes the next one.

Documents go to the worker in batches (one round trip for up to `batch_size` files, each answered as soon as it
is parsed), and the worker also computes the complexity step's screen from the same tree (parsing.py).
"""

from __future__ import annotations

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from jacode.data import parsing
from jacode.data.parse_worker import ParserProcess
from jacode.data.parsing import tree_sitter_name

__all__ = ["AST_SAMPLE", "SyntaxFilter", "parse", "tree_sitter_name"]

AST_SAMPLE = parsing.AST_SAMPLE  # Python files whose tree-sitter parse succeeded also go to ast 1 in 10


def parse(language: str, text: str) -> dict:
    """Runs inside the worker: {"tree_sitter": ok, "ast": ok or None, "structure": complexity screen or None}.

    For Python, ast (the language's own parser) decides whenever tree-sitter reports an error, and a
    deterministic 1-in-10 sample of the others is parsed by both so that agreement is measured; parsing every
    file twice would double the cost of the step for a number that a sample estimates well.
    """
    return parsing.parse(language, text, AST_SAMPLE)


class SyntaxFilter(BaseFilter):
    """Drops files that do not parse. Records agreement between tree-sitter and ast on Python files."""

    name = "🌳 syntax"

    def __init__(self, timeout_s: float = 10.0, parser: str = "jacode.data.parsing:parse", exclusion_writer=None,
                 batch_size: int = 64):
        super().__init__(exclusion_writer, batch_size=batch_size)
        self.timeout_s = timeout_s
        self.worker = ParserProcess(parser)

    def _wanted(self, doc: Document) -> bool:
        return doc.metadata.get("kind", "code") == "code" and tree_sitter_name(doc.metadata.get("language")) is not None

    def _verdict(self, doc: Document, result: dict | str) -> bool | tuple[bool, str]:
        if isinstance(result, str):
            return False, result
        ts, py = result.get("tree_sitter"), result.get("ast")
        if ts is not None and py is not None:
            self.stat_update("parsers_agree" if ts == py else "parsers_disagree")
        if result.get("structure"):
            doc.metadata["structure"] = result["structure"]  # the complexity step's screen (parsing.screen)
        ok = py if py is not None else ts
        return True if ok else (False, "syntax_error")

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        if not self._wanted(doc):
            return True
        return self._verdict(doc, self.worker.ask(doc.metadata.get("language"), doc.text, self.timeout_s))

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        verdicts: list = [True] * len(batch)
        todo = [i for i, doc in enumerate(batch) if self._wanted(doc)]
        results = self.worker.ask_many([(batch[i].metadata.get("language"), batch[i].text) for i in todo],
                                       self.timeout_s)
        for i, result in zip(todo, results):
            verdicts[i] = self._verdict(batch[i], result)
        return verdicts

    def __del__(self) -> None:
        try:
            self.worker.close()
        except Exception:  # noqa: BLE001
            pass
