"""Japanese quality filter against the labelled set tests/fixtures/ja_quality.jsonl (issue 16, point 6).

The set: hand-written documents to keep (prose of 100-200, 230-310 and 650-870 characters, technical Q&A, code
explanations) and to drop (ads, SEO spam, tag lists, navigation, adult/gambling spam, machine translation, mojibake,
near-empty pages), every third one of a category held out. The rules were tuned on "dev" only; on "heldout" they
measured keep precision 0.909 and recall 0.968 (benchmarks/bench_ja_quality.py), so that split is held to 0.85,
the whole set to 0.9. One test per rule shows the reason it reports.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from datatrove.data import Document

from jacode.data.text_filters import JAPANESE_RULES, JapaneseQualityFilter, TextThresholds, check_japanese

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "ja_quality.jsonl"
ROWS = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
KEEP = ("prose_short", "prose_medium", "prose_long", "tech_qa", "code_explanation")
DROP = ("ad", "seo_spam", "tag_list", "nav_boilerplate", "adult_gambling", "mt_garbage", "mojibake", "near_empty")

CLEAN = ("週末に近所の川沿いを歩いていると、釣りをしている年配の男性に声をかけられた。"
         "今日はまだ一匹も釣れていないらしい。それでも、水面を眺めているだけで気持ちが落ち着くのだと笑っていた。")


def keep_scores(rows: list[dict], t: TextThresholds = TextThresholds()) -> tuple[float, float]:
    kept = [r for r in rows if check_japanese(r["text"], t) is None]
    right = sum(r["label"] == "keep" for r in kept)
    return right / len(kept), right / sum(r["label"] == "keep" for r in rows)


def test_fixture_is_a_labelled_set_of_distinct_documents():
    assert len(ROWS) >= 200
    assert len({r["id"] for r in ROWS}) == len(ROWS) and len({r["text"] for r in ROWS}) == len(ROWS)
    counts = Counter(r["category"] for r in ROWS)
    assert set(counts) == set(KEEP + DROP) and min(counts.values()) >= 10, counts
    for r in ROWS:
        assert r["label"] == ("keep" if r["category"] in KEEP else "drop") and r["split"] in ("dev", "heldout")
    for cat in counts:  # about a third of every category is held out
        held = sum(r["split"] == "heldout" for r in ROWS if r["category"] == cat)
        assert 0.2 <= held / counts[cat] <= 0.45, cat
    assert all(100 <= len(r["text"]) <= 200 for r in ROWS if r["category"] == "prose_short")


def test_precision_and_recall_of_keep_on_the_labelled_set():
    precision, recall = keep_scores(ROWS)
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)
    precision, recall = keep_scores([r for r in ROWS if r["split"] == "heldout"])
    assert precision >= 0.85 and recall >= 0.85, (precision, recall)
    for cat in KEEP + DROP:  # no category is given up on
        rows = [r for r in ROWS if r["category"] == cat]
        right = sum((check_japanese(r["text"]) is None) == (r["label"] == "keep") for r in rows)
        assert right / len(rows) >= 0.8, cat


FIFTY = [  # ~50-character sentences, each a document of its own
    "駅前のパン屋さんで、焼きたてのクロワッサンを二つ買いました。家に着くころにもまだ少し温かかったです。",
    "明日の定例会議は、午後二時から三階の第一会議室で行います。資料は前日の夕方までにチャットで共有してください。",
    "この関数は、入力されたリストを昇順に並べ替えて、新しいリストとして返します。元のリストは変更されません。",
    "子どもたちは、夏休みの宿題を最後の三日間でまとめて片付けるのが、わが家の毎年の恒例になっているようだ。",
    "昨日の夜から降り続いた雨は、昼過ぎになってようやく上がり、西の空には大きな虹がくっきりと浮かんでいた。",
]
SHORTER = ["今日はいい天気ですね。", "猫が窓辺で丸くなって眠っている。",
           "富士山は、日本でいちばん高い山として知られている。",
           "Pythonのリストは、append で末尾に要素を追加できます。",
           "ありがとうございました。またよろしくお願いします。"]


def test_short_clean_prose_is_not_taken_for_repetition():
    """Every 10-gram of a short text occurs once: the repetition rule counts repeats, not the first occurrence."""
    short = [r for r in ROWS if r["category"] == "prose_short"]
    assert [r["id"] for r in short if check_japanese(r["text"]) is not None] == []
    for text in FIFTY:
        assert 50 <= len(text) < 60 and check_japanese(text) is None, text
    for text in SHORTER:  # below the default length: only the length rule may object
        assert len(text) < 50 and check_japanese(text) == "too_short"
        assert check_japanese(text, TextThresholds(min_chars=0)) is None, text


def test_length_is_a_separate_knob():
    short = [r["text"] for r in ROWS if r["category"] == "prose_short"]
    assert {check_japanese(t, TextThresholds(min_chars=200)) for t in short} == {"too_short"}
    assert {check_japanese(t, TextThresholds(min_chars=50)) for t in short} == {None}
    assert {check_japanese(t, TextThresholds(min_chars=0)) for t in short + FIFTY} == {None}
    # The knob moves nothing else: a document the length rule lets through gets the same verdict at any setting.
    for r in ROWS:
        if len(r["text"]) >= 200:
            assert check_japanese(r["text"], TextThresholds(min_chars=200)) == \
                check_japanese(r["text"], TextThresholds(min_chars=0)), r["id"]
    assert TextThresholds().min_chars == 50


def test_word_lists_can_be_overridden_from_config():
    """`text.japanese` in the data config gives lists (YAML); an empty list turns that vocabulary off."""
    spam = CLEAN + "人妻・熟女とすぐ出会える無料サイトはこちら。"
    assert check_japanese(spam, TextThresholds(ng_words=["人妻", "熟女"])) == "ng_words"
    assert check_japanese(spam, TextThresholds(ng_words=[])) is None


def test_code_is_cut_out_before_the_statistics():
    """A code explanation is judged by its Japanese: the snippet's letters, braces and repeated lines don't count."""
    code = "for (int i = 0; i < n; i++) {\n    if (a[i] < 0) {\n        continue;\n    }\n}\n" * 6
    intro = ("次のループは、配列の負の要素を読み飛ばします。continue は、ループの残りの処理を飛ばして"
             "次の繰り返しに進む命令です。")
    outro = "同じ処理は、`while` で書くこともできます。"
    fenced = f"{intro}\n\n```c\n{code}```\n\n{outro}"
    indented = intro + "\n\n" + "".join(f"    {line}\n" for line in code.splitlines()) + "\n" + outro
    assert check_japanese(fenced) is None and check_japanese(indented) is None
    assert check_japanese(code) == "not_japanese"


RULE_EXAMPLES = [
    ("too_short", "短い文です。", {}),
    ("too_long", CLEAN, {"max_chars": 80}),
    ("mojibake", CLEAN.encode("utf-8").decode("cp932", errors="replace"), {}),
    ("not_japanese", "This paragraph is in English, so the Japanese rules have nothing to say about it. " * 2, {}),
    ("hiragana_fraction", "東京都千代田区丸の内一丁目、東京駅前広場周辺地域再開発計画概要説明資料。" * 3, {}),
    ("katakana_fraction", "スマートフォンやタブレットのアプリケーションをダウンロードしてインストールします。" * 2, {}),
    ("sentence_length", "これは" + "とても" * 400 + "長い文です。", {}),
    ("duplicate_lines", "\n".join(["今日はいい天気ですね。"] * 10), {}),
    ("repeated_ngrams", "ありがとうございます！" * 12, {}),
    ("duplicate_paragraphs", "\n\n".join(
        [CLEAN.replace("。", "。\n")] + ["同じ段落が何度も繰り返される文書は、質の低いページであることが多いです。"] * 3
        + ["最後の段落だけは、ほかのどの段落とも違う内容になっています。"]), {}),
    ("ng_words", CLEAN + "人妻・熟女とすぐ出会える無料サイトはこちら。", {}),
    ("boilerplate", "お探しのページは見つかりませんでした。"
     "URLが間違っているか、ページが移動または削除された可能性があります。\nトップページへ戻る", {}),
    ("promotional", "今なら初回限定で半額！送料無料でお届けします。"
     "数量限定につき、お申し込みはお早めに。詳しくは公式サイトをチェック！", {}),
    ("avg_sentence_length", "駅前の商店街では来月から毎週土曜日に朝市が開かれることになり、"
     "地元の農家や漁師が野菜や魚を持ち寄って販売するほか、子ども向けの体験コーナーや地元の高校生による"
     "演奏会なども予定されていて、市の担当者は多くの人に足を運んでもらいたいと話しており、"
     "初回は雨天決行で午前七時から正午までの予定", {}),
    ("non_sentence_lines", "はじめての方へ\nよくあるご質問\nご利用の流れ\nおすすめの使い方\nお客さまの声\n"
     "おしらせの一覧\nお問い合わせの前に\nここから先は会員の方だけが見られます。", {}),
    ("spaced_words", "クリックして ここ へ ため より 多く 情報 について 私たち の 製品 。 "
     "私たち は 提供 する 最高 品質 と 最高 価格 の ため に あなた 。", {}),
    ("keyword_stuffing", "横浜の外壁塗装なら横浜外壁塗装センターへ。"
     "横浜で外壁塗装を考えている方は、横浜外壁塗装センターに相談してください。"
     "横浜の外壁塗装の相場や、横浜で外壁塗装をするときの注意点も紹介しています。", {}),
    ("translationese", "この製品は、あなたの生活をより便利にすることができます。"
     "それは高品質の素材で作られており、あなたは長い時間それを使用することができます。"
     "私たちは、あなたがそれを気に入ることを願っています。", {}),
]


@pytest.mark.parametrize("reason,text,overrides", RULE_EXAMPLES, ids=[r for r, _, _ in RULE_EXAMPLES])
def test_each_rule_names_its_reason(reason, text, overrides):
    assert check_japanese(text, replace(TextThresholds(), **overrides)) == reason
    assert check_japanese(CLEAN, replace(TextThresholds(), **overrides)) is None or reason == "too_long"


def test_every_rule_has_an_example():
    assert {r for r, _, _ in RULE_EXAMPLES} == {"too_short", "too_long"} | {name for name, _ in JAPANESE_RULES}


def test_filter_step_counts_reasons_and_skips_other_documents():
    rows = [r for r in ROWS if r["split"] == "heldout"]
    docs = [Document(text=r["text"], id=r["id"], metadata={"language": "ja", "kind": "text"}) for r in rows]
    docs.append(Document(text="x = 1\n", id="code", metadata={"language": "ja", "kind": "code"}))
    docs.append(Document(text="An English document.", id="en", metadata={"language": "en", "kind": "text"}))
    step = JapaneseQualityFilter()
    kept = {d.id for d in step.run(docs)}
    assert {"code", "en"} <= kept
    assert kept - {"code", "en"} == {r["id"] for r in rows if check_japanese(r["text"]) is None}
    dropped = {k: v.total for k, v in step.stats.stats.items() if k.startswith("dropped_")}
    assert sum(dropped.values()) == len(docs) - len(kept) and dropped["dropped_translationese"] >= 5
