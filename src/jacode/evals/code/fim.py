"""Fill-in-the-middle benchmarks built from HumanEval's canonical solutions.

- humaneval-fim-single-line: every non-blank line of every canonical solution is masked in turn.
- humaneval-fim-multi-line: every span of 2 to 4 consecutive lines starting on a non-blank line.
The model sees prefix (prompt + lines before) and suffix (lines after) in its FIM format and writes the
middle; the reassembled function is executed against HumanEval's tests. The termination rate (share of
generations that ended with the end token before the budget) is reported by `jacode eval score`: a model
that learned chat after FIM may never stop in FIM mode, which this number shows.
"""

from __future__ import annotations

from typing import Any

from jacode.evals.code.humaneval import load_humaneval, python_check
from jacode.sandbox.checks import PythonCheck
from jacode.tokenizer.fim import FimFormat, parse_fim_tokens  # noqa: F401 - the benchmarks' FIM prompts


def _spans(n_lines: int, lines: list[str], multi: bool) -> list[tuple[int, int]]:
    spans = []
    for start in range(n_lines):
        if not lines[start].strip():
            continue
        lengths = range(2, 5) if multi else (1,)
        for length in lengths:
            if start + length <= n_lines:
                spans.append((start, start + length))
    return spans


def build_tasks(multi: bool, data: str | None) -> list[dict[str, Any]]:
    tasks = []
    for p in load_humaneval(data):
        lines = p["canonical_solution"].splitlines(keepends=True)
        for start, end in _spans(len(lines), lines, multi):
            prefix = p["prompt"] + "".join(lines[:start])
            middle = "".join(lines[start:end])
            suffix = "".join(lines[end:])
            tasks.append({
                "task_id": f"{p['task_id']}/L{start}-{end}", "prefix": prefix, "suffix": suffix,
                "canonical_solution": middle, "tests": p["tests"], "entry_point": p["entry_point"],
                "prompt": prefix, "language": "python", "helpers_prompt": p["prompt"],
            })
    return tasks


def build_check(task: dict[str, Any], completion: str) -> PythonCheck:
    # A masked span ends with a newline; a generated one that does not is given one, else the next line
    # would be glued onto it.
    middle = completion if completion.endswith("\n") or not task["canonical_solution"].endswith("\n") \
        else completion + "\n"
    return python_check(task["prefix"] + middle + task["suffix"], task)
