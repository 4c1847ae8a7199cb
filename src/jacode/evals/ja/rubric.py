"""ELYZA-tasks-100-style evaluation: one answer per task, graded 1–5 by a judge against the reference answer and
the task's own grading aspects (`eval_aspect`).

Data: records with `input`, `output` (reference) and `eval_aspect`, from `--data` (a JSONL/CSV file or a
directory of them) or a Hugging Face dataset id (`elyza/ELYZA-tasks-100`) when online — both through
`datasets.load_dataset`, so the hub path and the local path are the same code. Without either, jacode's own
22 Japanese tasks (code explanation, code review, debugging, design; data/jacode-tasks-ja.jsonl) are used.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from jacode.engines import Engine, Request, SamplingParams, generate_with_progress
from jacode.errors import JacodeError
from jacode.evals.ja.judge import JudgeRequest, judge_all, mean_ci, rating_parser
from jacode.io import JsonlAppender, appended_records, atomic_write_text

if TYPE_CHECKING:
    from jacode.evals.registry import GenSettings

RUBRIC_PROMPT = """あなたは採点者です。

問題, 正解例, 採点基準, 回答 が与えられます。
採点基準と正解例を参考にして、回答を1〜5の5段階で採点してください。
まず日本語で短く採点の理由を述べ、最後に必ず「評価：[[3]]」のように [[ ]] で囲んだ1から5の整数を書いてください。

# 基本的な採点の目安
1: 誤っている、指示に従えていない、日本語でない
2: 誤っているが、方向性は合っている
3: 部分的に誤っている、または基準の一部しか満たしていない
4: 合っている
5: 役に立つ、採点基準をすべて満たしている

# 問題
{input}

# 正解例
{output}

# 採点基準
{eval_aspect}

# 回答
{answer}
"""
SHIPPED = "jacode-tasks-ja"


@dataclass
class RubricConfig:
    settings: GenSettings  # the answers' generation settings: the registry's elyza-tasks row, resolved
    judge_settings: GenSettings  # the judge's (temperature, max_new_tokens)
    data: str | None = None  # file, directory, or hub dataset id; None → jacode's shipped tasks
    split: str = "test"
    judge_repeats: int = 1
    judge_retries: int = 2
    limit: int | None = None  # first N tasks (smoke runs)


def load_tasks(data: str | None, split: str = "test") -> tuple[list[dict], str]:
    if data is None:
        path = resources.files("jacode.evals.ja").joinpath(f"data/{SHIPPED}.jsonl")
        return [dict(r) for r in map(json.loads, path.read_text("utf-8").splitlines())], SHIPPED
    from datasets import load_dataset

    if os.path.isfile(data):
        kind = "csv" if data.endswith(".csv") else "json"
        ds = load_dataset(kind, data_files={split: data}, split=split)
    else:  # a local directory of data files, or a hub dataset id
        try:
            ds = load_dataset(data, split=split)
        except Exception as e:  # noqa: BLE001 — datasets raises many types for "not found / offline"
            raise JacodeError(f"cannot load tasks from {data!r} (split {split}): {e}") from e
    rows = [dict(r) for r in ds]
    for n, r in enumerate(rows):
        if not {"input", "output", "eval_aspect"} <= set(r):
            raise JacodeError(f"{data}: record {n} lacks input/output/eval_aspect (has {sorted(r)})")
        r.setdefault("id", n)
    return rows, str(data)


def run_rubric(engine: Engine, judge: Engine, out: str | Path, cfg: RubricConfig) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tasks, source = load_tasks(cfg.data, cfg.split)
    tasks = tasks[:cfg.limit] if cfg.limit else tasks
    s = cfg.settings
    ans_path = out / "answers.jsonl"
    answers = {r["id"]: r["answer"] for r in appended_records(ans_path)}
    pending = [t for t in tasks if t["id"] not in answers]
    if pending:
        results = generate_with_progress(
            engine, [Request(messages=[{"role": "user", "content": t["input"]}]) for t in pending],
            SamplingParams(temperature=s.temperature, top_p=s.top_p if s.temperature else 1.0,
                           max_new_tokens=s.max_new_tokens, seed=s.seed), "rubric answers")
        with JsonlAppender(ans_path) as sink:
            for t, cs in zip(pending, results):
                answers[t["id"]] = cs[0].text
                sink.write({"id": t["id"], "answer": cs[0].text, "finish_reason": cs[0].finish_reason})
    j_path = out / "judgments.jsonl"
    done = {r["key"]: r for r in appended_records(j_path)}
    with JsonlAppender(j_path) as sink:
        for rep in range(cfg.judge_repeats):
            reqs = [JudgeRequest(key=f"{t['id']}:{rep}", system=None, prompt=RUBRIC_PROMPT.format(
                input=t["input"], output=t["output"], eval_aspect=t["eval_aspect"], answer=answers[t["id"]]))
                for t in tasks if f"{t['id']}:{rep}" not in done]

            def record(key, res):
                row = {"key": key, "id": key.rsplit(":", 1)[0], "repeat": int(key.rsplit(":", 1)[1]), **res}
                done[key] = row
                sink.write(row)

            judge_all(judge, reqs, rating_parser(1, 5), cfg.judge_retries,
                      SamplingParams(temperature=cfg.judge_settings.temperature,
                                     max_new_tokens=cfg.judge_settings.max_new_tokens, seed=s.seed + rep),
                      on_result=record, desc=f"rubric judging (repeat {rep + 1})")
    per_task: dict[str, list[float]] = {}
    failures = 0
    for j in done.values():
        if j["rating"] is None:
            failures += 1
        else:
            per_task.setdefault(j["id"], []).append(j["rating"])
    means = [sum(v) / len(v) for v in per_task.values()]
    score = mean_ci(means)
    report = {"benchmark": "elyza-tasks", "source": source, "tasks": len(tasks), "items": len(tasks), "score": score,
              "scores": {"rating_1_5": score["mean"]},
              "judgments": len(done), "failed_judgments": failures, "judge_repeats": cfg.judge_repeats,
              "distribution": {str(k): sum(1 for m in means if round(m) == k) for k in range(1, 6)}}
    atomic_write_text(out / "scores.json", json.dumps(report, ensure_ascii=False, indent=2))
    s = report["score"]
    md = (f"# ELYZA-tasks-style rubric ({source})\n\nMean {s['mean'] if s['mean'] is None else round(s['mean'], 2)}"
          f" / 5 (95% CI {s['ci95']}), {len(tasks)} tasks; failed judgments: {failures} of {len(done)}\n\n"
          "| score | tasks |\n|---:|---:|\n" + "".join(f"| {k} | {v} |\n" for k, v in report["distribution"].items()))
    atomic_write_text(out / "scores.md", md)
    return report
