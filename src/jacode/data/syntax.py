"""Syntax validity with tree-sitter (offline grammars from tree-sitter-language-pack 0.13.0) and Python's ast,
with crash isolation: parsing happens in a worker process with a per-file timeout. A segfault or a hang drops
that one document (reason parser_crash / parser_timeout) and a fresh worker takes the next one.
"""

from __future__ import annotations

import zlib

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from jacode.data.parse_worker import ParserProcess
from jacode.languages import find_language


def tree_sitter_name(language: str | None) -> str | None:
    """The grammar for a language name or alias (jacode.languages), or None when there is none."""
    lang = find_language(language)
    return lang.tree_sitter if lang else None


_parsers: dict = {}


AST_SAMPLE = 10  # Python files whose tree-sitter parse succeeded are also given to ast 1 in 10, for agreement


def parse(language: str, text: str) -> dict:
    """Runs inside the worker: {"tree_sitter": ok, "ast": ok or None, "structure": complexity screen or None}.

    For Python, ast (the language's own parser) decides whenever tree-sitter reports an error, and a
    deterministic 1-in-10 sample of the others is parsed by both so that agreement is measured; parsing every
    file twice would double the cost of the step for a number that a sample estimates well.
    """
    from jacode.data.complexity import screen

    result: dict = {"tree_sitter": None, "ast": None, "structure": None}
    name = tree_sitter_name(language)
    if name:
        if name not in _parsers:
            from tree_sitter_language_pack import get_parser

            _parsers[name] = get_parser(name)
        root = _parsers[name].parse(text.encode("utf-8")).root_node
        result["tree_sitter"] = not root.has_error
        result["structure"] = screen(language, text, root) if result["tree_sitter"] else None
    if language == "python" and (not result["tree_sitter"] or zlib.crc32(text.encode()) % AST_SAMPLE == 0):
        import ast
        import warnings

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ast.parse(text)
            result["ast"] = True
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            result["ast"] = False
    return result


class SyntaxFilter(BaseFilter):
    """Drops files that do not parse. Records agreement between tree-sitter and ast on Python files."""

    name = "🌳 syntax"

    def __init__(self, timeout_s: float = 10.0, parser: str = "jacode.data.syntax:parse", exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.timeout_s = timeout_s
        self.worker = ParserProcess(parser)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        language = doc.metadata.get("language")
        if doc.metadata.get("kind", "code") != "code" or tree_sitter_name(language) is None:
            return True
        result = self.worker.ask(language, doc.text, self.timeout_s)
        if isinstance(result, str):
            return False, result
        ts, py = result.get("tree_sitter"), result.get("ast")
        if ts is not None and py is not None:
            self.stat_update("parsers_agree" if ts == py else "parsers_disagree")
        if result.get("structure"):
            doc.metadata["structure"] = result["structure"]  # the complexity step's screen (complexity.py)
        ok = py if py is not None else ts
        return True if ok else (False, "syntax_error")

    def __del__(self) -> None:
        try:
            self.worker.close()
        except Exception:  # noqa: BLE001
            pass
