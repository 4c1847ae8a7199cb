"""`jacode synth code-verified`: problem → solution + unit tests → run in jacode's sandbox → keep what passes.

Code Llama's instruct data kept only solutions that passed their own generated tests. Here the model answers
each problem with two fenced Python blocks (the solution, then assert-based tests). The solution runs in one
sandboxed process and the tests in another (jacode.sandbox.checks.PythonCheck), calling the solution's
top-level functions through proxies: only plain values cross, so a solution cannot make its tests pass by
tampering with them (patching `assert`-related builtins, exiting early, returning objects that equal anything).
Only passing answers are kept, with the run's verdict. A response without two blocks, or whose tests contain no
assert, is dropped with that reason: a test that cannot fail proves nothing. Solutions whose tests need the
solution's classes or objects (not plain values) fail with "non-data return value" and are dropped.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

from jacode.engines import Completion, Engine, Request, SamplingParams
from jacode.errors import JacodeError
from jacode.io import JsonlAppender, atomic_write_text, read_jsonl, write_jsonl
from jacode.sandbox.checks import PythonCheck
from jacode.synth.generate import done_ids, resumable

CODE_PROMPT = """次の課題を解くPythonのコードを書いてください。
回答には、必ず次の2つのコードブロックをこの順に含めてください。
1. 解答のコード（```python で始まるブロック）
2. 解答を検証する assert 文によるテスト（```python で始まる別のブロック。標準ライブラリのみを使うこと）

課題:
{problem}
"""
BLOCK = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.S)


@dataclass
class VerifiedConfig:
    n_samples: int = 2  # answers per problem; every passing one is kept
    batch_size: int = 16
    workers: int = 2
    timeout_s: float = 10.0
    params: SamplingParams = SamplingParams(temperature=0.7, top_p=0.95, max_new_tokens=1024)
    seed: int = 0


def split_answer(text: str) -> tuple[str, str] | str:
    """(solution, tests), or the reason the answer cannot be verified."""
    blocks = BLOCK.findall(text)
    if len(blocks) < 2:
        return "missing_blocks"
    solution, tests = blocks[0], blocks[1]
    if "assert" not in tests:
        return "tests_without_assert"
    if any(n in dir(builtins) or (n.startswith("__") and n.endswith("__")) for n in solution_names(solution)):
        # The tests would call the solution's `abs` or `all` where they mean Python's, or its module's `__dir__`:
        # a solution could make its own tests vacuous that way (`def all(*a): return True`).
        return "shadows_builtin"
    return solution, tests


def solution_names(solution: str) -> tuple[str, ...]:
    """The solution's top-level functions: what its tests may call (through proxies)."""
    try:
        return tuple(n.name for n in ast.parse(solution).body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    except SyntaxError:
        return ()  # the candidate's process reports the syntax error


def solution_check(solution: str, tests: str) -> PythonCheck:
    """The answer's tests, run apart from its solution, calling the solution's top-level functions (never in place
    of a builtin: such answers are dropped before, see split_answer)."""
    # Not builtins, and not dunder names: `def __dir__(): return []` would become the checks' module's __dir__
    # (PEP 562) and hide unittest's test cases from its loader.
    names = tuple(n for n in solution_names(solution) if n not in dir(builtins) and not
                  (n.startswith("__") and n.endswith("__")))
    return PythonCheck(candidate=solution, tests=tests, names=names)


def load_problems(path: str | Path) -> list[dict]:
    problems = []
    for n, r in enumerate(read_jsonl(path), 1):
        text = r.get("problem") or r.get("instruction")
        if not text and r.get("prompt"):  # candidates.jsonl from magpie/persona
            text = "\n".join(m["content"] for m in r["prompt"] if m["role"] == "user")
        if not text:
            raise JacodeError(f"{path}:{n}: a problem needs a `problem`, `instruction` or `prompt` field")
        problems.append({"id": r.get("id", n - 1), "problem": text})
    return problems


def code_verified(engine: Engine, problems: list[dict], out_dir: str | Path,
                  cfg: VerifiedConfig = VerifiedConfig()) -> dict:
    from jacode.sandbox.checks import run_checks
    from jacode.sandbox.isolation import Limits, Sandbox

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    def record(p: dict, completions: list[Completion]) -> dict:
        return {"id": p["id"], "problem": p["problem"], "answers": [c.text for c in completions]}

    answers = resumable(engine, problems, lambda p: Request(messages=[
        {"role": "user", "content": CODE_PROMPT.format(problem=p["problem"])}], n=cfg.n_samples),
        replace(cfg.params, seed=cfg.seed), out_dir / "answers.jsonl", record, cfg.batch_size, "answers")
    # One verdict per (problem, answer), appended as it arrives; a re-run executes only what is missing.
    verdicts_path = out_dir / "verdicts.jsonl"
    have = done_ids(verdicts_path)
    jobs, checks, counts = [], [], {"answers": 0, "passed": 0, "failed": 0}
    with JsonlAppender(verdicts_path) as sink:
        for a in answers:
            for k, text in enumerate(a["answers"]):
                key = f"{a['id']}#{k}"
                if key in have:
                    continue
                parts = split_answer(text)
                if isinstance(parts, str):
                    sink.write({"id": key, "passed": False, "status": parts})
                    continue
                jobs.append((key, a, text, parts))
                checks.append(solution_check(*parts))
        def on_result(i: int, v) -> None:
            key, a, text, (solution, tests) = jobs[i]
            sink.write({"id": key, **v.as_dict(), "solution": solution, "tests": tests})

        with Sandbox(Limits(timeout_s=cfg.timeout_s)) as sandbox:
            run_checks(checks, sandbox, workers=cfg.workers, on_result=on_result)
    verdicts = {r["id"]: r for r in read_jsonl(verdicts_path)}
    kept, reasons = [], {}
    for a in answers:
        for k, text in enumerate(a["answers"]):
            v = verdicts[f"{a['id']}#{k}"]
            counts["answers"] += 1
            if v["passed"]:
                counts["passed"] += 1
                kept.append({"id": f"{a['id']}#{k}", "messages": [{"role": "user", "content": a["problem"]},
                                                                 {"role": "assistant", "content": text}],
                             "verdict": {x: v[x] for x in ("status", "duration_s", "detail") if x in v}})
            else:
                counts["failed"] += 1
                reasons[v["status"]] = reasons.get(v["status"], 0) + 1
    write_jsonl(out_dir / "sft.jsonl", kept)
    stats = {**counts, "dropped": dict(sorted(reasons.items()))}
    atomic_write_text(out_dir / "stats.json", json.dumps(stats, indent=2))
    return stats
