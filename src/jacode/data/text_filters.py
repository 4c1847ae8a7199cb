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
    max_duplicate_paragraph_fraction: float = 0.3
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
    repeated = _repetition(text, lines, t.max_duplicate_line_fraction, t.max_top_ngram_fraction)
    if repeated:
        return repeated
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    if len(paragraphs) >= 3 and len(set(paragraphs)) / len(paragraphs) < 1 - t.max_duplicate_paragraph_fraction:
        return "duplicate_paragraphs"
    if sum(text.count(w) for w in t.ng_words) > t.max_ng_words:
        return "ng_words"
    return None


class ProseQualityFilter(BaseFilter):
    """Applies one language's rules (`check`) to the text documents in that language; everything else passes."""

    language: str = ""
    check = None  # staticmethod(check_...) in each subclass
    default_thresholds = None

    def __init__(self, thresholds=None, exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.thresholds = thresholds if thresholds is not None else self.default_thresholds

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        if doc.metadata.get("kind") == "code" or doc.metadata.get("language") != self.language:
            return True
        reason = self.check(doc.text, self.thresholds)
        return True if reason is None else (False, reason)


class JapaneseQualityFilter(ProseQualityFilter):
    name = "🗾 Japanese quality"
    language, check, default_thresholds = "ja", staticmethod(check_japanese), TextThresholds()


# ---- English (Gopher-style rules, as used for the English part of Swallow/llm-jp mixes) ----------------------

ENGLISH_STOPWORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with", "is", "in", "it", "for"})
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*|\S+")


@dataclass(frozen=True)
class EnglishThresholds:
    min_words: int = 50
    max_words: int = 100_000
    min_avg_word_length: float = 3.0
    max_avg_word_length: float = 10.0
    max_symbol_word_ratio: float = 0.1  # '#' and '...' per word: hashtag spam, truncated listings
    min_alpha_word_fraction: float = 0.8
    min_stopwords: int = 2  # real English prose cannot avoid "the", "of", "and"
    max_bullet_line_fraction: float = 0.9
    max_ellipsis_line_fraction: float = 0.3
    max_duplicate_line_fraction: float = 0.3
    max_top_ngram_fraction: float = 0.2


def check_english(text: str, t: EnglishThresholds = EnglishThresholds()) -> str | None:
    words = _WORD.findall(text)
    if len(words) < t.min_words:
        return "too_short"
    if len(words) > t.max_words:
        return "too_long"
    mean = sum(len(w) for w in words) / len(words)
    if not t.min_avg_word_length <= mean <= t.max_avg_word_length:
        return "avg_word_length"
    if (text.count("#") + text.count("...") + text.count("…")) / len(words) > t.max_symbol_word_ratio:
        return "symbol_ratio"
    if sum(any(c.isalpha() for c in w) for w in words) / len(words) < t.min_alpha_word_fraction:
        return "alpha_words"
    if sum(w.lower() in ENGLISH_STOPWORDS for w in words) < t.min_stopwords:
        return "stopwords"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if lines:
        if sum(ln.startswith(("•", "-", "*", "·")) for ln in lines) / len(lines) > t.max_bullet_line_fraction:
            return "bullet_lines"
        if sum(ln.endswith(("...", "…")) for ln in lines) / len(lines) > t.max_ellipsis_line_fraction:
            return "ellipsis_lines"
    return _repetition(text, lines, t.max_duplicate_line_fraction, t.max_top_ngram_fraction)


def _repetition(text: str, lines: list[str], max_dup_lines: float, max_top_ngram: float) -> str | None:
    if len(lines) >= 3:
        dup = sum(c - 1 for c in Counter(lines).values() if c > 1)
        if dup / len(lines) > max_dup_lines:
            return "duplicate_lines"
    grams = Counter(text[i:i + 10] for i in range(0, max(0, len(text) - 9)))
    if grams and grams.most_common(1)[0][1] * 10 / len(text) > max_top_ngram:
        return "repeated_ngrams"
    return None


class EnglishQualityFilter(ProseQualityFilter):
    name = "🇬🇧 English quality"
    language, check, default_thresholds = "en", staticmethod(check_english), EnglishThresholds()


# ---- language check ------------------------------------------------------------------------------------------

LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> str:
    """'ja', 'en' or 'other' from the script mix and English function words.

    Japanese is recognised by kana (Chinese has hanzi but no kana); English by Latin letters plus common
    function words (which separate it from other Latin-script languages well enough for corpus routing).
    fastText's language-id model would need a download, which jacode never does at run time.
    """
    sample = text[:20_000]
    chars = sum(1 for c in sample if not c.isspace()) or 1
    kana = len(HIRAGANA.findall(sample)) + len(KATAKANA.findall(sample))
    if len(JAPANESE.findall(sample)) / chars >= 0.3 and kana / chars >= 0.05:
        return "ja"
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", sample)]
    if len(LATIN.findall(sample)) / chars >= 0.6 and words and \
            sum(w in ENGLISH_STOPWORDS for w in words) / len(words) >= 0.05:
        return "en"
    return "other"


class LanguageFilter(BaseFilter):
    """Routes text (every document whose kind is not "code"): sets metadata.language when missing, drops those
    outside `languages`, and drops documents whose declared language disagrees with the text (mislabelled shards)."""

    name = "🔤 language check"

    def __init__(self, languages: tuple[str, ...] = ("ja", "en"), exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.languages = tuple(languages)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        if doc.metadata.get("kind") == "code":
            return True
        detected = detect_language(doc.text)
        declared = doc.metadata.get("language")
        if declared and declared != detected:
            return False, "language_mismatch"
        doc.metadata["language"] = detected
        return True if detected in self.languages else (False, f"language_{detected}")
