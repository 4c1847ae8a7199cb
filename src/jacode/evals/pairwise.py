"""Pairwise judging: which of two answers to a question is better, asked twice with the positions swapped.

Shared by synthetic-data scoring (jacode.synth.scoring: every pair of a prompt's responses) and by comparing two
models (`compare`, the `compare` stage and `jacode eval compare`: a model before and after training, on the same
questions). A verdict counts only when both orders agree, otherwise the pair is a tie (position bias cancels
out); verdicts are parsed strictly (`[[A]]`, `[[B]]`, `[[C]]`), and an unparseable answer is asked again, then
counted as a failure and a tie — never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from jacode.config import STRICT
from jacode.engines import Engine, Request, SamplingParams, generate_with_progress
from jacode.errors import JacodeError
from jacode.io import JsonlAppender, appended_records, read_jsonl, refuse_changed_config, write_json

JUDGE_PROMPT = """あなたは公平な審査員です。以下のユーザーの質問に対する2つのAIアシスタントの回答を比較し、\
より優れた回答を選んでください。
正確さ、有用性、日本語の自然さ、コードが含まれる場合はその正しさを重視してください。\
回答の順序や長さに影響されないでください。
短く理由を述べた後、最終判定を必ず次のいずれかの形式で出力してください: \
Aが優れていれば [[A]]、Bが優れていれば [[B]]、同等なら [[C]]。

[ユーザーの質問]
{question}

[アシスタントAの回答]
{answer_a}

[アシスタントBの回答]
{answer_b}
"""
VERDICT = re.compile(r"\[\[([ABC])\]\]")


def parse_verdict(text: str) -> str | None:
    found = set(VERDICT.findall(text))
    return found.pop() if len(found) == 1 else None  # none, or contradictory verdicts: unparseable


def combine(first: str | None, swapped: str | None) -> str:
    """Verdict for (x, y) from the judge's answers on (A=x, B=y) and (A=y, B=x): "x", "y" or "tie"."""
    if first == "A" and swapped == "B":
        return "x"
    if first == "B" and swapped == "A":
        return "y"
    return "tie"


def question_text(prompt: list[dict]) -> str:
    return "\n\n".join(m["content"] for m in prompt if m["role"] == "user")


# ---- comparing two models ------------------------------------------------------------------------------------
QUESTION_FIELDS = ("question", "instruction", "prompt", "input")


def load_questions(path: str | Path, limit: int | None = None) -> list[dict[str, str]]:
    """[{id, question}] from JSONL: a question in one of QUESTION_FIELDS, or MT-Bench's `turns` (first turn)."""
    out = []
    for i, rec in enumerate(read_jsonl(path), 1):
        text = next((rec[k] for k in QUESTION_FIELDS if isinstance(rec.get(k), str) and rec[k].strip()), None)
        if text is None and isinstance(rec.get("turns"), list) and rec["turns"]:
            text = rec["turns"][0]
        if not isinstance(text, str):
            raise JacodeError(f"{path}:{i}: no question (one of {', '.join(QUESTION_FIELDS)}, or turns)")
        out.append({"id": str(rec.get("question_id", rec.get("id", i))), "question": text})
        if limit is not None and len(out) == limit:
            break
    if not out:
        raise JacodeError(f"{path}: no questions")
    return out


@dataclass
class CompareConfig:
    """Two models answer the same questions; a judge compares each pair of answers in both orders."""

    __pydantic_config__ = STRICT
    before: Annotated[str, "the first model: a directory, or its name on --endpoint"]
    after: Annotated[str, "the second model, the same way"]
    questions: Annotated[str, "JSONL of questions (question/instruction/prompt/input, or MT-Bench turns)"]
    judge: Annotated[str, "the judge: a directory, or its name on --judge-endpoint"]
    endpoint: Annotated[str | None, "an OpenAI-compatible server that serves both models by name"] = None
    judge_endpoint: Annotated[str | None, "an OpenAI-compatible server that serves the judge"] = None
    limit: Annotated[int | None, "the first N questions"] = None
    max_new_tokens: Annotated[int, "tokens per answer"] = 512
    judge_max_new_tokens: Annotated[int, "the judge's longest answer, in tokens"] = 512
    judge_retries: Annotated[int, "times an unparseable verdict is asked again"] = 2


def _engine(name: str, endpoint: str | None, role: str) -> Engine:
    from jacode.evals.generate import open_engine

    return open_engine(None if endpoint else name, endpoint, name, None, role=role)


def judge_pair(judge: Engine, question: str, x: str, y: str, params: SamplingParams,
               retries: int) -> dict[str, Any]:
    """The outcome for (x, y) — "x", "y" or "tie" — with both verdicts and the judge's raw answers."""
    from jacode.evals.ja.judge import JudgeRequest, judge_all

    asks = [JudgeRequest("xy", None, JUDGE_PROMPT.format(question=question, answer_a=x, answer_b=y)),
            JudgeRequest("yx", None, JUDGE_PROMPT.format(question=question, answer_a=y, answer_b=x))]
    got = judge_all(judge, asks, parse_verdict, retries, params, desc="pairwise judging")
    v1, v2 = got["xy"]["rating"], got["yx"]["rating"]
    return {"outcome": combine(v1, v2), "verdicts": [v1, v2], "raw": [got["xy"]["raw"][-1], got["yx"]["raw"][-1]],
            "failures": int(v1 is None) + int(v2 is None)}


def compare(cfg: CompareConfig, out: str | Path) -> dict[str, Any]:
    """Answers of both models (answers.jsonl), one judgment per question (judgments.jsonl), both resumable record
    by record; the summary: wins/ties/losses of `after` and its win rate with a 95 % bootstrap interval."""
    from jacode.evals.ja.judge import mean_ci

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    questions = load_questions(cfg.questions, cfg.limit)
    identity = {k: getattr(cfg, k) for k in ("before", "after", "endpoint", "questions", "judge", "judge_endpoint",
                                             "limit", "max_new_tokens", "judge_max_new_tokens")}
    refuse_changed_config(out / "compare_config.json", identity, "a comparison")
    write_json(out / "compare_config.json", identity)
    params = SamplingParams(temperature=0.0, max_new_tokens=cfg.max_new_tokens)
    answers = {r["id"]: r for r in appended_records(out / "answers.jsonl")}
    todo = [q for q in questions if q["id"] not in answers]
    if todo:
        with JsonlAppender(out / "answers.jsonl") as sink:
            # One model at a time (a local model holds its memory until closed).
            got: dict[str, dict[str, str]] = {q["id"]: {} for q in todo}
            for side in ("before", "after"):
                engine = _engine(getattr(cfg, side), cfg.endpoint, side)
                try:
                    asks = [Request(messages=[{"role": "user", "content": q["question"]}]) for q in todo]
                    outs = generate_with_progress(engine, asks, params, f"{side} answers")
                finally:
                    engine.close()
                for q, o in zip(todo, outs):
                    got[q["id"]][side] = o[0].text
            for q in todo:
                rec = {"id": q["id"], "question": q["question"], **got[q["id"]]}
                sink.write(rec)
                answers[q["id"]] = rec
    judged = {r["id"]: r for r in appended_records(out / "judgments.jsonl")}
    todo = [q for q in questions if q["id"] not in judged]
    if todo:
        judge = _engine(cfg.judge, cfg.judge_endpoint, "judge")
        jparams = SamplingParams(temperature=0.0, max_new_tokens=cfg.judge_max_new_tokens)
        try:
            with JsonlAppender(out / "judgments.jsonl") as sink:
                for q in todo:
                    a = answers[q["id"]]
                    rec = {"id": q["id"], **judge_pair(judge, q["question"], a["before"], a["after"], jparams,
                                                       cfg.judge_retries)}
                    sink.write(rec)
                    judged[q["id"]] = rec
        finally:
            judge.close()
    rows = [judged[q["id"]] for q in questions]
    # `after` is y: its score per question is 1 (win), 0.5 (tie) or 0 (loss).
    values = [{"y": 1.0, "tie": 0.5, "x": 0.0}[r["outcome"]] for r in rows]
    ci = mean_ci(values)
    result = {"questions": len(rows), "wins": values.count(1.0), "ties": values.count(0.5),
              "losses": values.count(0.0), "win_rate": ci["mean"], "ci95": ci["ci95"],
              "judge_failures": sum(r["failures"] for r in rows),
              "empty_answers": {side: sum(not answers[q["id"]][side].strip() for q in questions)
                                for side in ("before", "after")}}
    write_json(out / "compare.json", result)
    return result
