"""What runs inside the parser worker processes (parse_worker.py): tree-sitter + ast (syntax step), the complexity
screen from the tree-sitter tree, and lizard (complexity step).

Kept free of datatrove (whose import costs ~0.4 s): every worker process imports this module, and a pipeline
starts one per parsing step. syntax.py and complexity.py hold the datatrove filters and re-export these names.
"""

from __future__ import annotations

import re
import zlib
from bisect import bisect_left
from functools import cache

from jacode.languages import find_language

AST_SAMPLE = 10  # Python files whose tree-sitter parse succeeded are also given to ast 1 in 10, for agreement


def tree_sitter_name(language: str | None) -> str | None:
    """The grammar for a language name or alias (jacode.languages), or None when there is none."""
    lang = find_language(language)
    return lang.tree_sitter if lang else None


def lizard_file(language: str | None) -> str | None:
    """A file name whose extension selects lizard's reader for the language, or None when lizard has none."""
    lang = find_language(language)
    return f"a.{lang.extensions[0]}" if lang and lang.lizard else None


_parsers: dict = {}


def parse(language: str, text: str, ast_sample: int = AST_SAMPLE) -> dict:
    """{"tree_sitter": ok, "ast": ok or None, "structure": complexity screen or None} (see syntax.parse)."""
    result: dict = {"tree_sitter": None, "ast": None, "structure": None}
    name = tree_sitter_name(language)
    data = text.encode("utf-8")
    if name:
        if name not in _parsers:
            from tree_sitter_language_pack import get_parser

            _parsers[name] = get_parser(name)
        root = _parsers[name].parse(data).root_node
        result["tree_sitter"] = not root.has_error
        result["structure"] = screen(language, text, root, data) if result["tree_sitter"] else None
    if language == "python" and (not result["tree_sitter"] or zlib.crc32(data) % ast_sample == 0):
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


# tree-sitter node types that lizard also reports as functions.
FUNCTION_NODES = frozenset({
    "function_definition", "function_declaration", "method_declaration", "constructor_declaration",
    "method_definition", "function_expression", "arrow_function", "generator_function_declaration",
    "function_item", "local_function_statement", "func_literal"})
# Definitions that lizard certainly reports as functions (anonymous ones it may not): a lower bound on its count.
NAMED_FUNCTIONS = frozenset({"function_definition", "function_declaration", "method_declaration",
                             "constructor_declaration", "method_definition", "function_item"})
_WORD_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


@cache
def condition_pattern(language: str) -> tuple[re.Pattern, bool]:
    """A regex matching every token lizard counts as a condition in `language` (and some that it does not), and
    whether its matches must still be checked for a word boundary before them.

    The words' leading `\\b` is left out of the regex (a pattern that starts with an assertion is tried at every
    position; one that starts with a word's first letters skips to them) and checked on each match instead. A
    match that fails the check lies inside a word and ends at the word's end (trailing `\\b`), so it never hides a
    match that starts at a boundary: the hits are the same as with `\\b` in front.
    """
    from lizard_languages import get_reader_for

    conditions = get_reader_for(lizard_file(language))(None).conditions
    words = sorted(c for c in conditions if c.isalpha())
    operators = sorted((re.escape(c) for c in conditions if not c.isalpha()), key=len, reverse=True)
    # Only when no operator starts with a word character is "starts with a word character" the same as "is a word".
    check = bool(words) and not any(c[:1].isalnum() or c[:1] == "_" for c in conditions if not c.isalpha())
    parts = ([("" if check else r"\b") + r"(?:" + "|".join(words) + r")\b"] if words else []) + operators
    return re.compile("|".join(parts).encode()), check  # bytes: tree-sitter's offsets are byte offsets


def condition_hits(language: str, data: bytes) -> list[int]:
    """Start offsets of the condition tokens in `data` (see condition_pattern)."""
    pattern, check = condition_pattern(language)
    if not check:
        return [m.start() for m in pattern.finditer(data)]
    word = _WORD_BYTES
    # A word match needs a non-word byte (or the start) before it; an operator match starts with a non-letter.
    return [i for i in (m.start() for m in pattern.finditer(data))
            if i == 0 or data[i - 1] not in word or data[i] not in word]


def screen(language: str, text: str, root, data: bytes | None = None) -> dict | None:
    """Upper bounds for lizard's measures from a tree-sitter tree (runs in the parser worker)."""
    if lizard_file(language) is None:
        return None
    if data is None:
        data = text.encode("utf-8")
    spans: list[tuple[int, int, bool]] = []
    code_rows: set[int] = set()  # rows holding a code token outside functions, or a function's first line
    stack = [root]
    while stack:  # visit only nodes outside functions: an outermost function bounds everything nested in it
        node = stack.pop()
        kind = node.type
        if kind in FUNCTION_NODES:
            # Abstract/interface methods have no body and lizard does not count them: not in the lower bound.
            named = kind in NAMED_FUNCTIONS and node.child_by_field_name("body") is not None
            spans.append((node.start_byte, node.end_byte, named))
            code_rows.add(node.start_point[0])
        elif "comment" in kind or "string" in kind:
            continue  # lizard counts comments and docstrings as non-code lines: never count them here
        elif node.child_count == 0:
            if node.end_byte > node.start_byte:  # zero-width nodes (an empty module, missing tokens) hold nothing
                code_rows.add(node.start_point[0])
        else:
            stack.extend(node.children)
    # One pass of the condition regex over the whole file; each span's count is then two binary searches.
    hits = condition_hits(language, data)
    inside = [bisect_left(hits, end) - bisect_left(hits, start) for start, end, _ in spans]
    return {"functions": sum(named for _, _, named in spans), "total_decisions": len(hits),
            "max_decisions": max([*inside, len(hits) - sum(inside)]),
            "nonblank_lines": len(list(filter(str.strip, text.splitlines()))), "code_lines": len(code_rows)}


def measure(language: str, text: str) -> dict:
    """lizard's measures for one file (runs in a worker process)."""
    import lizard

    info = lizard.FileAnalyzer(lizard.get_extensions([])).analyze_source_code(lizard_file(language), text)
    ccns = [f.cyclomatic_complexity for f in info.function_list]
    return {"functions": len(ccns), "max_ccn": max(ccns, default=0),
            "avg_ccn": sum(ccns) / len(ccns) if ccns else 0.0, "nloc": info.nloc}
