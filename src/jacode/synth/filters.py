"""Filters for generated instructions and responses: Japanese share, length, refusals, degenerate repetition,
exact and near-duplicate removal. Each returns a reason (for the stats) or None."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from jacode.data.dedup import content_hash
from jacode.data.minhash import MinHashConfig, near_duplicate_clusters
from jacode.data.text_filters import JAPANESE

REFUSALS = re.compile(
    r"(申し訳(あり|ござい)ません(が|。)|お答えできません|お手伝いできません|回答を控え|対応(でき|致し)かねます|"
    r"I('m| am) sorry, but|I can(no|')t (help|assist)|As an AI( language model)?)", re.I)


@dataclass(frozen=True)
class TextFilterConfig:
    min_chars: int = 10
    max_chars: int = 4000
    min_japanese: float = 0.3  # share of Japanese characters among non-space, non-ASCII-code characters
    max_top_line_share: float = 0.3
    max_top_ngram_share: float = 0.3


def japanese_share(text: str) -> float:
    # Code and identifiers in an instruction are ASCII; the share is taken over the prose that remains.
    prose = [c for c in re.sub(r"```.*?```|`[^`]*`", "", text, flags=re.S) if not c.isspace()]
    return len(JAPANESE.findall("".join(prose))) / len(prose) if prose else 0.0


def degenerate(text: str, cfg: TextFilterConfig) -> bool:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) >= 4 and Counter(lines).most_common(1)[0][1] / len(lines) > cfg.max_top_line_share:
        return True
    grams = Counter(text[i:i + 8] for i in range(max(0, len(text) - 7)))
    return bool(grams) and len(text) >= 80 and grams.most_common(1)[0][1] * 8 / len(text) > cfg.max_top_ngram_share


def check_text(text: str, cfg: TextFilterConfig = TextFilterConfig(), japanese: bool = True) -> str | None:
    if len(text.strip()) < cfg.min_chars:
        return "too_short"
    if len(text) > cfg.max_chars:
        return "too_long"
    if REFUSALS.search(text):
        return "refusal"
    if degenerate(text, cfg):
        return "repetition"
    if japanese and japanese_share(text) < cfg.min_japanese:
        return "not_japanese"
    return None


def dedup(texts: list[str], near: bool = True) -> list[str | None]:
    """Per text: None to keep, or "exact_duplicate"/"near_duplicate" (the first of each group is kept)."""
    reasons: list[str | None] = [None] * len(texts)
    seen: set[str] = set()
    for i, t in enumerate(texts):
        h = content_hash(t)
        if h in seen:
            reasons[i] = "exact_duplicate"
        seen.add(h)
    if near:
        # Short texts: 3-gram characters; 32 bands of 4 rows nominate pairs from ~0.4 Jaccard on, joined at an
        # estimated 0.6 (without that check unrelated instructions chain into one cluster at scale).
        clusters = near_duplicate_clusters(texts, MinHashConfig(num_perm=128, bands=32, rows=4, ngram=3),
                                           threshold=0.6)
        for i, root in enumerate(clusters):
            if root != i and reasons[i] is None:
                reasons[i] = "near_duplicate"
    return reasons
