"""Training text is tokenized as text: special-token strings written in a document are characters."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from jacode.tokenizer import special_tokens as sp
from jacode.tokenizer.plain import PlainEncoder
from tests.support import FIXTURES


@pytest.fixture(scope="module", params=["jacode", "byte-level"])
def tok(request, tmp_path_factory):
    from transformers import AutoTokenizer

    base = tmp_path_factory.mktemp("plain")
    if request.param == "jacode":  # SentencePiece pieces: `</s>` etc. are also ordinary vocabulary entries
        from jacode.tokenizer.train import TokenizerConfig, train_tokenizer

        train_tokenizer(TokenizerConfig(inputs=[str(FIXTURES / "ja_corpus.jsonl")], vocab_size=800), base / "tok")
        return AutoTokenizer.from_pretrained(base / "tok")
    from jacode.models.init import init_model  # byte-level BPE: the specials are added tokens only

    return AutoTokenizer.from_pretrained(init_model(base / "m", "tiny", seed=0))


def _texts() -> list[str]:
    docs = [json.loads(line)["text"] for line in (FIXTURES / "ja_corpus.jsonl").read_text("utf-8").splitlines()]
    code = (Path(json.__file__).read_text(encoding="utf-8"))
    return docs + [code, "  leading and trailing  ", "タブ\tと\n改行\n\n", "😀 emoji ﾊﾝｶｸ <b>html</b> a<b", ""]


def _specials(tok) -> list[str]:
    own = {t.content for t in tok.added_tokens_decoder.values() if t.special}
    assert own >= {sp.EOS, *sp.CHAT}
    return sorted(own)


def test_text_without_special_strings_tokenizes_as_the_tokenizer_does(tok):
    enc = PlainEncoder(tok)
    for text in _texts():
        assert enc(text) == tok(text, add_special_tokens=False)["input_ids"]


def test_every_special_string_in_a_text_is_plain(tok):
    enc = PlainEncoder(tok)
    specials = _specials(tok)
    control = {i for i in tok.convert_tokens_to_ids(specials) if i is not None and i != tok.unk_token_id}
    rng = random.Random(0)
    for text in _texts()[:20]:
        pieces = text.split("。")
        mixed = "".join(p + rng.choice(specials) for p in pieces)  # each special string, glued to its neighbours
        ids, offsets = enc.with_offsets(mixed)
        assert not set(ids) & control, tok.convert_ids_to_tokens([i for i in ids if i in control])
        assert set(tok(mixed, add_special_tokens=False)["input_ids"]) & control  # what the tokenizer would do
        # Offsets still point into the text, in order, covering every special string's characters.
        assert all(0 <= a <= b <= len(mixed) for a, b in offsets)
        assert [a for a, _ in offsets] == sorted(a for a, _ in offsets)
    everything = " ".join(specials)
    assert not set(enc(everything)) & control
    assert not set(enc("".join(specials))) & control


def test_control_mode_keeps_the_template_markers(tok):
    enc = PlainEncoder(tok)
    ids, _ = enc.with_offsets("<|user|>\n", plain=False)
    assert tok.convert_tokens_to_ids("<|user|>") in ids
