"""A few Japanese MT-Bench questions cut from the real data (one reasoning question, graded against its reference
answer, and writing questions), and a scripted model that answers each turn recognisably."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest


def jmt_dir(src: Path, tmp_path: Path, n: int = 4) -> tuple[Path, list[dict]]:
    """A JMT-Bench directory with `n` of `src`'s questions (the first reasoning one, then writing ones)."""
    qs = [json.loads(line) for line in (src / "question.jsonl").read_text().splitlines()]
    chosen = [q for q in qs if q["category"] == "reasoning"][:1] + [q for q in qs if q["category"] == "writing"][:n - 1]
    d = tmp_path / "jmt"
    d.mkdir()
    (d / "question.jsonl").write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in chosen))
    shutil.copytree(src / "reference_answer", d / "reference_answer")
    for name in ("judge_prompts.jsonl", "judge_ja_prompts.jsonl"):
        if (src / name).exists():
            shutil.copy(src / name, d / name)
    return d, chosen


def jmt_questions(bench_data: Path, tmp_path: Path) -> tuple[Path, list[dict]]:
    """Three questions of the Swallow variant (skips, saying why, where the benchmark data is absent)."""
    src = bench_data / "japanese-mt-bench-swallow"
    if not src.is_dir():
        pytest.skip(f"{src} not found")
    return jmt_dir(src, tmp_path, n=3)


def answer_responder(path, body) -> str:
    """A ScriptedServer responder: turn 1 and turn 2 answers that a judge prompt shows apart."""
    return "二つ目の回答です。" if len(body["messages"]) > 1 else "一つ目の回答です。"
