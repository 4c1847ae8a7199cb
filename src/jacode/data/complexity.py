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

from dataclasses import asdict, dataclass

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

# The screen and lizard run in parser workers, from parsing.py (no datatrove import there); re-exported here.
from jacode.data.parsing import (  # noqa: F401
    FUNCTION_NODES,
    NAMED_FUNCTIONS,
    condition_pattern,
    lizard_file,
    measure,
    screen,
)


@dataclass(frozen=True)
class ComplexityBounds:
    max_function_ccn: int | None = 100  # any single function above this: generated state machines, parsers
    max_avg_ccn: float | None = 30.0
    min_nloc: int | None = 3  # nothing to learn from a file with two lines of code
    max_nloc: int | None = 20_000
    min_functions: int | None = None  # function-count bounds cannot be screened: set them and lizard always runs
    max_functions: int | None = None


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
                 use_screen: bool = True, exclusion_writer=None, batch_size: int = 64):
        from jacode.data.parse_worker import ParserProcess

        super().__init__(exclusion_writer, batch_size=batch_size)
        self.bounds = bounds
        self.timeout_s = timeout_s
        self.use_screen = use_screen
        self.worker = ParserProcess("jacode.data.parsing:measure")

    def _screen(self, doc: Document) -> bool | None:
        """True when the document passes without lizard (not code, no lizard reader, or the screen proves it)."""
        if doc.metadata.get("kind", "code") != "code" or lizard_file(doc.metadata.get("language")) is None:
            return True
        s = doc.metadata.get("structure")
        if self.use_screen and s and screen_passes(s, self.bounds):
            self.stat_update("screened_pass")
            return True
        return None

    def _verdict(self, doc: Document, m: dict | str) -> bool | tuple[bool, str]:
        if isinstance(m, str):
            return False, m.replace("parser", "lizard")
        self.stat_update("lizard_runs")
        doc.metadata["complexity"] = m
        reason = check_bounds(m, self.bounds)
        return True if reason is None else (False, reason)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        if self._screen(doc):
            return True
        return self._verdict(doc, self.worker.ask(doc.metadata.get("language"), doc.text, self.timeout_s))

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        verdicts: list = [True] * len(batch)
        todo = [i for i, doc in enumerate(batch) if not self._screen(doc)]
        results = self.worker.ask_many([(batch[i].metadata.get("language"), batch[i].text) for i in todo],
                                       self.timeout_s)
        for i, m in zip(todo, results):
            verdicts[i] = self._verdict(batch[i], m)
        return verdicts

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
