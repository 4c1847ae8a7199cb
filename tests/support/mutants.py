"""Deterministic mutants of HumanEval canonical solutions, for checking an evaluator against a reference.

A mutant is the canonical completion with one small edit: a flipped comparison (``<``/``<=``,
``>``/``>=``, ``==``/``!=``), ``+``/``-`` swapped (``+=``/``-=`` too), ``and``/``or`` swapped,
``True``/``False`` swapped, an integer literal moved by one, one ``return X`` made ``return None``, or one
simple statement deleted (replaced by ``pass`` when it is alone in its block). A few tasks also get a
mutant that is a syntax error (a block header's colon removed), which every evaluator must fail.

Mutants must not be able to run forever, because a timeout is where two evaluators may legitimately
disagree (their clocks start at different moments). The only unbounded loops in HumanEval solutions are
``while`` loops, so in a task whose program has one, a mutation is only allowed after the loop has
finished for good: below the end of the top-level statement that contains the last ``while`` of the entry
function, and never in a task whose ``while`` sits elsewhere (a helper in the prompt, a nested function).

Everything depends only on the problem text and the seed: the same inputs give the same mutants.
"""

from __future__ import annotations

import ast
import io
import random
import re
import tokenize
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SEED = 20250101

SWAPS = {
    "<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "==",
    "+": "-", "-": "+", "+=": "-=", "-=": "+=",
}
KEYWORD_SWAPS = {"and": "or", "or": "and", "True": "False", "False": "True"}
COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.FunctionDef,
            ast.AsyncFunctionDef, ast.ClassDef, ast.Match)
if hasattr(ast, "TryStar"):
    COMPOUND = COMPOUND + (ast.TryStar,)


@dataclass(frozen=True)
class Edit:
    start: int  # character offsets into the completion
    end: int
    text: str
    first_line: int  # completion lines touched (1-based, inclusive)
    last_line: int
    kind: str

    def apply(self, completion: str) -> str:
        return completion[:self.start] + self.text + completion[self.end:]


@dataclass(frozen=True)
class Mutant:
    task_id: str
    completion: str
    kind: str
    line: int  # first line of the completion that the edit touched (1-based)
    syntax_error: bool = False

    @property
    def label(self) -> str:
        return f"{self.task_id} [{self.kind} @ completion line {self.line}]"


def _line_starts(text: str) -> list[int]:
    starts = [0, 0]  # index 1 -> offset of line 1
    for m in re.finditer("\n", text):
        starts.append(m.end())
    return starts


def _token_edits(completion: str) -> list[Edit]:
    starts = _line_starts(completion)

    def off(pos: tuple[int, int]) -> int:
        return starts[pos[0]] + pos[1]

    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(completion).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []
    edits = []
    for i, tok in enumerate(tokens):
        a, b = off(tok.start), off(tok.end)
        row = tok.start[0]
        if tok.type == tokenize.OP and tok.string in SWAPS:
            edits.append(Edit(a, b, SWAPS[tok.string], row, row, f"op {tok.string}->{SWAPS[tok.string]}"))
        elif tok.type == tokenize.NAME and tok.string in KEYWORD_SWAPS:
            new = KEYWORD_SWAPS[tok.string]
            edits.append(Edit(a, b, new, row, row, f"{tok.string}->{new}"))
        elif tok.type == tokenize.NUMBER and re.fullmatch(r"0|[1-9][0-9]*", tok.string):
            n = int(tok.string)
            prev = tokens[i - 1].string if i else ""
            for new in (n + 1, n - 1):
                if new < 0:
                    continue
                if prev == "." or (tokens[i + 1].string == "." if i + 1 < len(tokens) else False):
                    continue  # part of something like `1 .real`: leave it alone
                edits.append(Edit(a, b, str(new), row, row, f"int {n}->{new}"))
        elif tok.type == tokenize.NAME and tok.string == "return":
            j = i + 1
            while j < len(tokens) and not (tokens[j].type in (tokenize.NEWLINE, tokenize.ENDMARKER)
                                           or tokens[j].type == tokenize.COMMENT
                                           or (tokens[j].type == tokenize.OP and tokens[j].string == ";")):
                j += 1
            if j == i + 1 or j >= len(tokens):
                continue  # bare `return`
            value = completion[b:off(tokens[j].start)].strip()
            if value == "None":
                continue
            edits.append(Edit(b, off(tokens[j - 1].end), " None", row, tokens[j - 1].end[0], "return None"))
    return edits


def _statement_lists(tree: ast.AST) -> Iterable[list[ast.stmt]]:
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            value = getattr(node, field, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                yield value
        for handler in getattr(node, "handlers", []) or []:
            yield handler.body
        for case in getattr(node, "cases", []) or []:
            yield case.body


def _delete_edits(tree: ast.AST, completion: str, offset: int) -> list[Edit]:
    """One edit per simple one-line statement of the completion: delete it (or make it `pass`)."""
    lines = completion.splitlines(keepends=True)
    starts = _line_starts(completion)
    edits = []
    for body in _statement_lists(tree):
        for s in body:
            if isinstance(s, COMPOUND) or s.lineno != s.end_lineno:
                continue
            if isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant):
                continue  # a docstring or bare constant: deleting it changes nothing
            row = s.lineno - offset
            if row < 1 or row > len(lines):
                continue
            line = lines[row - 1]
            segment = line[s.col_offset:s.end_col_offset]
            rest = line[s.end_col_offset:].strip()
            if line[:s.col_offset].strip() or (rest and not rest.startswith("#")) or not segment.strip():
                continue  # shares its line with something else (`;`, `if x: y`): leave it alone
            a = starts[row]
            b = a + len(line)
            if len(body) > 1:
                edits.append(Edit(a, b, "", row, row, "delete line"))
            else:
                newline = "\n" if line.endswith("\n") else ""
                edits.append(Edit(a, b, line[:s.col_offset] + "pass" + newline, row, row, "line -> pass"))
    return edits


def _syntax_edit(completion: str) -> Edit | None:
    """Remove the colon that ends the first block header of the completion: a guaranteed syntax error."""
    starts = _line_starts(completion)
    for row, line in enumerate(completion.splitlines(keepends=True), 1):
        m = re.match(r"\s*(if|for|while|def|else|elif|try|with)\b.*:\s*$", line)
        if m:
            colon = line.rstrip().rfind(":")
            return Edit(starts[row] + colon, starts[row] + colon + 1, "", row, row, "syntax error")
    return None


def _safe_from_line(tree: ast.Module, entry_point: str, offset: int, completion_lines: int) -> int | None:
    """Smallest completion line a mutation may touch without risking an endless loop (None: no line)."""
    whiles = [n for n in ast.walk(tree) if isinstance(n, ast.While)]
    if not whiles:
        return 1
    entry = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry_point), None)
    if entry is None:
        return None
    last = 0
    for w in whiles:
        top = next((s for s in entry.body if s.lineno <= w.lineno <= s.end_lineno), None)
        if top is None or any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                              and n.lineno <= w.lineno <= n.end_lineno for n in ast.walk(top)):
            return None  # the loop is in a helper, which mutated code elsewhere could call forever
        last = max(last, top.end_lineno)
    first = last - offset + 1
    return first if first <= completion_lines else None


def candidate_edits(problem: Mapping[str, Any]) -> list[Edit]:
    """Every allowed single edit of the problem's canonical solution, in source order."""
    prompt, completion = problem["prompt"], problem["canonical_solution"]
    if not prompt.endswith("\n"):
        return []
    offset = prompt.count("\n")  # completion line k is line k + offset of the program
    try:
        tree = ast.parse(prompt + completion)
    except SyntaxError:
        return []
    n_lines = len(completion.splitlines())
    safe = _safe_from_line(tree, problem["entry_point"], offset, n_lines)
    if safe is None:
        return []
    edits = _token_edits(completion) + _delete_edits(tree, completion, offset)
    edits = [e for e in edits if e.first_line >= safe]
    return sorted(set(edits), key=lambda e: (e.start, e.end, e.text))


def compiles(source: str) -> bool:
    try:
        compile(source, "<mutant>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def mutants_for(problem: Mapping[str, Any], *, per_task: int = 2, seed: int = SEED,
                syntax_error: bool = False) -> list[Mutant]:
    """Up to per_task distinct mutants of one problem that compile (plus a syntax-error one if asked)."""
    task_id, prompt, canonical = problem["task_id"], problem["prompt"], problem["canonical_solution"]
    rng = random.Random(f"{seed}:{task_id}")
    chosen: list[Mutant] = []
    seen = {canonical}
    if syntax_error:
        edit = _syntax_edit(canonical)
        if edit is not None:
            text = edit.apply(canonical)
            if not compiles(prompt + text):
                chosen.append(Mutant(task_id, text, edit.kind, edit.first_line, syntax_error=True))
                seen.add(text)
    edits = candidate_edits(problem)
    rng.shuffle(edits)
    # Prefer a different kind of edit for the second mutant of a task, when there is one.
    used_kinds: set[str] = set()
    for pass_ in (0, 1):
        for e in edits:
            if len(chosen) >= per_task:
                return chosen
            family = e.kind.split(" ")[0]
            if pass_ == 0 and family in used_kinds:
                continue
            text = e.apply(canonical)
            if text in seen or not compiles(prompt + text):
                continue
            seen.add(text)
            used_kinds.add(family)
            chosen.append(Mutant(task_id, text, e.kind, e.first_line))
    return chosen


def build_mutants(problems: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]], *,
                  per_task: int = 2, seed: int = SEED, syntax_every: int = 25) -> list[Mutant]:
    """Mutants of every problem, in problem order. Every syntax_every-th task gets a syntax-error mutant."""
    items = list(problems.values()) if isinstance(problems, Mapping) else list(problems)
    out: list[Mutant] = []
    for i, p in enumerate(items):
        if not p.get("canonical_solution"):
            continue
        out += mutants_for(p, per_task=per_task, seed=seed,
                           syntax_error=bool(syntax_every) and i % syntax_every == 0)
    return out
