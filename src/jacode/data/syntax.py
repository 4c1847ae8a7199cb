"""Syntax validity with tree-sitter (offline grammars from tree-sitter-language-pack 0.13.0) and Python's ast,
with crash isolation: parsing happens in a worker process with a per-file timeout. A segfault or a hang drops
that one document (reason parser_crash / parser_timeout) and a fresh worker takes the next one.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import zlib

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

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


class ParserProcess:
    """One worker process; `ask` returns the parse result, or a reason string when the worker died or hung."""

    def __init__(self, parser: str):
        self.parser = parser
        self.proc: subprocess.Popen | None = None

    def _start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "jacode.data.parse_worker", self.parser],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if self._read_line(30) != b"ready\n":
            self.close()
            raise RuntimeError(f"parser worker {self.parser} did not start")

    def _read_line(self, timeout: float) -> bytes | None:
        fd, line, deadline = self.proc.stdout.fileno(), b"", time.monotonic() + timeout
        while not line.endswith(b"\n"):
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
            ch = os.read(fd, 1)
            if not ch:
                return b""
            line += ch
        return line

    def ask(self, language: str, text: str, timeout: float) -> dict | str:
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        data = json.dumps({"language": language, "text": text}).encode()
        try:
            self.proc.stdin.write(b"%d\n" % len(data) + data)
            self.proc.stdin.flush()
        except BrokenPipeError:
            self.close()
            return "parser_crash"
        header = self._read_line(timeout)
        if header is None:
            self.close()
            return "parser_timeout"
        if not header:
            self.close()
            return "parser_crash"
        return json.loads(self.proc.stdout.read(int(header)))

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            for f in (self.proc.stdin, self.proc.stdout):
                f.close()
            self.proc = None


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
