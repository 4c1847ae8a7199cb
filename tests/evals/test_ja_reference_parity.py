"""The Japanese metrics and the JMT-Bench rating reader against the reference implementations themselves, run here
(dev extras): fuzzywuzzy 0.18.0 with python-Levenshtein (what llm-jp-eval pins for its `char_f1`), Google's
rouge_score with sacrebleu's ja-mecab words (llm-jp-eval's ROUGE) and with unidic words, and FastChat's own
`run_judge_single` and `show_result.py` (fschat). Each test skips, saying which, where its reference is absent."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
import types
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jacode.engines import make_engine
from jacode.errors import JacodeError
from jacode.evals.ja import metrics
from jacode.evals.ja.judge import FASTCHAT_RATING, FASTCHAT_RATING_BACKUP, parse_rating, parse_rating_fastchat
from jacode.evals.registry import get_benchmark
from tests.support.jmt import answer_responder, jmt_dir
from tests.support.servers import ScriptedServer

# Text that exercises what the preprocessing touches: Japanese, ASCII and full-width letters in both cases,
# punctuation (ASCII, Japanese, full-width), Latin-1 (deleted by fuzzywuzzy), combining marks, spaces of all kinds.
ALPHABET = ("東京都大阪府の猫が好きですアイウエオかなカナ一二三、。！？「」・ーabcABCxyzXYZ0123456789 _-.,!?'\"()[]"
            "ＡＢＣａｂｃ０１２３　\t\n¥éüÉ×·ßİıǅﬁ½²\u0301\u00a0①㍻")
texts = st.text(alphabet=ALPHABET, max_size=24)
NFKC = lambda s: unicodedata.normalize("NFKC", s)  # noqa: E731 — llm-jp-eval's `normalize`

FUZZY_PAIRS = [
    ("東京", "東京"), ("東京都", "東京"), ("京東", "東京"), ("", ""), ("", "東京"), ("！？", ""), ("。", "、"),
    ("Hello World", "world hello"), ("HELLO", "hello"), ("Tokyo Tower", "tokyo-tower"), ("ＡＢＣ", "abc"),
    ("１２３", "123"), ("café", "cafe"), ("a_b", "a b"), ("a¥b", "ab"), ("￥１００", "100円"), ("x²", "x2"),
    ("İstanbul", "istanbul"), ("e\u0301", "é"), ("ｶﾀｶﾅ", "カタカナ"), ("㍻", "平成"), ("①②", "12"),
    ("吾輩は 猫 である", "である 猫 吾輩は"), ("東京\n大阪", "大阪 東京"), ("Python 3.11", "python3.11"),
    ("C++ と Rust", "rust と c"), ("「東京」です。", "東京です"), ("ＧＰＵ　メモリ", "gpu メモリ"),
    ("新世紀エヴァンゲリオン", "エヴァンゲリオン"), ("織田信長", "豊臣秀吉"), ("1867年", "一八六七年"),
]


# ---- fuzzy_ratio = llm-jp-eval's char_f1 = fuzzywuzzy's token_sort_ratio / 100 ----------------------------------
@pytest.fixture(scope="module")
def fuzz():
    fuzz = pytest.importorskip("fuzzywuzzy.fuzz", reason="fuzzywuzzy (dev extra) is llm-jp-eval's char_f1")
    # llm-jp-eval pins python-Levenshtein beside fuzzywuzzy; without it fuzzywuzzy falls back to difflib and
    # computes other numbers. The reference must be the configuration llm-jp-eval runs.
    if fuzz.SequenceMatcher.__module__ != "fuzzywuzzy.StringMatcher":
        pytest.skip("fuzzywuzzy is running without python-Levenshtein (difflib): not llm-jp-eval's configuration")
    return fuzz


def test_fuzzy_ratio_is_fuzzywuzzy_token_sort_ratio_on_chosen_pairs(fuzz):
    for a, b in FUZZY_PAIRS:
        assert metrics.token_sort_ratio(a, b) == fuzz.token_sort_ratio(a, b), (a, b)
        # llm-jp-eval scores normalize(pred.strip()) against normalize(gold)
        assert metrics.fuzzy_ratio(a, [b]) == fuzz.token_sort_ratio(NFKC(a.strip()), NFKC(b)) / 100, (a, b)
        assert metrics.fuzzy_ratio(a, [b, "無関係な答え"]) >= metrics.fuzzy_ratio(a, [b])  # best over references
    # What jacode computed before, rapidfuzz 3's token_sort_ratio, is not it; nor is rapidfuzz's default_process
    # with integer rounding: fuzzywuzzy also deletes U+0080-U+00FF and keeps "_" inside a word.
    from rapidfuzz import fuzz as rf
    from rapidfuzz import utils

    differ = [(a, b) for a, b in FUZZY_PAIRS if rf.token_sort_ratio(a, b) != fuzz.token_sort_ratio(a, b)]
    assert len(differ) >= 8
    assert [(a, b) for a, b in [("café", "cafe"), ("a_b", "a b"), ("a¥b", "ab")]
            if round(rf.token_sort_ratio(a, b, processor=utils.default_process)) != fuzz.token_sort_ratio(a, b)]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=texts, b=texts)
def test_fuzzy_ratio_is_fuzzywuzzy_on_generated_text(fuzz, a, b):
    assert metrics.token_sort_ratio(a, b) == fuzz.token_sort_ratio(a, b)
    assert metrics.fuzzy_ratio(a, [b]) == fuzz.token_sort_ratio(NFKC(a.strip()), NFKC(b)) / 100


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.text(max_size=16), b=st.text(max_size=16))
def test_fuzzy_ratio_is_fuzzywuzzy_on_any_unicode(fuzz, a, b):
    assert metrics.token_sort_ratio(a, b) == fuzz.token_sort_ratio(a, b)


# ---- ROUGE: rouge_score's arithmetic over ipadic (llm-jp-eval) or unidic words ----------------------------------
class JaMecabWords:
    """llm-jp-eval's ROUGE word tokenizer: sacrebleu's ja-mecab output split on spaces."""

    def __init__(self):
        from sacrebleu.tokenizers.tokenizer_ja_mecab import TokenizerJaMecab

        self.tokenizer = TokenizerJaMecab()

    def tokenize(self, text: str) -> list[str]:
        return self.tokenizer(text).strip().split()


class UnidicWords:
    def __init__(self):
        import fugashi

        self.tagger = fugashi.Tagger()

    def tokenize(self, text: str) -> list[str]:
        return [w.surface for w in self.tagger(text)]


ROUGE_PAIRS = [
    ("猫が好きです", "犬が好きです"), ("好きです猫が", "猫が好きです"), ("", "猫が好きです"), ("", ""),
    ("国立国語研究所で働いています。", "国語研究所の研究者が働いている。"),
    ("政府は27日、新型ウイルス対策の基本方針を決めた。外出の自粛を求める。",
     "日本政府は新型コロナウイルス対策の基本方針を27日に決定し、国民に外出自粛を求めた。"),
    ("ＧＰＵを使った機械学習の研究が進んでいる！", "GPUを使う機械学習の研究は進む？"),
    ("東京、大阪、名古屋。", "名古屋、大阪、東京。"), ("Apple社の新製品 iPhone が発売された", "アップルがiPhoneを発売"),
    ("「はい」と彼は言った。", "彼は「いいえ」と言った。"),
]


@pytest.fixture(scope="module")
def rouge_scorer():
    return pytest.importorskip("rouge_score.rouge_scorer", reason="rouge_score (dev extra) is llm-jp-eval's ROUGE")


def _check_rouge(rouge_scorer, tokenizers, pred, ref):
    for name, words in tokenizers.items():
        scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], tokenizer=words)
        want = scorer.score(target=NFKC(ref), prediction=NFKC(pred))  # llm-jp-eval normalizes both first
        got = {"rouge1": metrics.rouge_n(pred, ref, 1, name), "rouge2": metrics.rouge_n(pred, ref, 2, name),
               "rougeL": metrics.rouge_l(pred, ref, name)}
        for key, value in got.items():
            assert value == pytest.approx(want[key].fmeasure, abs=1e-12), (name, key, pred, ref)
            assert metrics.metric(key, name)(pred, [ref, ""]) == pytest.approx(value, abs=1e-12)  # best of refs


def test_rouge_is_rouge_score_with_either_tokenization(rouge_scorer):
    tokenizers = {"ipadic": JaMecabWords(), "unidic": UnidicWords()}
    for pred, ref in ROUGE_PAIRS:
        _check_rouge(rouge_scorer, tokenizers, pred, ref)
    # The tokenizations differ, so the option is named in the report: 研究所 is one ipadic word, two unidic ones.
    assert metrics.mecab_words("国立国語研究所", "ipadic") == ["国立", "国語", "研究所"]
    assert metrics.mecab_words("国立国語研究所", "unidic") == ["国立", "国語", "研究", "所"]
    assert metrics.rouge_n(*ROUGE_PAIRS[4], 2, "ipadic") != metrics.rouge_n(*ROUGE_PAIRS[4], 2, "unidic")
    with pytest.raises(ValueError, match="unidic, ipadic"):
        metrics.metric("rouge2", "neologd")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pred=st.text(alphabet=ALPHABET, max_size=30), ref=st.text(alphabet=ALPHABET, max_size=30))
def test_rouge_is_rouge_score_on_generated_text(rouge_scorer, pred, ref):
    _check_rouge(rouge_scorer, {"ipadic": JaMecabWords(), "unidic": UnidicWords()}, pred, ref)


def test_xlsum_names_its_rouge_tokenizer_and_refuses_unknown_ones(tmp_path):
    from jacode.evals.ja.metric_tasks import MetricTaskConfig, run_metric_task
    from jacode.evals.run import run_benchmark

    data = tmp_path / "xlsum.jsonl"
    data.write_text(json.dumps({"text": "記事", "summary": "国立国語研究所の研究者が働いている。"},
                               ensure_ascii=False) + "\n")
    server = ScriptedServer(default=("ok", "国立国語研究所で働いています。"))
    engine = make_engine("openai", endpoint=server.url, model_name="m")
    bench = get_benchmark("xlsum")
    try:
        reports = {tok: run_metric_task(engine, tmp_path / tok, MetricTaskConfig(
            task="xlsum", data=str(data), settings=bench.settings, options={"rouge_tokenizer": tok}))
            for tok in ("unidic", "ipadic")}
        with pytest.raises(JacodeError, match="option rouge_tokenizer must be one of unidic, ipadic"):
            run_benchmark("xlsum", tmp_path / "bad", endpoint=server.url, model_name="m", data=str(data),
                          options={"rouge_tokenizer": "neologd"})
    finally:
        server.stop()
    assert bench.options == {"rouge_tokenizer": "unidic"}
    pred, ref = "国立国語研究所で働いています。", "国立国語研究所の研究者が働いている。"
    for tok, r in reports.items():
        assert r["rouge_tokenizer"] == tok and tok in metrics.ROUGE_TOKENIZERS and r["tokenization"]
        assert r["metrics"]["rouge2"] == pytest.approx(metrics.rouge_n(pred, ref, 2, tok))
    assert "ipadic" in reports["ipadic"]["tokenization"] and "unidic" in reports["unidic"]["tokenization"]
    assert not (tmp_path / "bad" / "predictions.jsonl").exists()  # refused before any answer was asked for


# ---- JMT-Bench ratings: FastChat's own code -------------------------------------------------------------------
@pytest.fixture(scope="module")
def fastchat():
    """fschat's fastchat.llm_judge.common and show_result, imported as they are. common.py imports the openai and
    anthropic clients for its API calls, which these tests replace; where those packages are absent, empty
    modules stand in for them during the import."""
    pytest.importorskip("fastchat", reason="fschat (dev extra) is FastChat's MT-Bench judge")
    stubs = [m for m in ("openai", "anthropic") if importlib.util.find_spec(m) is None]
    for m in stubs:
        sys.modules[m] = types.ModuleType(m)
    try:
        common = importlib.import_module("fastchat.llm_judge.common")
        show_result = importlib.import_module("fastchat.llm_judge.show_result")
    finally:
        for m in stubs:
            sys.modules.pop(m, None)
    return types.SimpleNamespace(common=common, show_result=show_result)


def fastchat_rating(fc, judgment: str):
    """FastChat's run_judge_single on a judge that answers `judgment`: the rating it records (-1: none)."""
    common = fc.common
    judge = common.Judge("gpt-4", {"system_prompt": "", "prompt_template": "{question}\n{answer}",
                                   "output_format": "[[rating]]"})
    real = common.chat_completion_openai
    common.chat_completion_openai = lambda *args, **kwargs: judgment
    try:
        rating, _, text = common.run_judge_single({"turns": ["質問"]}, {"choices": [{"turns": ["回答"]}]}, judge,
                                                  None)
    finally:
        common.chat_completion_openai = real
    assert text == judgment
    return rating


RATING_TEXTS = ["評価：[[5]]", "理由…評価：[[10]]", "[[3]] then [[4]]", "評価：[[6]] いや [[7]]", "評価: [8]",
                "[[11]]", "[[0]]", "[[7.5]]", "[[5.]]", "参考文献[1]を見よ。評価：[[6]]", "参考文献[1]を見よ。評価は6",
                "よく書けています。", "評価：[[ 7 ]]", "Rating: [[9]]", "[[[8]]]", "[2.5]", "", "[[1e3]]", "[[8/10]]"]


def test_fastchat_mode_reads_ratings_as_fastchat_does(fastchat):
    assert FASTCHAT_RATING.pattern == fastchat.common.one_score_pattern.pattern
    assert FASTCHAT_RATING_BACKUP.pattern == fastchat.common.one_score_pattern_backup.pattern
    for text in RATING_TEXTS:
        want = fastchat_rating(fastchat, text)
        got = parse_rating_fastchat(text)
        assert (got is None and want == -1) or got == float(want), (text, got, want)
    # Where FastChat stops with an exception (ast.literal_eval on a leading zero or a non-ASCII digit), jacode
    # reads the number.
    for text, value in (("[[07]]", 7.0), ("評価：[[５]]", 5.0)):
        with pytest.raises((SyntaxError, ValueError)):
            fastchat_rating(fastchat, text)
        assert parse_rating_fastchat(text) == value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet="[]0123456789. 評価：[[]]Rating", max_size=20))
def test_fastchat_mode_reads_generated_answers_as_fastchat_does(fastchat, text):
    try:
        want = fastchat_rating(fastchat, text)
    except (SyntaxError, ValueError):
        return  # FastChat itself stops here (a leading zero); jacode reads the number
    got = parse_rating_fastchat(text)
    assert (got is None and want == -1) or got == float(want)


# One answer style per (question, turn): (judge's answer, FastChat's reading, strict reading)
STYLES = [[("理由。評価：[[6]] いや [[7]]", 6, None), ("理由。評価：[[8]]", 8, 8)],
          [("評価: [9]", 9, None), ("[[11]] です", 11, None)],
          [("よく書けています。", None, None), ("評価：[[4]]", 4, 4)],
          [("評価：[[ 5 ]]", None, 5), ("[[3]]", 3, 3)]]


def test_jmt_bench_fastchat_mode_scores_as_fastchat_show_result(bench_data, fastchat, tmp_path):
    """jmt-bench's default: each judgment asked once and read as FastChat reads it; the means are what FastChat's
    show_result.py prints for the same judgments (score -1 left out); the report says which mode and how many
    judgments strict mode reads differently."""
    from jacode.evals.ja.jmt_bench import JMTConfig, run_jmt

    src = bench_data / "japanese-mt-bench-swallow"
    if not src.is_dir():
        pytest.skip(f"{src} not found")
    data, chosen = jmt_dir(src, tmp_path)

    def judge_answer(path, body):
        prompt = body["messages"][-1]["content"]
        i = next(i for i, q in enumerate(chosen) if q["turns"][0] in prompt)
        return STYLES[i]["二つ目の回答です。" in prompt][0]

    answers, judge = ScriptedServer(responder=answer_responder), ScriptedServer(responder=judge_answer)
    bench = get_benchmark("jmt-bench")
    try:
        report = run_jmt(make_engine("openai", endpoint=answers.url, model_name="m"),
                         make_engine("openai", endpoint=judge.url, model_name="j"), tmp_path / "out",
                         JMTConfig(data=str(data), settings=bench.settings, judge_settings=bench.judge_settings,
                                   parse_mode=bench.options["parse_mode"]))
    finally:
        answers.stop()
        judge.stop()
    assert bench.options["parse_mode"] == "fastchat" and len(judge.requests) == 8  # asked once each, no retry
    rows = [json.loads(line) for line in (tmp_path / "out" / "judgments.jsonl").read_text().splitlines()]
    by_key = {(chosen.index(next(q for q in chosen if str(q["question_id"]) == r["question_id"])), r["turn"]): r
              for r in rows}
    for (i, turn), r in by_key.items():
        text, fc, strict = STYLES[i][turn - 1]
        assert r["raw"] == [text] and r["attempts"] == 1 and r["parse_mode"] == "fastchat"
        assert r["rating"] == fc and parse_rating(text, 1, 10) == strict
        assert fastchat_rating(fastchat, text) == (-1 if fc is None else fc)  # FastChat's own reading
    # FastChat's show_result.py over the same judgments, in its model_judgment format
    judgments = tmp_path / "gpt-4_single.jsonl"
    judgments.write_text("".join(json.dumps({
        "question_id": r["question_id"], "model": "m", "judge": ["gpt-4", "single-v1"], "user_prompt": "",
        "judgment": r["raw"][-1], "score": fastchat_rating(fastchat, r["raw"][-1]), "turn": r["turn"], "tstamp": 0},
        ensure_ascii=False) + "\n" for r in rows))
    printed = []
    fastchat.show_result.print = lambda *args, **kwargs: printed.extend(args)  # capture its DataFrames
    try:
        fastchat.show_result.display_result_single(argparse.Namespace(
            input_file=str(judgments), model_list=None, bench_name="mt_bench", judge_model="gpt-4"))
    finally:
        del fastchat.show_result.print
    turn1, turn2, average = [x for x in printed if hasattr(x, "loc")]
    assert report["turn1"]["mean"] == pytest.approx(float(turn1.loc[("m", 1), "score"])) == pytest.approx(7.5)
    assert report["turn2"]["mean"] == pytest.approx(float(turn2.loc[("m", 2), "score"])) == pytest.approx(6.5)
    assert report["overall"]["mean"] == pytest.approx(float(average.loc["m", "score"])) == pytest.approx(41 / 6)
    assert report["scores"]["rating_1_10"] == report["overall"]["mean"] and report["overall"]["n"] == 6
    assert report["failed_judgments"] == 2 and report["parse_mode"] == "fastchat"
    p = report["parse"]
    assert (p["mode"], p["retries"], p["other_mode"], p["other_mode_reads_differently"]) == ("fastchat", 0, "strict", 4)
    md = (tmp_path / "out" / "scores.md").read_text()
    assert "parse mode fastchat; strict mode reads 4 of 8 judgments differently" in md
    scores = json.loads((tmp_path / "out" / "scores.json").read_text())
    assert scores["parse"]["other_mode_reads_differently"] == 4 and scores["parse_mode"] == "fastchat"


def test_parse_mode_is_a_benchmark_option_from_the_command_line(bench_data, tmp_path):
    """`--parse-mode strict` reaches the report; an unknown mode fails before any answer is asked for."""
    from typer.testing import CliRunner

    from jacode.cli import app
    from tests.support.jmt import jmt_questions

    data, chosen = jmt_questions(bench_data, tmp_path)
    answers = ScriptedServer(responder=answer_responder)
    judge = ScriptedServer(responder=lambda path, body: "理由。評価：[[6]] いや [[7]]")  # strict: never parses
    base = ["eval", "run", "--benchmark", "jmt-bench", "--endpoint", answers.url, "--model-name", "m",
            "--judge-endpoint", judge.url, "--judge-model", "j", "--data", str(data)]
    try:
        bad = CliRunner().invoke(app, [*base, "--parse-mode", "lenient", "--out", str(tmp_path / "bad")])
        asked = len(answers.requests)
        strict = CliRunner().invoke(app, [*base, "--parse-mode", "strict", "--out", str(tmp_path / "strict")])
    finally:
        answers.stop()
        judge.stop()
    assert bad.exit_code == 2 and "parse_mode must be one of fastchat, strict, not 'lenient'" in bad.output
    assert asked == 0
    # strict: every judgment asked 3 times (2 retries), none parses, so no score: the run fails and says so.
    assert strict.exit_code != 0 and "no rating_1_10 score" in strict.output
    report = json.loads((tmp_path / "strict" / "scores.json").read_text())
    assert report["parse"]["mode"] == "strict" and report["failed_judgments"] == 2 * len(chosen)
    assert report["parse"]["other_mode_reads_differently"] == 2 * len(chosen)  # FastChat reads 6 in each
    assert len(judge.requests) == 3 * 2 * len(chosen)
