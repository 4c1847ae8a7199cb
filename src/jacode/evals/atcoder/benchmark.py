"""atcoder-mini: statement -> program (Python or C++) -> judged on sample and hidden cases."""

from __future__ import annotations

import re
from typing import Any

from jacode.evals.atcoder.problems import load_problems_dir
from jacode.languages import get_language
from jacode.sandbox.checks import JudgedProgram
from jacode.sandbox.judge import judged_program

LANGUAGES = ("python", "cpp")  # rows of jacode.languages with a judge


def load(data: str | None, language: str) -> list[dict[str, Any]]:
    problems = load_problems_dir(data)
    comment = get_language(language).comment
    for p in problems:
        # Base-mode prompt: the statement as a comment, then the program starts.
        commented = "\n".join(f"{comment} {line}".rstrip() for line in p["statement"].splitlines())
        p["prompt"] = f"{commented}\n\n"
        p["language"] = language
        p["canonical_solution"] = p["references"].get(language)
    return problems


def instruction(problem: dict[str, Any]) -> str:
    row = get_language(problem["language"])
    name, fence = row.judge.label, row.fence
    return (f"次の競技プログラミングの問題を{name}で解いてください。"
            f"標準入力から読み、標準出力に答えを書くプログラム全体を1つの```{fence} コードブロックで答えてください。"
            f"\n\n{problem['statement']}")


_FENCE = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.S)


def from_chat(problem: dict[str, Any], answer: str) -> str:
    blocks = _FENCE.findall(answer)
    return blocks[0] if blocks else answer


def from_base(problem: dict[str, Any], text: str) -> str:
    return problem["prompt"] + text


def build_check(problem: dict[str, Any], completion: str) -> JudgedProgram:
    return judged_program(problem, problem["language"], completion)  # a judged sample is a whole program
