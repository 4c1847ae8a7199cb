"""`jacode synth score`: rank each prompt's responses, write the SFT set (best) and the DPO set (best vs worst).

Two scorers:
- a reward model: a local sequence-classification model with one scalar output (the reference Japanese code
  model's recipe scored four responses per Magpie instruction this way);
- an LLM judge (Tanuki's recipe): every pair of responses is judged twice with the positions swapped; a verdict
  counts only when both orders agree, otherwise the pair is a tie (position bias cancels out). A response's score
  is its share of wins (ties count half). Verdicts are parsed strictly (`[[A]]`, `[[B]]`, `[[C]]` for a tie);
  an unparseable answer is asked again, then counted as a failure and a tie, never dropped silently.

Outputs are TRL's conversational formats: sft.jsonl {"messages": [...]}, dpo.jsonl {"prompt": [...],
"chosen": [assistant], "rejected": [assistant]}; scores.jsonl keeps every score (and raw judge outputs), and is
appended per prompt so that a killed run resumes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from jacode.engines import Engine, SamplingParams
from jacode.errors import JacodeError
from jacode.evals.pairwise import JUDGE_PROMPT, combine, parse_verdict, question_text
from jacode.io import JsonlAppender, appended_records, atomic_write_text, read_jsonl, write_jsonl


@dataclass
class ScoreConfig:
    min_margin: float = 0.0  # best − worst must exceed this for a DPO pair
    judge_retries: int = 2
    batch_size: int = 16
    # A verdict needs a few tokens after its reasoning; the limit bounds what a judge that never stops costs
    # (each unparseable answer is asked again judge_retries times).
    judge_max_new_tokens: int = 512


class JudgeScorer:
    def __init__(self, engine: Engine, cfg: ScoreConfig, params: SamplingParams | None = None):
        self.engine, self.cfg = engine, cfg
        self.params = params or SamplingParams(temperature=0.0, max_new_tokens=cfg.judge_max_new_tokens)
        self.failures = 0

    def _ask(self, prompts: list[str]) -> list[tuple[str | None, str]]:
        """(verdict or None, last raw answer) per prompt; unparseable answers are asked again, then counted."""
        from jacode.evals.ja.judge import JudgeRequest, judge_all

        results = judge_all(self.engine, [JudgeRequest(str(i), None, p) for i, p in enumerate(prompts)],
                            parse_verdict, self.cfg.judge_retries, self.params, desc="scoring (judge)")
        answers = [(results[str(i)]["rating"], results[str(i)]["raw"][-1]) for i in range(len(prompts))]
        self.failures += sum(v is None for v, _ in answers)
        return answers

    def score(self, prompt: list[dict], responses: list[str]) -> tuple[list[float], dict]:
        pairs = list(itertools.combinations(range(len(responses)), 2))
        q = question_text(prompt)
        asks = []
        for x, y in pairs:
            asks.append(JUDGE_PROMPT.format(question=q, answer_a=responses[x], answer_b=responses[y]))
            asks.append(JUDGE_PROMPT.format(question=q, answer_a=responses[y], answer_b=responses[x]))
        answers = self._ask(asks)
        wins = [0.0] * len(responses)
        raw = []
        for k, (x, y) in enumerate(pairs):
            (v1, t1), (v2, t2) = answers[2 * k], answers[2 * k + 1]
            outcome = combine(v1, v2)
            if outcome == "x":
                wins[x] += 1
            elif outcome == "y":
                wins[y] += 1
            else:
                wins[x] += 0.5
                wins[y] += 0.5
            raw.append({"pair": [x, y], "verdicts": [v1, v2], "outcome": outcome, "raw": [t1, t2]})
        others = max(1, len(responses) - 1)
        return [w / others for w in wins], {"judgments": raw}


class RewardScorer:
    def __init__(self, model_dir: str, device: str | None = None):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
        if self.model.config.num_labels != 1:
            raise JacodeError(f"{model_dir}: a reward model has one scalar output; this one has "
                              f"num_labels={self.model.config.num_labels}")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model.config.pad_token_id = self.tokenizer.pad_token_id
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device)
        self.failures = 0

    def score(self, prompt: list[dict], responses: list[str]) -> tuple[list[float], dict]:
        texts = [self.tokenizer.apply_chat_template(prompt + [{"role": "assistant", "content": r}], tokenize=False)
                 if self.tokenizer.chat_template else question_text(prompt) + "\n" + r for r in responses]
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, truncation=True,
                             add_special_tokens=False).to(self.device)
        with self.torch.no_grad():
            scores = self.model(**enc).logits[:, 0].float().tolist()
        return scores, {}


def score_candidates(candidates: str | Path, scorer, out_dir: str | Path, cfg: ScoreConfig = ScoreConfig()) -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    items = list(read_jsonl(candidates))
    for n, c in enumerate(items, 1):
        if not {"id", "prompt", "responses"} <= set(c):
            raise JacodeError(f"{candidates}:{n}: a candidate needs id, prompt (messages) and responses")
    scores_path = out_dir / "scores.jsonl"
    # Resume by (id, content): if the candidates were regenerated, an id's old scores belong to other responses.
    have = {r["id"]: r.get("content") for r in appended_records(scores_path)}
    with JsonlAppender(scores_path) as sink:
        for c in tqdm([c for c in items if have.get(c["id"]) != _content(c)], desc="score", unit="prompt"):
            if len(c["responses"]) == 1:
                sink.write({"id": c["id"], "content": _content(c), "scores": [None],
                            "detail": {"note": "one response: nothing to rank"}})
                continue
            scores, detail = scorer.score(c["prompt"], c["responses"])
            sink.write({"id": c["id"], "content": _content(c), "scores": scores, "detail": detail})
    scored = {r["id"]: r for r in read_jsonl(scores_path)}  # the last record of an id is the current one
    sft, dpo, margins, all_scores = [], [], [], []
    for c in items:
        s = scored[c["id"]]["scores"]
        if s[0] is None:
            sft.append({"messages": c["prompt"] + [{"role": "assistant", "content": c["responses"][0]}]})
            continue
        all_scores += s
        best, worst = max(range(len(s)), key=s.__getitem__), min(range(len(s)), key=s.__getitem__)
        sft.append({"messages": c["prompt"] + [{"role": "assistant", "content": c["responses"][best]}]})
        margin = s[best] - s[worst]
        margins.append(margin)
        if margin > cfg.min_margin:
            dpo.append({"prompt": c["prompt"], "chosen": [{"role": "assistant", "content": c["responses"][best]}],
                        "rejected": [{"role": "assistant", "content": c["responses"][worst]}]})
    for name, rows in (("sft.jsonl", sft), ("dpo.jsonl", dpo)):
        write_jsonl(out_dir / name, rows)
    stats = {"prompts": len(items), "sft": len(sft), "dpo": len(dpo),
             "dpo_dropped_small_margin": len(margins) - len(dpo), "judge_parse_failures": scorer.failures,
             "score_histogram": histogram(all_scores)}
    atomic_write_text(out_dir / "score_stats.json", json.dumps(stats, indent=2))
    return stats


def _content(candidate: dict) -> str:
    return hashlib.sha256(json.dumps([candidate["prompt"], candidate["responses"]], ensure_ascii=False,
                                     sort_keys=True).encode()).hexdigest()[:16]


def histogram(values: list[float], bins: int = 10) -> dict[str, int]:
    if not values:
        return {}
    lo, hi = min(values), max(values)
    width = (hi - lo) / bins or 1.0
    counts = Counter(min(bins - 1, int((v - lo) / width)) for v in values)
    return {f"{lo + i * width:.3g}..{lo + (i + 1) * width:.3g}": counts.get(i, 0) for i in range(bins)}
