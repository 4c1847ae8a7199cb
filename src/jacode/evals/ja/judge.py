"""LLM-as-a-judge plumbing shared by Japanese MT-Bench and the ELYZA-tasks-style rubric.

A rating is read from the judge's answer in one of two modes (PARSE_MODES):

  strict    exactly one distinct `[[n]]` with n in the allowed range (both `評価：[[5]]` and `Rating: [[5]]`
            match); anything else does not parse, and the judgment is asked again (`retries` times).
  fastchat  FastChat's `run_judge_single` (fastchat/llm_judge/common.py, unchanged in the Stability AI jp-stable
            and Swallow forks that publish Japanese MT-Bench numbers): the first `[[n]]`, else the first `[n]`
            (its one_score_pattern, then one_score_pattern_backup), no range check, asked once. FastChat reads the
            number with ast.literal_eval and crashes on `[[07]]` or non-ASCII digits such as `[[５]]`; jacode reads
            those as the number (7, 5) instead.

A judgment that does not parse is recorded as a failure with its raw text and counted in the report — FastChat's
-1, which its show_result.py leaves out of every mean — never dropped silently, never guessed. Judge requests of
one round go to the engine together, so an OpenAI-compatible judge sees them concurrently (bounded by the engine's
concurrency).
"""

from __future__ import annotations

import math
import random
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jacode.engines import Engine, Request, SamplingParams, generate_with_progress
from jacode.errors import JacodeError

RATING = re.compile(r"\[\[\s*(\d+(?:\.\d+)?)\s*\]\]")
# fastchat/llm_judge/common.py: one_score_pattern, one_score_pattern_backup
FASTCHAT_RATING = re.compile(r"\[\[(\d+\.?\d*)\]\]")
FASTCHAT_RATING_BACKUP = re.compile(r"\[(\d+\.?\d*)\]")
PARSE_MODES = ("fastchat", "strict")


def parse_rating(text: str, low: float, high: float) -> float | None:
    """strict: the one distinct `[[n]]` in the answer, if it lies in [low, high]."""
    found = {float(x) for x in RATING.findall(text)}
    if len(found) != 1:
        return None  # no rating, or contradictory ratings
    value = found.pop()
    return value if low <= value <= high else None


def parse_rating_fastchat(text: str) -> float | None:
    """fastchat: FastChat's reading — the first `[[n]]`, else the first `[n]`; no range check."""
    match = FASTCHAT_RATING.search(text) or FASTCHAT_RATING_BACKUP.search(text)
    return float(match.group(1)) if match else None  # FastChat: ast.literal_eval, -1 when nothing matches


def check_parse_mode(mode: str) -> str:
    if mode not in PARSE_MODES:
        raise JacodeError(f"parse_mode must be {' or '.join(PARSE_MODES)}, not {mode!r}")
    return mode


@dataclass
class JudgeRequest:
    key: str  # unique per judgment (question, turn, repeat)
    system: str | None
    prompt: str


def rating_parser(low: float, high: float, mode: str = "strict") -> Callable[[str], float | None]:
    """The rating reader of `mode` (PARSE_MODES); fastchat ignores the range, as FastChat does."""
    if check_parse_mode(mode) == "fastchat":
        return parse_rating_fastchat
    return lambda text: parse_rating(text, low, high)


def judge_all(engine: Engine, requests: list[JudgeRequest], parse: Callable[[str], Any], retries: int = 2,
              params: SamplingParams = SamplingParams(temperature=0.0, max_new_tokens=1024),
              on_result=None, desc: str = "judging") -> dict[str, dict]:
    """{key: {"rating": parsed value or None, "raw": [texts...], "attempts": n}} for every request. `parse` turns
    a judge's answer into its rating (a score, or a verdict such as "A") or None when it does not parse."""
    results = {r.key: {"rating": None, "raw": [], "attempts": 0} for r in requests}
    todo = list(requests)
    for _attempt in range(retries + 1):
        if not todo:
            break
        msgs = [Request(messages=([{"role": "system", "content": r.system}] if r.system else [])
                        + [{"role": "user", "content": r.prompt}]) for r in todo]
        what = f"{desc}: retry {_attempt} of the unparsed" if _attempt else desc
        answers = generate_with_progress(engine, msgs, params, what, unit="judgment")
        still = []
        for r, completions in zip(todo, answers):
            text = completions[0].text
            res = results[r.key]
            res["raw"].append(text)
            res["attempts"] += 1
            res["rating"] = parse(text)
            if res["rating"] is None:
                still.append(r)
            elif on_result:
                on_result(r.key, res)
        todo = still
    for r in todo:
        if on_result:
            on_result(r.key, results[r.key])
    return results


def mean_ci(values: list[float], seed: int = 0, n_boot: int = 2000) -> dict:
    """Mean and a 95 % bootstrap interval (percentile) over the given per-item values."""
    if not values:
        return {"mean": None, "ci95": [None, None], "n": 0}
    rng = random.Random(seed)
    boots = sorted(statistics.fmean(rng.choices(values, k=len(values))) for _ in range(n_boot))
    lo, hi = boots[int(0.025 * n_boot)], boots[min(n_boot - 1, math.ceil(0.975 * n_boot) - 1)]
    return {"mean": statistics.fmean(values), "ci95": [lo, hi], "n": len(values)}
