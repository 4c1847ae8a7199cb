"""`jacode synth code-verified`: problem → solution + unit tests → run in jacode's sandbox → keep what passes.

Code Llama's instruct data kept only solutions that passed their own generated tests. Here the model answers
each problem with two fenced Python blocks (the solution, then assert-based tests). The solution runs in one
sandboxed process and the tests in another (jacode.sandbox.checks.PythonCheck), calling the solution's
top-level functions through proxies: only plain values cross, so a solution cannot make its tests pass by
tampering with them (patching `assert`-related builtins, exiting early, returning objects that equal anything).
Only passing answers are kept, with the run's verdict. A response without two blocks, or whose tests contain no
assert, is dropped with that reason: a test that cannot fail proves nothing. Solutions whose tests need the
solution's classes or objects (not plain values) fail with "non-data return value" and are dropped.

The request comes in Japanese or English (`language`), by default after one worked exchange (`example`): a small
model copies the two-block form from an example far more often than it follows the description alone.

With `holdout`, a share of the problems that have a passing answer (chosen by a hash of their ids and the seed,
so a re-run holds out the same ones) is written to heldout.jsonl instead — none of their answers is trained on —
as tasks for the synth-heldout benchmark.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

from jacode.engines import Completion, Engine, Request, SamplingParams
from jacode.errors import JacodeError
from jacode.evals.code.synthetic import solution_check, solution_names, task_record
from jacode.io import JsonlAppender, atomic_write_text, read_jsonl, write_jsonl
from jacode.synth.generate import done_ids, resumable

CODE_PROMPT = """次の課題を解くPythonのコードを書いてください。
回答には、必ず次の2つのコードブロックをこの順に含めてください。
1. 解答のコード（```python で始まるブロック）
2. 解答を検証する assert 文によるテスト（```python で始まる別のブロック。標準ライブラリのみを使うこと）

課題:
{problem}
"""
CODE_PROMPT_EN = """Solve the following task in Python. Your answer must contain two code blocks, in this order:
1. the solution (a ```python block)
2. tests of the solution written as assert statements (another ```python block, standard library only)

Task:
{problem}
"""
# language -> (the request, the one-shot example's problem, its answer's label before the tests). The example
# is one exchange before the real problem: shown the two-block form once, SmolLM2-135M-Instruct answered 6 of 6
# problems in that form against 5 of 6 without it (English; 2 of 6 and 0 of 6 in Japanese).
PROMPTS = {
    "ja": (CODE_PROMPT, "数の2乗を返す関数を書いてください。", "テスト:"),
    "en": (CODE_PROMPT_EN, "Write a function that returns the square of a number.", "Tests:"),
}
EXAMPLE_ANSWER = ("```python\ndef square(x):\n    return x * x\n```\n\n{label}\n```python\nassert square(3) == 9\n"
                  "assert square(-2) == 4\nassert square(0) == 0\n```")
BLOCK = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.S)


@dataclass
class VerifiedConfig:
    n_samples: int = 2  # answers per problem; every passing one is kept
    batch_size: int = 16
    workers: int = 2
    timeout_s: float = 10.0
    params: SamplingParams = SamplingParams(temperature=0.7, top_p=0.95, max_new_tokens=1024)
    seed: int = 0
    language: str = "ja"  # of the request (PROMPTS); the problems are whatever language they are
    example: bool = True  # one worked exchange (a solution and its asserts) before the problem
    # Share of the problems with a passing answer whose answers are kept out of sft.jsonl and written to
    # heldout.jsonl as tasks (benchmark synth-heldout): pass@1 there before and after SFT.
    holdout: float = 0.0


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


def messages(problem: str, cfg: VerifiedConfig) -> list[dict]:
    if cfg.language not in PROMPTS:
        raise JacodeError(f"code-verified: language must be one of {', '.join(PROMPTS)}, not {cfg.language!r}")
    template, example, label = PROMPTS[cfg.language]
    shot = [{"role": "user", "content": template.format(problem=example)},
            {"role": "assistant", "content": EXAMPLE_ANSWER.format(label=label)}] if cfg.example else []
    return [*shot, {"role": "user", "content": template.format(problem=problem)}]


def code_verified(engine: Engine, problems: list[dict], out_dir: str | Path,
                  cfg: VerifiedConfig = VerifiedConfig()) -> dict:
    from jacode.sandbox.checks import run_checks
    from jacode.sandbox.isolation import Limits, Sandbox

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    def record(p: dict, completions: list[Completion]) -> dict:
        return {"id": p["id"], "problem": p["problem"], "answers": [c.text for c in completions]}

    answers = list(resumable(engine, problems, lambda p: Request(messages=messages(p["problem"], cfg),
                                                                 n=cfg.n_samples),
                             replace(cfg.params, seed=cfg.seed), out_dir / "answers.jsonl", record, cfg.batch_size,
                             "answers"))
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
    held = held_out(answers, verdicts, cfg)
    kept, reasons, tasks = [], {}, []
    for a in answers:
        for k, text in enumerate(a["answers"]):
            v = verdicts[f"{a['id']}#{k}"]
            counts["answers"] += 1
            if v["passed"] and a["id"] in held:
                counts["passed"] += 1
                if not any(t["task_id"] == f"synth/{a['id']}" for t in tasks):  # the first passing answer's tests
                    tasks.append(task_record(f"synth/{a['id']}", a["problem"], v["solution"], v["tests"],
                                             cfg.language))
            elif v["passed"]:
                counts["passed"] += 1
                kept.append({"id": f"{a['id']}#{k}", "messages": [{"role": "user", "content": a["problem"]},
                                                                 {"role": "assistant", "content": text}],
                             "verdict": {x: v[x] for x in ("status", "duration_s", "detail") if x in v}})
            else:
                counts["failed"] += 1
                reasons[v["status"]] = reasons.get(v["status"], 0) + 1
    write_jsonl(out_dir / "sft.jsonl", kept)
    write_jsonl(out_dir / "heldout.jsonl", tasks)
    stats = {**counts, "kept": len(kept), "held_out": len(tasks), "dropped": dict(sorted(reasons.items()))}
    atomic_write_text(out_dir / "stats.json", json.dumps(stats, indent=2))
    return stats


def held_out(answers: list[dict], verdicts: dict[str, dict], cfg: VerifiedConfig) -> set:
    """The problems held out: holdout × those with a passing answer whose tests call a function the solution defines,
    rounded half up (one of one at 0.5), ordered by a hash of (seed, id): stable across re-runs, independent of
    order."""
    if not cfg.holdout:
        return set()
    usable = []
    for a in answers:
        passing = [verdicts[f"{a['id']}#{k}"] for k in range(len(a["answers"]))
                   if verdicts[f"{a['id']}#{k}"]["passed"]]
        if passing and task_record("", "", passing[0]["solution"], passing[0]["tests"])["names"]:
            usable.append(a["id"])
    usable.sort(key=lambda i: hashlib.sha256(f"{cfg.seed}:{i}".encode()).hexdigest())
    return set(usable[: int(cfg.holdout * len(usable) + 0.5)])
