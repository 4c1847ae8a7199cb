"""Japanese/English text quality rules in the style of the Swallow and llm-jp corpora (one thresholds table)."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

HIRAGANA = re.compile(r"[\u3041-\u309f]")
KATAKANA = re.compile(r"[\u30a1-\u30ff]")
JAPANESE = re.compile(r"[\u3041-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
SENTENCE_END = re.compile(r"[。！？!?\n]")

# ---- Japanese ------------------------------------------------------------------------------------------------
# The rules were tuned on the dev split of tests/fixtures/ja_quality.jsonl (hand-written prose, Q&A and code
# explanations against ads, SEO spam, tag lists, navigation, adult/gambling spam, machine translation, mojibake
# and empty pages); `benchmarks/bench_ja_quality.py` reports them on the held-out split. References: the Swallow
# corpus rules (Okazaki et al. 2024: script fractions, sentence lengths, Gopher repetition, NG-word share) and
# HojiChar (DiscardAds, DiscardRareKuten, DiscardTooShortLines, header/footer keywords).

# Code is not prose: fenced and indented blocks, inline code and URLs are cut out before the character statistics,
# so a code explanation is judged by its Japanese. ASCII words then count as one unit each (not one per letter):
# "PostgreSQL に接続できません" is Japanese prose, and an English page is still 0% Japanese.
FENCED_CODE = re.compile(r"^ {0,3}(```|~~~)[^\n]*\n.*?(?:^ {0,3}\1[^\n]*$|\Z)", re.M | re.S)
INDENTED_CODE = re.compile(r"^(?: {4}|\t)[^\n]*$", re.M)
INLINE_CODE = re.compile(r"`[^`\n]+`")
URL = re.compile(r"https?://[!-~]+")
BLANK_LINES = re.compile(r"\n[ \t\u3000]*(?:\n[ \t\u3000]*)+")
ASCII_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.'+/-]*")
# Text decoded with the wrong codec: UTF-8 read as CP932 turns kana into 縺/繧/繝 plus half-width katakana, EUC-JP
# read as CP932 into runs of '､', UTF-8 read as Latin-1/CP1252 into 'ã'/'å' plus C1 bytes; undecodable bytes
# become U+FFFD and some codecs map them into the private use area. Real Japanese uses none of these in bulk.
MOJIBAKE = re.compile(r"[\ufffd\u0080-\u009f\u00c0-\u00ff\ue000-\uf8ff\uff61-\uff9f縺繧繝]")
# A sentence ends at 。！？!? or at a line break after a predicate ending or a closing bracket (casual prose omits
# the 。: "意外とおいしかった"); a line break after a noun or a title ending ("会社概要", "#カフェ巡り", "営業について",
# "臨時休業のお知らせ") ends a menu item, a tag or a headline, not a sentence.
SENTENCE_STOP = re.compile(r"[。！？!?]+|(?<=[たいるうすねよなかわぞさのんだっぁぃぅぇぉゃゅょー」』）)])\n")
SENTENCE_LINE = re.compile(r"[。！？!?]|.{9}[たいるうすねよなかわぞさのんだっぁぃぅぇぉゃゅょー」』）)]\s*$")
# A space between two Japanese characters: word-by-word machine translation and space-separated keyword strings
# ("東京 脱毛 安い おすすめ"); Japanese prose puts spaces only around Latin words.
SPACED = re.compile(r"(?<=[\u3041-\u30ff\u4e00-\u9fff])[ \u3000]+(?=[\u3041-\u30ff\u4e00-\u9fff])")
# Content words for keyword stuffing: kanji compounds and katakana words. Not Latin words: a SQL explanation says
# JOIN twenty times, and that is not SEO.
KEYWORD = re.compile(r"[\u4e00-\u9fff々]{2,}|[\u30a1-\u30ffー]{3,}")

# Vocabulary. Each list is matched as one regex; a hit counts once however long it is.
# Whole compounds only where the bare word has an innocent reading: 風俗 is also "customs" (江戸の風俗), カジノ is in
# every news story on casino resorts, スロット is a memory slot, エッチ is in エッチング, ベット in アルファベット.
NG_WORDS = (  # adult, dating, gambling and scam vocabulary: (almost) never in text worth training on
    "出会い系", "激安", "今すぐクリック", "副業で月収", "無料ダウンロード", "人妻", "熟女", "セフレ", "割り切り",
    "即会い", "アダルト動画", "アダルトサイト", "無修正", "エッチな", "デリヘル", "風俗求人", "風俗店", "巨乳",
    "素人娘", "ラブグッズ", "大人のおもちゃ", "18禁", "身バレ", "オンラインカジノ", "ライブカジノ", "仮想通貨カジノ",
    "入金不要", "フリースピン", "パチスロ", "バカラ", "ブックメーカー", "ベッティング", "万馬券", "買い目", "回収率",
    "予想サイト", "必勝法", "裏設定", "勝ち組", "高額当選", "不労所得", "自動売買", "月利", "在籍確認なし",
    "ブラックでも", "審査が甘い", "審査甘い")
PROMO_WORDS = (  # ad copy, affiliate pages and get-rich pitches: offers, calls to action, hype
    # (not the everyday words they share with prose: 簡単, たった, まとめ, チェック, 確実)
    "今なら", "今だけ", "期間限定", "数量限定", "初回限定", "限定", "先着", "特別価格", "特価", "最安値", "半額", "OFF",
    "割引", "税込", "送料無料", "キャッシュバック", "プレゼント", "無料", "お申し込み", "お申込み", "申し込み",
    "ご注文", "ご予約", "ご応募", "ご来場", "ご来店", "資料請求", "お試し", "はこちら", "今すぐ", "お見逃し",
    "お早めに", "お気軽に", "ぜひ", "友だち追加", "話題の", "話題沸騰", "人気", "好評", "殺到", "突破", "必見",
    "チャンス", "お得", "驚異", "月収", "稼げ", "稼ぐ", "稼い", "誰でも", "高収入", "日給", "時給", "歓迎",
    "おすすめ", "ランキング", "徹底比較", "徹底解説", "徹底調査", "徹底検証", "口コミ", "いかがでしたか", "調べてみ",
    "返金保証", "特典", "この機会", "お客様の声", "クーポン", "お買い得", "受付中", "実施中", "販売中", "発売中")
TRANSLATIONESE = (  # what machine translation keeps and Japanese drops or never says
    # pronouns and "can": English needs them in every clause, Japanese leaves them out
    "あなたの", "あなたは", "あなたが", "あなたを", "あなたに", "私たちは", "私たちの", "私たちに", "我々", "彼らは",
    "それは", "することができ", "ことができる", "非常に",
    # clauses spliced with a comma where Japanese ends the sentence, and impossible forms
    "です、", "ます、", "でした、", "ました、", "ください、", "、しかし", "、そして、", "ませんです", "でしたです",
    "良いでした", "速いでした")
BOILERPLATE_WORDS = (  # error pages, menus, footers, share buttons (Swallow's footer list, HojiChar's header/footer)
    "ページが見つかりません", "ページは見つかりませんでした", "お探しのページ", "Not Found", "削除された可能性",
    "移動または削除", "削除されました", "JavaScript", "Cookie", "ログイン", "新規登録", "会員登録", "新規会員登録",
    "会員限定", "パスワード", "メンテナンス中", "しばらくお待ちください", "再度アクセス", "時間をおいて",
    "アクセスが集中", "検索条件", "該当する", "トップページ", "ページの先頭", "ページトップ", "先頭へ戻る",
    "All Rights Reserved", "All rights reserved", "Copyright", "©", "無断転載", "プライバシーポリシー",
    "個人情報保護方針", "利用規約", "サイトマップ", "お問い合わせ", "運営者情報", "免責事項", "前の記事", "次の記事",
    "前のページ", "次のページ", "関連記事", "人気記事", "最新記事", "スポンサーリンク", "シェア", "ツイート",
    "コメント", "アーカイブ", "カテゴリー", "タグ", "投稿", "フィード", "続きを読む", "一覧", "並び替え", "表示件数",
    "準備中", "Coming Soon", "本文なし", "テスト投稿", "エラーコード", "権利者")


@functools.cache
def _words(words: tuple[str, ...]) -> re.Pattern:
    """One alternation, longest first (a hit is counted once); an empty list matches nothing."""
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True) if w) or "(?!)")


@dataclass(frozen=True)
class TextThresholds:
    # Length is a knob of its own: the content rules below hold from ~50 characters up (tests/data/
    # test_ja_quality.py), so a corpus can drop short documents (Swallow keeps 400+ characters) or keep them (Q&A
    # answers, captions) without touching anything else.
    min_chars: int = 50
    max_chars: int = 100_000
    max_mojibake_fraction: float = 0.05  # of non-space characters
    min_japanese_fraction: float = 0.5  # of non-space characters, code cut out and ASCII words counted once
    min_hiragana_fraction: float = 0.2  # of Japanese characters: real prose is full of particles
    max_katakana_fraction: float = 0.5  # of Japanese characters: keyword lists and ad copy
    max_sentence_length: int = 1000
    max_duplicate_line_fraction: float = 0.3
    max_top_ngram_fraction: float = 0.2  # repeats of the most frequent character 10-gram, share of the text
    max_duplicate_paragraph_fraction: float = 0.3
    ng_words: tuple[str, ...] = NG_WORDS
    max_ng_words: int = 1  # hits; and at most max_ng_words_per_1000 per 1000 characters, so that an article on
    max_ng_words_per_1000: float = 2.0  # gambling addiction may name オンラインカジノ now and then
    boilerplate_words: tuple[str, ...] = BOILERPLATE_WORDS
    max_boilerplate_fraction: float = 0.2  # of non-space characters inside boilerplate phrases
    promo_words: tuple[str, ...] = PROMO_WORDS
    max_promo_per_100: float = 1.5  # hits per 100 prose characters, and at least min_promo_hits of them:
    min_promo_hits: int = 3  # one 人気 or 無料 in a short note is not an ad
    max_avg_sentence_length: int = 100  # prose characters per sentence end (HojiChar: 100, Swallow: 90)
    max_non_sentence_line_fraction: float = 0.5  # of prose characters, in lines with no sentence: menus, tags, specs
    max_spaced_per_100: float = 3.0  # spaces between two Japanese characters per 100 Japanese characters
    max_keyword_fraction: float = 0.15  # repeats of the 3 commonest content words, share of Japanese characters
    translationese_words: tuple[str, ...] = TRANSLATIONESE
    max_translationese_per_sentence: float = 0.3  # hits per sentence end, and at least min_translationese_hits:
    min_translationese_hits: int = 3  # one それは or あなたの is ordinary Japanese

    def __post_init__(self):
        # Word lists overridden in YAML (`text.japanese.ng_words: [...]`) come as lists; the regex cache needs tuples.
        for name in ("ng_words", "boilerplate_words", "promo_words", "translationese_words"):
            object.__setattr__(self, name, tuple(getattr(self, name)))


def prose_of(text: str) -> str:
    """The text with code blocks, inline code and URLs cut out (and the blank lines they leave, one break each)."""
    if "```" in text or "~~~" in text:
        text = FENCED_CODE.sub("\n", text)
    return BLANK_LINES.sub("\n\n", URL.sub(" ", INLINE_CODE.sub(" ", INDENTED_CODE.sub("", text))))


def _nonspace(text: str) -> int:
    return len("".join(text.split()))


def japanese_measures(text: str, t: TextThresholds = TextThresholds()) -> dict[str, float]:
    """Every measure the Japanese rules use, by name (for `check_japanese`, tuning and reports)."""
    prose = prose_of(text)
    ja = len(JAPANESE.findall(prose))
    stops = len(SENTENCE_STOP.findall(prose))
    # Repetition is measured on the prose too: code repeats its closing braces and fence lines by nature.
    lines = [ln.strip() for ln in prose.splitlines() if ln.strip()]
    line_chars = sum(map(len, lines)) or 1
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", prose) if p.strip()]
    promo = len(_words(t.promo_words).findall(prose))
    mt = len(_words(t.translationese_words).findall(prose))
    keywords = Counter(KEYWORD.findall(prose)).most_common(3)
    return {
        "chars": len(text),
        "mojibake": len(MOJIBAKE.findall(text)) / max(1, _nonspace(text)),
        "japanese": ja / max(1, _nonspace(ASCII_WORD.sub("a", prose))),
        "hiragana": len(HIRAGANA.findall(prose)) / max(1, ja),
        "katakana": len(KATAKANA.findall(prose)) / max(1, ja),
        "max_sentence": max((len(s) for s in SENTENCE_END.split(prose)), default=0),
        **_repetition_measures(prose, lines),
        "duplicate_paragraphs": 1 - len(set(paragraphs)) / len(paragraphs) if len(paragraphs) >= 3 else 0.0,
        "ng_words": len(_words(t.ng_words).findall(text)),
        "boilerplate": sum(map(len, _words(t.boilerplate_words).findall(text))) / max(1, _nonspace(text)),
        "promo_hits": promo,
        "promo_per_100": 100 * promo / line_chars,
        "avg_sentence": line_chars / max(1, stops),
        "non_sentence_lines": sum(len(ln) for ln in lines if not SENTENCE_LINE.search(ln)) / line_chars,
        "spaced_per_100": 100 * len(SPACED.findall(prose)) / max(1, ja),
        "keyword": sum((n - 1) * len(w) for w, n in keywords) / max(1, ja),
        "translationese_hits": mt,
        "translationese": mt / max(1, stops),
    }


# (reason, broken?) in the order they are tried; the first broken rule names the drop. Encoding and script first
# (they make every later measure meaningless), then repetition, vocabulary, and the shape of the sentences.
JAPANESE_RULES: tuple[tuple[str, Callable[[dict, TextThresholds], bool]], ...] = (
    ("mojibake", lambda m, t: m["mojibake"] > t.max_mojibake_fraction),
    ("not_japanese", lambda m, t: m["japanese"] < t.min_japanese_fraction),
    ("hiragana_fraction", lambda m, t: m["hiragana"] < t.min_hiragana_fraction),
    ("katakana_fraction", lambda m, t: m["katakana"] > t.max_katakana_fraction),
    ("sentence_length", lambda m, t: m["max_sentence"] > t.max_sentence_length),
    ("duplicate_lines", lambda m, t: m["duplicate_lines"] > t.max_duplicate_line_fraction),
    ("repeated_ngrams", lambda m, t: m["top_ngram"] > t.max_top_ngram_fraction),
    ("duplicate_paragraphs", lambda m, t: m["duplicate_paragraphs"] > t.max_duplicate_paragraph_fraction),
    ("ng_words", lambda m, t: m["ng_words"] > max(t.max_ng_words, t.max_ng_words_per_1000 * m["chars"] / 1000)),
    ("boilerplate", lambda m, t: m["boilerplate"] > t.max_boilerplate_fraction),
    ("promotional", lambda m, t: m["promo_hits"] >= t.min_promo_hits and m["promo_per_100"] > t.max_promo_per_100),
    ("avg_sentence_length", lambda m, t: m["avg_sentence"] > t.max_avg_sentence_length),
    ("non_sentence_lines", lambda m, t: m["non_sentence_lines"] > t.max_non_sentence_line_fraction),
    ("spaced_words", lambda m, t: m["spaced_per_100"] > t.max_spaced_per_100),
    ("keyword_stuffing", lambda m, t: m["keyword"] > t.max_keyword_fraction),
    ("translationese", lambda m, t: m["translationese_hits"] >= t.min_translationese_hits
     and m["translationese"] > t.max_translationese_per_sentence),
)


def check_japanese(text: str, t: TextThresholds = TextThresholds()) -> str | None:
    """The first rule the text breaks (a reason string), or None when it passes."""
    if len(text) < t.min_chars:
        return "too_short"
    if len(text) > t.max_chars:
        return "too_long"
    m = japanese_measures(text, t)
    return next((reason for reason, broken in JAPANESE_RULES if broken(m, t)), None)


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


def _repetition_measures(text: str, lines: list[str]) -> dict[str, float]:
    dup = sum(c - 1 for c in Counter(lines).values() if c > 1) / len(lines) if len(lines) >= 3 else 0.0
    grams = Counter(text[i:i + 10] for i in range(0, max(0, len(text) - 9)))
    # Repeats only (occurrences after the first): counting the first occurrence too made every text under 50
    # characters "repetitive" (one 10-gram is already 20% of a 50-character text).
    top = (grams.most_common(1)[0][1] - 1) * 10 / len(text) if grams else 0.0
    return {"duplicate_lines": dup, "top_ngram": top}


def _repetition(text: str, lines: list[str], max_dup_lines: float, max_top_ngram: float) -> str | None:
    m = _repetition_measures(text, lines)
    if m["duplicate_lines"] > max_dup_lines:
        return "duplicate_lines"
    if m["top_ngram"] > max_top_ngram:
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
