"""synth-heldout: verified synthetic tasks held out from training, evaluated like a benchmark.

`jacode synth code-verified --holdout F` keeps a share of the problems whose answers passed their own tests out
of the SFT data and writes them here as tasks: the problem, the tests of its first passing answer, and the
functions those tests call. A model is then asked the problem in chat (told which functions to define, since the
tests call them by name) and its answer runs against those tests in the sandbox, as in verification: the answer
in one process, the tests in another calling it through proxies (jacode.sandbox.checks.PythonCheck).

pass@1 on these tasks, before and after training on the other verified answers, measures what synthesis plus SFT
taught on problems of the same distribution that the model never trained on.
"""

from __future__ import annotations

import ast
import builtins
import re
from typing import Any

from jacode.errors import JacodeError
from jacode.io import read_jsonl
from jacode.sandbox.checks import PythonCheck

REQUIRED = ("task_id", "problem", "tests", "names")
_FENCE = re.compile(r"```[ \t]*(?:python|py|Python)?[ \t]*\n(.*?)(?:```|\Z)", re.S)


def solution_names(solution: str) -> tuple[str, ...]:
    """The solution's top-level functions: what its tests may call (through proxies)."""
    try:
        return tuple(n.name for n in ast.parse(solution).body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    except SyntaxError:
        return ()  # the candidate's process reports the syntax error


def callable_names(solution: str) -> tuple[str, ...]:
    # Not builtins, and not dunder names: `def __dir__(): return []` would become the checks' module's __dir__
    # (PEP 562) and hide unittest's test cases from its loader.
    return tuple(n for n in solution_names(solution) if n not in dir(builtins) and not
                 (n.startswith("__") and n.endswith("__")))


def solution_check(solution: str, tests: str) -> PythonCheck:
    """The tests, run apart from the solution, calling the solution's top-level functions (never in place of a
    builtin: synth drops such answers before, see jacode.synth.verified_code.split_answer)."""
    return PythonCheck(candidate=solution, tests=tests, names=callable_names(solution))


def task_record(task_id: str, problem: str, solution: str, tests: str, language: str = "ja") -> dict[str, Any]:
    """A held-out task: the functions the tests use (of those the verified solution defines) are the names a new
    answer must define."""
    used = {n.id for n in ast.walk(ast.parse(tests)) if isinstance(n, ast.Name)}
    names = [n for n in callable_names(solution) if n in used]
    return {"task_id": task_id, "problem": problem, "tests": tests, "names": names, "reference": solution,
            "request_language": language}


def load(data: str | None) -> list[dict[str, Any]]:
    if not data:
        raise JacodeError("synth-heldout needs --data FILE: the heldout.jsonl written by "
                          "`jacode synth code-verified --holdout F` (a recipe: \"${STAGE}/heldout.jsonl\")")
    tasks = []
    for i, r in enumerate(read_jsonl(data), 1):
        missing = [k for k in REQUIRED if k not in r]
        if missing:
            raise JacodeError(f"{data}:{i}: a held-out task lacks {', '.join(missing)}")
        if not r["names"]:
            raise JacodeError(f"{data}:{i}: a held-out task whose tests call none of its solution's functions")
        # The verified answer is the reference `jacode eval check` runs: it must still pass its own tests here.
        tasks.append({**r, "language": "python", "canonical_solution": r.get("reference")})
    return tasks


def instruction(task: dict[str, Any]) -> str:
    """The question in the language synthesis asked it in (`request_language`: ja or en)."""
    if task.get("request_language") == "en":
        names = ", ".join(f"`{n}`" for n in task["names"])
        return (f"Solve the following task in Python. Define the function(s) {names} and put your code in one "
                f"```python block.\n\nTask:\n{task['problem']}")
    names = "、".join(f"`{n}`" for n in task["names"])
    return (f"次の課題を解くPythonのコードを書いてください。関数 {names} を定義し、"
            f"回答のコードは ```python のコードブロック1つにまとめてください。\n\n課題:\n{task['problem']}")


def from_chat(task: dict[str, Any], answer: str) -> str:
    """The block that defines the most of the required functions (the first of those); the answer if none."""
    blocks = _FENCE.findall(answer)
    if not blocks:
        return answer
    return max(blocks, key=lambda b: sum(f"def {n}" in b for n in task["names"]))


def build_check(task: dict[str, Any], completion: str) -> PythonCheck:
    return PythonCheck(candidate=completion, tests=task["tests"], names=tuple(task["names"]))
