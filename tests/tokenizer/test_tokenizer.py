"""The Japanese + code tokenizer: exact round trips, special tokens, transformers export, fertility."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jacode.errors import JacodeError
from jacode.io import write_jsonl
from jacode.tokenizer import special_tokens as sp
from jacode.tokenizer.train import DELIMITER, MecabSegmenter, TokenizerConfig, train_tokenizer
from tests.support import FIXTURES

DATA = FIXTURES
STDLIB = Path(sysconfig.get_paths()["stdlib"])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("tok")
    report = train_tokenizer(TokenizerConfig(inputs=[str(DATA / "ja_corpus.jsonl"), str(STDLIB / "json"),
                                                     str(STDLIB / "email")], vocab_size=2500, heldout_every=5), out)
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(out), report, out


def roundtrip(tok, text: str) -> bool:
    return tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text


CODE_LINE = st.builds(
    lambda indent, body: indent + body,
    st.sampled_from(["", " ", "  ", "    ", "\t", "\t    ", "        ", "  \t "]),
    st.text(alphabet=st.sampled_from(list("abcxyz_019 ()[]{}:=+-*/#'\"\\.,;<>!?%") + ["日", "本", "語", "　"]),
            max_size=40),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(CODE_LINE, max_size=12), st.sampled_from(["\n", "\r\n"]))
def test_code_with_mixed_indentation_round_trips(trained, lines, newline):
    tok, _, _ = trained
    assert roundtrip(tok, newline.join(lines) + newline)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60))
def test_any_unicode_text_round_trips(trained, text):
    tok, _, _ = trained
    if DELIMITER in text or any(s in text for s in sp.CONTROL + sp.SPECIAL):
        return  # special tokens are meant to be parsed as such
    assert roundtrip(tok, text)


def test_japanese_and_code_examples(trained):
    tok, _, _ = trained
    for text in ["東京の朝は早い。通勤電車は七時を過ぎると混み始める。",
                 "def f(x):\n\tif x:\n        return 1  # コメント\n",
                 "全角スペース　と半角 スペース", "   leading and trailing   \n\n",
                 "数字1234567890は一桁ずつ"]:
        assert roundtrip(tok, text), text
    digits = tok.convert_ids_to_tokens(tok("x = 1234567", add_special_tokens=False)["input_ids"])
    assert all(len(t.strip("\u2581")) <= 1 for t in digits if any(c.isdigit() for c in t)), digits


def test_special_tokens_and_chat_template(trained):
    tok, _, _ = trained
    ids = tok.convert_tokens_to_ids([sp.UNK, sp.BOS, sp.EOS, sp.PAD, sp.FIM_PREFIX, sp.FIM_MIDDLE, sp.FIM_SUFFIX])
    assert ids == [0, 1, 2, 3, 4, 5, 6]
    text = f"{sp.FIM_PREFIX}def f():{sp.FIM_SUFFIX}\n    return 1{sp.FIM_MIDDLE}"
    toks = tok.convert_ids_to_tokens(tok(text, add_special_tokens=False)["input_ids"])
    assert toks[0] == sp.FIM_PREFIX and sp.FIM_SUFFIX in toks and toks[-1] == sp.FIM_MIDDLE
    rendered = tok.apply_chat_template([{"role": "user", "content": "こんにちは"}], tokenize=False,
                                       add_generation_prompt=True)
    assert rendered == "<|user|>\nこんにちは<|end|>\n<|assistant|>\n"
    assert tok.eos_token == sp.EOS and tok.pad_token == sp.PAD


def test_fertility_is_reported(trained):
    _, report, out = trained
    fert = report["fertility_chars_per_token"]
    assert fert["code"] and fert["code"] > 1.5
    assert fert["ja"] and fert["ja"] > 0.3
    assert (out / "sentencepiece.model").exists() and (out / "tokenizer_report.json").exists()


def test_mecab_segmentation_marks_word_boundaries_only_in_japanese():
    seg = MecabSegmenter()
    out = seg("今日は良い天気です。print('hello world')")
    assert out.replace(DELIMITER, "") == "今日は良い天気です。print('hello world')"
    assert out.count(DELIMITER) >= 3
    assert "print('hello world')" in out


def test_bad_inputs(tmp_path, bench_data):
    bad = tmp_path / "bad.jsonl"
    write_jsonl(bad, [{"content": "no text field"}])
    with pytest.raises(JacodeError, match="no 'text' field"):
        train_tokenizer(TokenizerConfig(inputs=[str(bad)], vocab_size=100), tmp_path / "o")
    with pytest.raises(JacodeError, match="evaluation data"):
        train_tokenizer(TokenizerConfig(inputs=[str(bench_data / "multipl-e")], vocab_size=100), tmp_path / "o")
    with pytest.raises(JacodeError, match="no such file"):
        train_tokenizer(TokenizerConfig(inputs=[str(tmp_path / "missing")], vocab_size=100), tmp_path / "o")


def test_bpe_variant(tmp_path):
    report = train_tokenizer(TokenizerConfig(inputs=[str(DATA / "ja_corpus.jsonl"), str(STDLIB / "json")],
                                             vocab_size=1500, model_type="bpe"), tmp_path / "bpe")
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tmp_path / "bpe")
    assert report["vocab_size"] >= 1000
    for text in ["def f(x):\n    return x + 1\n", "日本語の文章を書きます。"]:
        assert roundtrip(tok, text)


def test_space_as_byte_fallback_decodes(tmp_path):
    """A vocabulary too small to hold the space piece still decodes spaces (byte fallback of U+2581)."""
    train_tokenizer(TokenizerConfig(inputs=[str(DATA / "ja_corpus.jsonl")], vocab_size=600), tmp_path / "t")
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tmp_path / "t")
    assert roundtrip(tok, "def add(a, b):\n    return a + b")
