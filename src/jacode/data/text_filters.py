"""Japanese/English text quality rules in the style of the Swallow and llm-jp corpora (one thresholds table)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

HIRAGANA = re.compile(r"[\u3041-\u309f]")
KATAKANA = re.compile(r"[\u30a1-\u30ff]")
JAPANESE = re.compile(r"[\u3041-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
SENTENCE_END = re.compile(r"[。！？!?\n]")


@dataclass(frozen=True)
class TextThresholds:
    min_chars: int = 200
    max_chars: int = 100_000
    min_hiragana_fraction: float = 0.2  # of Japanese characters: real prose is full of particles
    max_katakana_fraction: float = 0.5  # of Japanese characters: keyword lists and ad copy
    min_japanese_fraction: float = 0.5  # of all non-space characters
    max_avg_sentence_length: int = 250
    max_sentence_length: int = 1000
    max_duplicate_line_fraction: float = 0.3
    max_top_ngram_fraction: float = 0.2  # most frequent character 10-gram's share of the text
    ng_words: tuple[str, ...] = field(default=("出会い系", "激安", "今すぐクリック", "副業で月収", "無料ダウンロード"))
    max_ng_words: int = 2


def check_japanese(text: str, t: TextThresholds = TextThresholds()) -> str | None:
    if len(text) < t.min_chars:
        return "too_short"
    if len(text) > t.max_chars:
        return "too_long"
    chars = [c for c in text if not c.isspace()]
    ja = len(JAPANESE.findall(text))
    if not chars or ja / len(chars) < t.min_japanese_fraction:
        return "not_japanese"
    if len(HIRAGANA.findall(text)) / ja < t.min_hiragana_fraction:
        return "hiragana_fraction"
    if len(KATAKANA.findall(text)) / ja > t.max_katakana_fraction:
        return "katakana_fraction"
    sentences = [s for s in SENTENCE_END.split(text) if s.strip()]
    if sentences:
        if max(len(s) for s in sentences) > t.max_sentence_length:
            return "sentence_length"
        if sum(len(s) for s in sentences) / len(sentences) > t.max_avg_sentence_length:
            return "avg_sentence_length"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) >= 3:
        dup = sum(c - 1 for c in Counter(lines).values() if c > 1)
        if dup / len(lines) > t.max_duplicate_line_fraction:
            return "duplicate_lines"
    grams = Counter(text[i:i + 10] for i in range(0, max(0, len(text) - 9)))
    if grams and grams.most_common(1)[0][1] * 10 / len(text) > t.max_top_ngram_fraction:
        return "repeated_ngrams"
    if sum(text.count(w) for w in t.ng_words) > t.max_ng_words:
        return "ng_words"
    return None


class JapaneseQualityFilter(BaseFilter):
    name = "🗾 Japanese quality"

    def __init__(self, thresholds: TextThresholds = TextThresholds(), exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.thresholds = thresholds

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        reason = check_japanese(doc.text, self.thresholds)
        return True if reason is None else (False, reason)
