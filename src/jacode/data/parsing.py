"""What runs inside the parser worker processes (parse_worker.py): tree-sitter + ast (syntax step), the complexity
screen from the tree-sitter tree, and lizard (complexity step).

Kept free of datatrove (whose import costs ~0.4 s): every worker process imports this module, and a pipeline
starts one per parsing step. syntax.py and complexity.py hold the datatrove filters and re-export these names.
"""

from __future__ import annotations

import gc
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
        result["ast"] = ast_parses(text)
    return result


def ast_parses(text: str) -> bool:
    """Whether Python's own parser (ast.parse) takes the text.

    The cyclic garbage collector is off meanwhile: ast.parse builds one new object per node, which sets off a
    collection every few hundred of them (about a fifth of its time), and an AST holds no cycle: it is freed by
    reference counting as soon as it is dropped, here.
    """
    import ast
    import warnings

    collecting = gc.isenabled()
    gc.disable()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    finally:
        if collecting:
            gc.enable()


# tree-sitter node types that lizard also reports as functions.
FUNCTION_NODES = frozenset({
    "function_definition", "function_declaration", "method_declaration", "constructor_declaration",
    "method_definition", "function_expression", "arrow_function", "generator_function_declaration",
    "function_item", "local_function_statement", "func_literal"})
# Definitions that lizard certainly reports as functions (anonymous ones it may not): a lower bound on its count.
NAMED_FUNCTIONS = frozenset({"function_definition", "function_declaration", "method_declaration",
                             "constructor_declaration", "method_definition", "function_item"})


@cache
def condition_pattern(language: str) -> re.Pattern:
    """A regex matching every token lizard counts as a condition in `language` (and some that it does not): its
    condition words as whole words, and its operators.

    Measured on the standard library (Python) and on C headers and JavaScript, `\\b(?:words)\\b` is faster than
    the words without the leading `\\b` followed by a boundary check of each match in Python, and it finds the
    same hits (a match that fails the check lies inside a word, so it never hides one that starts at a boundary).
    """
    from lizard_languages import get_reader_for

    conditions = get_reader_for(lizard_file(language))(None).conditions
    words = sorted(c for c in conditions if c.isalpha())
    operators = sorted((re.escape(c) for c in conditions if not c.isalpha()), key=len, reverse=True)
    parts = ([r"\b(?:" + "|".join(words) + r")\b"] if words else []) + operators
    return re.compile("|".join(parts).encode())  # bytes: tree-sitter's offsets are byte offsets


def condition_hits(language: str, data: bytes) -> list[int]:
    """Start offsets of the condition tokens in `data` (see condition_pattern)."""
    return [m.start() for m in condition_pattern(language).finditer(data)]


def _category(kind: str) -> int:
    """How screen treats a node type: 0 other, 1 function, 2 named function, 3 comment or string."""
    if kind in FUNCTION_NODES:
        return 2 if kind in NAMED_FUNCTIONS else 1
    return 3 if "comment" in kind or "string" in kind else 0


def screen(language: str, text: str, root, data: bytes | None = None) -> dict | None:
    """Upper bounds for lizard's measures from a tree-sitter tree (runs in the parser worker)."""
    if lizard_file(language) is None:
        return None
    if data is None:
        data = text.encode("utf-8")
    spans: list[tuple[int, int, bool]] = []
    code_rows: set[int] = set()  # rows holding a code token outside functions, or a function's first line
    add_row = code_rows.add
    # Node types by kind_id, looked up once per kind and file: `node.type` builds a new str on every call, which
    # cost more than the rest of the walk (a file's few hundred kinds vs its thousands of nodes).
    categories: dict[int, int] = {}
    stack = [root]
    push, pop = stack.extend, stack.pop
    while stack:  # visit only nodes outside functions: an outermost function bounds everything nested in it
        node = pop()
        category = categories.get(node.kind_id)
        if category is None:
            category = categories[node.kind_id] = _category(node.type)
        if category == 0:
            if node.child_count:
                push(node.children)
            elif node.end_byte > node.start_byte:  # zero-width nodes (an empty module, missing tokens) hold nothing
                add_row(node.start_point[0])
        elif category != 3:  # comments and docstrings are non-code lines to lizard: never counted here
            # Abstract/interface methods have no body and lizard does not count them: not in the lower bound.
            named = category == 2 and node.child_by_field_name("body") is not None
            spans.append((node.start_byte, node.end_byte, named))
            add_row(node.start_point[0])
    # One pass of the condition regex over the whole file; each span's count is then two binary searches.
    hits = condition_hits(language, data)
    inside = [bisect_left(hits, end) - bisect_left(hits, start) for start, end, _ in spans]
    return {"functions": sum(named for _, _, named in spans), "total_decisions": len(hits),
            "max_decisions": max([*inside, len(hits) - sum(inside)]),
            "nonblank_lines": nonblank_lines(text, data), "code_lines": len(code_rows)}


# Line breaks of str.splitlines in ASCII text, and the other ASCII characters that str.strip removes.
_ASCII_BREAKS = b"\n\r\x0b\x0c\x1c\x1d\x1e"
_ASCII_BLANKS = b" \t\x1f"
_BREAKS_TO_NEWLINE = bytes.maketrans(_ASCII_BREAKS, b"\n" * len(_ASCII_BREAKS))


def nonblank_lines(text: str, data: bytes | None = None) -> int:
    """`len([line for line in text.splitlines() if line.strip()])`, without a str per line for ASCII text: every
    break becomes "\\n" and every other blank is deleted, so each non-blank line is one run of bytes.split()."""
    if data is None or len(data) != len(text):  # not ASCII: the str rules (more breaks and blanks)
        return len(list(filter(str.strip, text.splitlines())))
    return len(data.translate(_BREAKS_TO_NEWLINE, _ASCII_BLANKS).split())


def measure(language: str, text: str) -> dict:
    """lizard's measures for one file (runs in a worker process)."""
    import lizard

    info = lizard.FileAnalyzer(lizard.get_extensions([])).analyze_source_code(lizard_file(language), text)
    ccns = [f.cyclomatic_complexity for f in info.function_list]
    return {"functions": len(ccns), "max_ccn": max(ccns, default=0),
            "avg_ccn": sum(ccns) / len(ccns) if ccns else 0.0, "nloc": info.nloc}
