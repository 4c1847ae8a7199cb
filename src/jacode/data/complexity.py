"""Complexity and structure bounds measured by lizard (function count, cyclomatic complexity, NLOC).

lizard is the authority for every drop, but it tokenizes in pure Python (~7 ms for an average standard-library
file, slower than parsing and all heuristics together). Most files are nowhere near a bound, so the syntax step
leaves a cheap screen in the document's metadata (`structure`), computed from its tree-sitter tree:
- per outermost function, the count of lizard's own condition tokens in its text (a regex over text that also
  holds nested functions, strings and comments, so it over-counts), and the same for the code outside functions:
  1 + the largest count bounds every function's CCN from above;
- the total count over the named outermost definitions (lizard reports at least those): bounds the mean CCN;
- non-blank lines (≥ NLOC) and rows holding a code token outside functions or a function's first row (≤ NLOC:
  comments and docstrings are never counted).
When these bounds prove that no configured bound can be broken, lizard is skipped; otherwise it runs in a
crash-isolated worker and decides. A test and the benchmark check the bounds against lizard on real files.

lizard treats unknown file extensions as C, so only languages it really supports are measured; others pass.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import asdict, dataclass
from functools import cache

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from jacode.languages import find_language


def lizard_file(language: str | None) -> str | None:
    """A file name whose extension selects lizard's reader for the language, or None when lizard has none."""
    lang = find_language(language)
    return f"a.{lang.extensions[0]}" if lang and lang.lizard else None

# tree-sitter node types that lizard also reports as functions.
FUNCTION_NODES = frozenset({
    "function_definition", "function_declaration", "method_declaration", "constructor_declaration",
    "method_definition", "function_expression", "arrow_function", "generator_function_declaration",
    "function_item", "local_function_statement", "func_literal"})
# Definitions that lizard certainly reports as functions (anonymous ones it may not): a lower bound on its count.
NAMED_FUNCTIONS = frozenset({"function_definition", "function_declaration", "method_declaration",
                             "constructor_declaration", "method_definition", "function_item"})


@dataclass(frozen=True)
class ComplexityBounds:
    max_function_ccn: int | None = 100  # any single function above this: generated state machines, parsers
    max_avg_ccn: float | None = 30.0
    min_nloc: int | None = 3  # nothing to learn from a file with two lines of code
    max_nloc: int | None = 20_000
    min_functions: int | None = None  # function-count bounds cannot be screened: set them and lizard always runs
    max_functions: int | None = None


@cache
def condition_pattern(language: str) -> re.Pattern:
    """A regex matching every token lizard counts as a condition in `language` (and some that it does not)."""
    from lizard_languages import get_reader_for

    conditions = get_reader_for(lizard_file(language))(None).conditions
    words = sorted(c for c in conditions if c.isalpha())
    operators = sorted((re.escape(c) for c in conditions if not c.isalpha()), key=len, reverse=True)
    parts = ([r"\b(?:" + "|".join(words) + r")\b"] if words else []) + operators
    return re.compile("|".join(parts).encode())  # bytes: tree-sitter's offsets are byte offsets


def screen(language: str, text: str, root) -> dict | None:
    """Upper bounds for lizard's measures from a tree-sitter tree (runs in the parser worker)."""
    if lizard_file(language) is None:
        return None
    data = text.encode("utf-8")
    pattern = condition_pattern(language)
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
    hits = [m.start() for m in pattern.finditer(data)]
    inside = [bisect_left(hits, end) - bisect_left(hits, start) for start, end, _ in spans]
    return {"functions": sum(named for _, _, named in spans), "total_decisions": len(hits),
            "max_decisions": max([*inside, len(hits) - sum(inside)]),
            "nonblank_lines": sum(1 for ln in text.splitlines() if ln.strip()), "code_lines": len(code_rows)}


def measure(language: str, text: str) -> dict:
    """lizard's measures for one file (runs in a worker process)."""
    import lizard

    info = lizard.FileAnalyzer(lizard.get_extensions([])).analyze_source_code(lizard_file(language), text)
    ccns = [f.cyclomatic_complexity for f in info.function_list]
    return {"functions": len(ccns), "max_ccn": max(ccns, default=0),
            "avg_ccn": sum(ccns) / len(ccns) if ccns else 0.0, "nloc": info.nloc}


def check_bounds(m: dict, b: ComplexityBounds) -> str | None:
    if b.max_function_ccn is not None and m["max_ccn"] > b.max_function_ccn:
        return "function_ccn"
    if b.max_avg_ccn is not None and m["avg_ccn"] > b.max_avg_ccn:
        return "avg_ccn"
    if b.min_nloc is not None and m["nloc"] < b.min_nloc:
        return "min_nloc"
    if b.max_nloc is not None and m["nloc"] > b.max_nloc:
        return "max_nloc"
    if b.min_functions is not None and m["functions"] < b.min_functions:
        return "min_functions"
    if b.max_functions is not None and m["functions"] > b.max_functions:
        return "max_functions"
    return None


def screen_passes(s: dict, b: ComplexityBounds) -> bool:
    """True when the upper bounds prove that lizard's measures are within every bound."""
    if b.min_functions is not None or b.max_functions is not None:
        return False
    ccn_bound = 1 + s["max_decisions"]  # ≥ every function's CCN, hence ≥ their mean too
    if b.max_function_ccn is not None and ccn_bound > b.max_function_ccn:
        return False
    # mean CCN = 1 + (decisions in functions) / (lizard's function count), and lizard counts at least the named
    # outermost definitions; either bound on the mean will do.
    avg_bound = min(ccn_bound, 1 + s["total_decisions"] / max(1, s["functions"]))
    if b.max_avg_ccn is not None and avg_bound > b.max_avg_ccn:
        return False
    if b.max_nloc is not None and s["nonblank_lines"] > b.max_nloc:
        return False
    # code_lines ≤ NLOC: rows with a code token outside functions plus each function's first row.
    return b.min_nloc is None or s["code_lines"] >= b.min_nloc


class ComplexityFilter(BaseFilter):
    name = "🧮 complexity (lizard)"

    def __init__(self, bounds: ComplexityBounds = ComplexityBounds(), timeout_s: float = 10.0,
                 use_screen: bool = True, exclusion_writer=None):
        from jacode.data.parse_worker import ParserProcess

        super().__init__(exclusion_writer)
        self.bounds = bounds
        self.timeout_s = timeout_s
        self.use_screen = use_screen
        self.worker = ParserProcess("jacode.data.complexity:measure")

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        language = doc.metadata.get("language")
        if doc.metadata.get("kind", "code") != "code" or lizard_file(language) is None:
            return True
        s = doc.metadata.get("structure")
        if self.use_screen and s and screen_passes(s, self.bounds):
            self.stat_update("screened_pass")
            return True
        m = self.worker.ask(language, doc.text, self.timeout_s)
        if isinstance(m, str):
            return False, m.replace("parser", "lizard")
        self.stat_update("lizard_runs")
        doc.metadata["complexity"] = m
        reason = check_bounds(m, self.bounds)
        return True if reason is None else (False, reason)

    def __del__(self) -> None:
        try:
            self.worker.close()
        except Exception:  # noqa: BLE001
            pass


def bounds_from_dict(d: dict | None) -> ComplexityBounds:
    known = asdict(ComplexityBounds())
    unknown = set(d or {}) - set(known)
    if unknown:
        raise ValueError(f"unknown complexity bound(s) {sorted(unknown)}; known: {sorted(known)}")
    return ComplexityBounds(**(d or {}))
