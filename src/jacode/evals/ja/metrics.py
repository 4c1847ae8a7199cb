"""Reference-based metrics for Japanese generation, each with its tokenization stated — numbers from different
harnesses disagree mostly because they tokenize differently. Every text is NFKC-normalized first (llm-jp-eval
normalizes predictions and references the same way before any metric).

- exact_match: 1 if the NFKC-normalized, whitespace-stripped prediction equals a reference (best over references).
- char_f1: true character-level F1: precision and recall of the multiset of characters (NFKC, whitespace removed).
- fuzzy_ratio: what llm-jp-eval calls `char_f1`: fuzzywuzzy's `fuzz.token_sort_ratio(pred, ref) / 100` with
  python-Levenshtein installed (llm-jp-eval pins both), reproduced exactly: characters U+0080-U+00FF deleted
  (fuzzywuzzy's force_ascii), every other non-word character (`\\W`) turned into a space, lowercased, the
  whitespace tokens sorted and joined, then the indel similarity (Levenshtein.ratio, i.e. rapidfuzz's Indel
  normalized similarity) as an integer percentage (Python's round); two strings that process to the same text score
  1, one empty one 0. It is an edit-distance similarity, not an F1; jacode names it apart.
- rouge1 / rouge2 / rougeL: ROUGE-1/2 (n-gram overlap) and ROUGE-L (longest common subsequence) F-measures, as
  Google's rouge_score computes them, over MeCab words. Two tokenizations, named by `rouge_tokenizer`:
    unidic  fugashi + unidic-lite surface forms (jacode's default; UniDic's short units)
    ipadic  sacrebleu's `ja-mecab` tokenizer (mecab-python3 + ipadic, `-Owakati`): llm-jp-eval's ROUGE tokenizer
  Corpus score = mean of per-document scores (llm-jp-eval reports rouge_score's bootstrap median of that mean,
  ×100).
- bleu: sacrebleu corpus BLEU with its `ja-mecab` tokenizer (mecab-python3 + ipadic, sacrebleu's own choice),
  reported with sacrebleu's signature so that the number can be reproduced.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from functools import lru_cache

ROUGE_TOKENIZERS = {
    "unidic": "MeCab words: fugashi + unidic-lite surface forms",
    "ipadic": "MeCab words: sacrebleu's ja-mecab (mecab-python3 + ipadic), as llm-jp-eval",
}


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


# fuzzywuzzy 0.18.0: utils.asciidammit deletes chr(128)..chr(255); StringProcessor replaces (?ui)\W with spaces.
_LATIN1 = dict.fromkeys(range(128, 256))
_NON_WORD = re.compile(r"(?ui)\W")


def _fuzzywuzzy_sorted_tokens(text: str) -> str:
    """fuzzywuzzy's `_process_and_sort(text, force_ascii=True)`: full_process, then the tokens sorted."""
    processed = _NON_WORD.sub(" ", text.translate(_LATIN1)).lower().strip()
    return " ".join(sorted(processed.split())).strip()


def token_sort_ratio(a: str, b: str) -> int:
    """fuzzywuzzy's `fuzz.token_sort_ratio(a, b)` (0-100) as it computes it with python-Levenshtein installed."""
    from rapidfuzz.distance import Indel

    s1, s2 = _fuzzywuzzy_sorted_tokens(a), _fuzzywuzzy_sorted_tokens(b)
    if s1 == s2:
        return 100  # utils.check_for_equivalence, before the empty-string check
    if not s1 or not s2:
        return 0
    return int(round(100 * Indel.normalized_similarity(s1, s2)))  # Levenshtein.ratio; utils.intr


def fuzzy_ratio(pred: str, refs: list[str]) -> float:
    return max((token_sort_ratio(_norm(pred), _norm(r)) / 100 for r in refs), default=0.0)


@lru_cache(maxsize=1)
def _tagger():
    import fugashi

    return fugashi.Tagger()


@lru_cache(maxsize=1)
def _ja_mecab():
    from sacrebleu.tokenizers.tokenizer_ja_mecab import TokenizerJaMecab

    return TokenizerJaMecab()


def mecab_words(text: str, tokenizer: str = "unidic") -> list[str]:
    """The words ROUGE counts: `unidic` (fugashi + unidic-lite) or `ipadic` (sacrebleu's ja-mecab, split on spaces)."""
    if tokenizer == "unidic":
        return [w.surface for w in _tagger()(_norm(text))]
    if tokenizer == "ipadic":
        return _ja_mecab()(_norm(text)).split()
    raise ValueError(f"rouge tokenizer must be one of {', '.join(ROUGE_TOKENIZERS)}, not {tokenizer!r}")


def _f(overlap: int, n_pred: int, n_ref: int) -> float:
    if not overlap:
        return 0.0
    p, r = overlap / n_pred, overlap / n_ref
    return 2 * p * r / (p + r)


def rouge_n(pred: str, ref: str, n: int, tokenizer: str = "unidic") -> float:
    pw, rw = mecab_words(pred, tokenizer), mecab_words(ref, tokenizer)
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


def rouge_l(pred: str, ref: str, tokenizer: str = "unidic") -> float:
    pw, rw = mecab_words(pred, tokenizer), mecab_words(ref, tokenizer)
    return _f(_lcs(pw, rw), len(pw), len(rw))


def bleu(preds: list[str], refs: list[str]) -> tuple[float, str]:
    """Corpus BLEU (one reference per prediction) and sacrebleu's signature."""
    from sacrebleu.metrics import BLEU

    metric = BLEU(tokenize="ja-mecab")
    score = metric.corpus_score(preds, [refs])
    return score.score, str(metric.get_signature())


def metric(name: str, rouge_tokenizer: str = "unidic") -> Callable[[str, list[str]], float]:
    """The per-item metric `name` (best over the references), ROUGE with the named tokenization."""
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")
    if rouge_tokenizer not in ROUGE_TOKENIZERS:
        raise ValueError(f"rouge tokenizer must be one of {', '.join(ROUGE_TOKENIZERS)}, not {rouge_tokenizer!r}")
    if name.startswith("rouge"):
        return lambda p, refs: max(rouge_l(p, r, rouge_tokenizer) if name == "rougeL"
                                   else rouge_n(p, r, int(name[5:]), rouge_tokenizer) for r in refs)
    return METRICS[name]


METRICS = {
    "exact_match": lambda p, refs: exact_match(p, refs),
    "char_f1": lambda p, refs: char_f1(p, refs),
    "fuzzy_ratio": lambda p, refs: fuzzy_ratio(p, refs),
    "rouge1": lambda p, refs: max(rouge_n(p, r, 1) for r in refs),
    "rouge2": lambda p, refs: max(rouge_n(p, r, 2) for r in refs),
    "rougeL": lambda p, refs: max(rouge_l(p, r) for r in refs),
}
