"""MultiPL-E (HumanEval and MBPP translated to C++, C#, Java, JavaScript) and its Japanese variant.

Task ids are MultiPL-E's `name`; a completion is the text that follows the prompt, and the program is
prompt + completion + "\\n" + tests, as in MultiPL-E, so samples from other harnesses score as they are.

MultiPL-E's licence forbids using its data as training data: `EVAL_ONLY_MARKERS` lets training commands
recognise and refuse it (see jacode.data_policy).
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

from jacode.errors import JacodeError
from jacode.evals.sources import load_records
from jacode.languages import get_language
from jacode.sandbox.checks import ValueCheck

LANGUAGES = ("cpp", "cs", "java", "js")  # MultiPL-E's languages that jacode runs (rows in jacode.languages)
REQUIRED = ("name", "prompt", "tests", "stop_tokens")

# In the humaneval-cs prompts of the pre-v3 MultiPL-E snapshot the method signature sits on the comment's
# last line ("    //     public static ... {"), so no completion can compile. It is uncommented at load.
_CS_COMMENTED_SIGNATURE = re.compile(r"^(\s*)//\s+((?:public|private|static|internal).*\{)\s*$")


def _fix_cs_prompt(prompt: str) -> tuple[str, bool]:
    lines = prompt.rstrip("\n").split("\n")
    m = _CS_COMMENTED_SIGNATURE.match(lines[-1])
    if not m:
        return prompt, False
    lines[-1] = m.group(1) + m.group(2)
    return "\n".join(lines) + "\n", True


# Test code that compares collections by reference in C# (MultiPL-E issue 71: List.Equals is reference equality
# in .NET, so correct solutions could never pass) gets structural equality: jacode compares such checks with
# JacodeEquals semantics (jacode.sandbox.values), recorded per problem in `harness_fixes`.
_CS_EQUALS = re.compile(r"\.Equals\(")


def fix_cs_tests(tests: str) -> tuple[str, bool]:
    fixed = _CS_EQUALS.sub(".JacodeEquals(", tests)
    return fixed, fixed != tests


def data_file(data: str | None, dataset: str, lang: str) -> str | None:
    """--data may be the file itself or a directory holding MultiPL-E's `{dataset}-{lang}-reworded.jsonl`."""
    if data and Path(data).is_dir():
        candidate = Path(data) / f"{dataset}-{lang}-reworded.jsonl"
        if candidate.exists():
            return str(candidate)
    return data


def normalize(records: list[dict[str, Any]], source: str, lang: str) -> list[dict[str, Any]]:
    problems = []
    for i, r in enumerate(records, 1):
        missing = [k for k in REQUIRED if k not in r]
        if missing:
            raise JacodeError(f"{source}: record {i} lacks field(s) {', '.join(missing)} (not MultiPL-E data?)")
        prompt, tests, fixes = r["prompt"], r["tests"], []
        if lang == "cs":
            prompt, sig_fixed = _fix_cs_prompt(prompt)
            tests, eq_fixed = fix_cs_tests(tests)
            if sig_fixed:
                fixes.append("prompt: commented-out method signature restored")
            if eq_fixed:
                fixes.append("tests: .Equals made structural (MultiPL-E issue 71: List.Equals is by reference)")
        problems.append({
            "task_id": r["name"], "prompt": prompt, "tests": tests, "stop": list(r["stop_tokens"]),
            "language": lang, "canonical_solution": None, "harness_fixes": fixes,
        })
    return problems


def load_multiple(lang: str, dataset: str, data: str | None) -> list[dict[str, Any]]:
    path = data_file(data, dataset, lang)
    records = load_records(path, hub_id="nuprl/MultiPL-E", hub_config=f"{dataset}-{lang}",
                           what=f"MultiPL-E {dataset}-{lang}")
    return normalize(records, str(path or f"nuprl/MultiPL-E:{dataset}-{lang}"), lang)


def build_check(problem: dict[str, Any], completion: str) -> ValueCheck:
    """MultiPL-E's program is prompt + completion + "\\n" + tests; jacode splits the tests (sandbox/split.py)."""
    return ValueCheck(language=problem["language"], task_id=problem["task_id"], prompt=problem["prompt"],
                      tests=problem["tests"], completion=completion)


def instruction(problem: dict[str, Any], japanese: bool = False) -> str:
    row = get_language(problem["language"])
    lang, fence = row.display, row.fence
    if japanese:
        head = f"次の{lang}の関数を完成させてください。完成した関数を1つの```{fence} コードブロックで答えてください。"
    else:
        head = (f"Complete the following {lang} function. "
                f"Answer with the completed function in one ```{fence} code block.")
    return f"{head}\n\n```{fence}\n{problem['prompt'].rstrip()}\n```"


_FENCE = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.S)


def completion_from_chat(problem: dict[str, Any], answer: str) -> str:
    """The part of a chat answer that follows the prompt's signature line, cut at the stop tokens."""
    blocks = _FENCE.findall(answer)
    code = blocks[0] if blocks else answer
    signature = problem["prompt"].rstrip("\n").split("\n")[-1].strip()
    at = code.find(signature)
    body = code[at + len(signature):].lstrip(" ") if at >= 0 else code
    if body.startswith("\n"):
        body = body[1:]
    cut = min((i for i in (body.find(s) for s in problem["stop"]) if i >= 0), default=len(body))
    return body[:cut]


# ---- Japanese MultiPL-E: MultiPL-E prompts with JHumanEval's Japanese descriptions ---------------------------
def japanese_description(jhumaneval_prompt: str, entry_point: str) -> list[str]:
    """The description part of the entry point's Japanese docstring (examples stay MultiPL-E's own)."""
    try:
        tree = ast.parse(jhumaneval_prompt)
    except SyntaxError as e:
        raise JacodeError(f"JHumanEval prompt for {entry_point} does not parse: {e}") from None
    doc = None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            # Usually the docstring; HumanEval/115 puts `import math` first, so take the first string.
            for stmt in node.body:
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
                        and isinstance(stmt.value.value, str):
                    doc = inspect.cleandoc(stmt.value.value)
                    break
    if not doc:
        raise JacodeError(f"JHumanEval: {entry_point} has no docstring")
    lines = []
    for line in doc.split("\n"):
        if line.strip().startswith(">>>") or re.match(r"^\s*(例|Example|For example)", line):
            break
        lines.append(line.rstrip())
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def japanize_prompt(prompt: str, ja_lines: list[str]) -> str:
    """Replace the description lines of the comment block above the signature; keep examples and code."""
    lines = prompt.rstrip("\n").split("\n")
    sig = len(lines) - 1
    start = sig
    while start > 0 and lines[start - 1].lstrip().startswith("//"):
        start -= 1
    if start == sig:
        raise JacodeError("no comment block above the signature")
    block = lines[start:sig]
    indent = block[0][: len(block[0]) - len(block[0].lstrip())]
    first_example = next((i for i, ln in enumerate(block) if ln.lstrip()[2:].strip().startswith(">>>")), len(block))
    # Keep an "Example(s):"-style header that introduces the examples, drop the English description.
    keep_from = first_example
    if first_example > 0 and re.match(r"^\s*//\s*(Example|For example|Examples|example)", block[first_example - 1]):
        keep_from = first_example - 1
    ja = [f"{indent}// {ln}".rstrip() for ln in ja_lines]
    new = lines[:start] + ja + block[keep_from:] + lines[sig:]
    return "\n".join(new) + "\n"


def build_jmultiple(jhumaneval: list[dict[str, Any]], multiple: list[dict[str, Any]]) -> tuple[list[dict], list[str]]:
    """JMultiPL-E records (MultiPL-E format) for one language; returns (records, skipped names with reasons)."""
    by_number = {int(p["task_id"].split("/")[1]): p for p in jhumaneval}
    out, skipped = [], []
    for rec in multiple:
        m = re.match(r"HumanEval_(\d+)_", rec["name"])
        if not m or int(m.group(1)) not in by_number:
            skipped.append(f"{rec['name']}: no JHumanEval counterpart")
            continue
        jp = by_number[int(m.group(1))]
        try:
            ja = japanese_description(jp["prompt"], jp["entry_point"])
            prompt = japanize_prompt(rec["prompt"], ja)
        except JacodeError as e:
            skipped.append(f"{rec['name']}: {e}")
            continue
        out.append({**rec, "prompt": prompt, "prompt_terminology": "jhumaneval-ja"})
    return out, skipped
