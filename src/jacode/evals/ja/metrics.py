"""Reference-based metrics for Japanese generation, each with its tokenization stated — numbers from different
harnesses disagree mostly because they tokenize differently.

- exact_match: 1 if the NFKC-normalized, whitespace-stripped prediction equals a reference (best over references).
- char_f1: true character-level F1: precision and recall of the multiset of characters (NFKC, whitespace removed).
- fuzzy_ratio: what llm-jp-eval calls `char_f1`: rapidfuzz/fuzzywuzzy `fuzz.token_sort_ratio(pred, ref) / 100`,
  an edit-distance similarity of whitespace-token-sorted strings. It is not an F1; jacode names it apart.
- rouge_n / rouge_l: ROUGE-1/2 (n-gram overlap) and ROUGE-L (longest common subsequence) F-measures over MeCab
  words (fugashi + unidic-lite surface forms), as the Japanese XL-Sum evaluations do; corpus score = mean of
  per-document scores.
- bleu: sacrebleu corpus BLEU with its `ja-mecab` tokenizer (mecab-python3 + ipadic, sacrebleu's own choice),
  reported with sacrebleu's signature so that the number can be reproduced.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from functools import lru_cache


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def exact_match(pred: str, refs: list[str]) -> float:
    return float(any(_norm(pred) == _norm(r) for r in refs))


def _chars(text: str) -> Counter:
    return Counter(c for c in _norm(text) if not c.isspace())


def char_f1(pred: str, refs: list[str]) -> float:
    best = 0.0
    p = _chars(pred)
    for ref in refs:
        r = _chars(ref)
        overlap = sum((p & r).values())
        if overlap:
            precision, recall = overlap / sum(p.values()), overlap / sum(r.values())
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def fuzzy_ratio(pred: str, refs: list[str]) -> float:
    from rapidfuzz import fuzz

    return max((fuzz.token_sort_ratio(_norm(pred), _norm(r)) / 100 for r in refs), default=0.0)


@lru_cache(maxsize=1)
def _tagger():
    import fugashi

    return fugashi.Tagger()


def mecab_words(text: str) -> list[str]:
    return [w.surface for w in _tagger()(_norm(text))]


def _f(overlap: int, n_pred: int, n_ref: int) -> float:
    if not overlap:
        return 0.0
    p, r = overlap / n_pred, overlap / n_ref
    return 2 * p * r / (p + r)


def rouge_n(pred: str, ref: str, n: int) -> float:
    pw, rw = mecab_words(pred), mecab_words(ref)
    pg = Counter(tuple(pw[i:i + n]) for i in range(len(pw) - n + 1))
    rg = Counter(tuple(rw[i:i + n]) for i in range(len(rw) - n + 1))
    return _f(sum((pg & rg).values()), sum(pg.values()), sum(rg.values()))


def _lcs(a: list[str], b: list[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(pred: str, ref: str) -> float:
    pw, rw = mecab_words(pred), mecab_words(ref)
    return _f(_lcs(pw, rw), len(pw), len(rw))


def bleu(preds: list[str], refs: list[str]) -> tuple[float, str]:
    """Corpus BLEU (one reference per prediction) and sacrebleu's signature."""
    from sacrebleu.metrics import BLEU

    metric = BLEU(tokenize="ja-mecab")
    score = metric.corpus_score(preds, [refs])
    return score.score, str(metric.get_signature())


METRICS = {
    "exact_match": lambda p, refs: exact_match(p, refs),
    "char_f1": lambda p, refs: char_f1(p, refs),
    "fuzzy_ratio": lambda p, refs: fuzzy_ratio(p, refs),
    "rouge1": lambda p, refs: max(rouge_n(p, r, 1) for r in refs),
    "rouge2": lambda p, refs: max(rouge_n(p, r, 2) for r in refs),
    "rougeL": lambda p, refs: max(rouge_l(p, r) for r in refs),
}
