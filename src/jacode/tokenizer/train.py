"""`jacode tokenizer train`: SentencePiece (unigram or BPE) on Japanese, English and code.

- Japanese runs are segmented by MeCab (fugashi + unidic-lite) and the word boundaries handed to
  SentencePiece as a pretokenization delimiter, as Tanuki did: no piece crosses a Japanese word boundary,
  and nothing is inserted into the text itself (encoding needs no MeCab).
- byte fallback (no unknown characters), digits split one per piece, identity normalization, no dummy
  prefix, whitespace kept exactly: newline and tab are atomic pieces, runs of spaces may be pieces (code
  indentation), so decode(encode(x)) == x.
- FIM and chat-role special tokens; exported as a transformers tokenizer (tokenizer.json) with a chat
  template; fertility (characters per token) reported on held-out Japanese, English and code.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from jacode.config import STRICT
from jacode.data_policy import refuse_eval_only
from jacode.errors import JacodeError
from jacode.io import read_jsonl, write_json
from jacode.languages import LANGUAGES
from jacode.tokenizer import special_tokens as st

DELIMITER = "\ue000"  # private-use character: never in real text, removed by SentencePiece after splitting
_JA_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f\u3005\u30fc]+")


@dataclass
class TokenizerConfig:
    """SentencePiece on MeCab-segmented Japanese + English + code, exported for transformers."""

    __pydantic_config__ = STRICT
    inputs: Annotated[list[str], "JSONL(.gz) files with a text field, or directories of files"]
    vocab_size: Annotated[int, "pieces in the vocabulary"] = 32000
    model_type: Annotated[Literal["unigram", "bpe"], "SentencePiece model type"] = "unigram"
    mecab: Annotated[bool, "pre-segment Japanese with MeCab (pieces never cross a word boundary)"] = True
    character_coverage: Annotated[float, "SentencePiece character coverage"] = 0.9995
    heldout_every: Annotated[int, "every Nth document (by content hash) is held out for fertility"] = 50
    max_documents: Annotated[int | None, "read at most this many documents"] = None
    max_chars_per_document: Annotated[int, "longer documents are cut"] = 50_000
    seed: Annotated[int, "random seed"] = 0
    text_field: Annotated[str, "the documents' text field"] = "text"
    extra_user_symbols: Annotated[list[str], "further pieces that are never split"] = field(default_factory=list)


def iter_documents(inputs: Iterable[str], text_field: str = "text") -> Iterator[tuple[str, str]]:
    """(text, kind) from JSONL(.gz) records or plain files; kind is "ja", "code" or "en" (for fertility)."""
    for inp in inputs:
        path = Path(inp)
        if not path.exists():
            raise JacodeError(f"tokenizer input {path}: no such file or directory")
        refuse_eval_only(path)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            if f.name.endswith((".jsonl", ".jsonl.gz")):
                for i, rec in enumerate(read_jsonl(f), 1):
                    if text_field not in rec:
                        raise JacodeError(f"{f}: record {i} has no {text_field!r} field")
                    text = rec[text_field]
                    yield text, _fertility_kind(rec.get("metadata") or {}) or classify(text)
            else:
                try:
                    text = f.read_text(encoding="utf-8")
                except (UnicodeDecodeError, OSError):
                    continue
                yield text, "code" if f.suffix in CODE_SUFFIXES else classify(text)


CODE_SUFFIXES = {f".{ext}" for lang in LANGUAGES.values() for ext in lang.extensions}


def classify(text: str) -> str:
    ja = sum(1 for _ in _JA_RUN.finditer(text[:2000]))
    if ja >= 3:
        return "ja"
    code_marks = sum(text.count(m) for m in ("def ", "{", "}", ";", "return", "import "))
    return "code" if code_marks >= 3 else "en"


class MecabSegmenter:
    """Word boundaries for Japanese runs; everything else passes through untouched."""

    def __init__(self) -> None:
        try:
            import fugashi
        except ImportError as e:  # pragma: no cover - fugashi is a dependency
            raise JacodeError("MeCab segmentation needs fugashi and unidic-lite (pip)") from e
        self.tagger = fugashi.Tagger()

    def __call__(self, text: str) -> str:
        def seg(m: re.Match) -> str:
            words = [w.surface for w in self.tagger(m.group(0))]
            # MeCab may drop nothing here (no spaces inside a run), so the join restores the run exactly.
            joined = DELIMITER.join(words)
            return joined if joined.replace(DELIMITER, "") == m.group(0) else m.group(0)

        return _JA_RUN.sub(seg, text)


def split_heldout(docs: Iterable[tuple[str, str]], every: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    train, held = [], []
    for text, kind in docs:
        h = int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)
        (held if h % every == 0 else train).append((text, kind))
    return train, held


def _fertility_kind(meta: dict) -> str | None:
    """ja / en / code from a record's metadata: jacode's data pipeline writes kind (code|text) and language."""
    if meta.get("kind") in ("ja", "en", "code"):
        return meta["kind"]
    if meta.get("kind") == "text" and meta.get("language") in ("ja", "en"):
        return meta["language"]
    return None


def train_tokenizer(cfg: TokenizerConfig, out: str | Path) -> dict:
    import sentencepiece as spm

    if cfg.model_type not in ("unigram", "bpe"):
        raise JacodeError(f"model_type must be unigram or bpe, not {cfg.model_type!r}")
    docs = iter_documents(cfg.inputs, cfg.text_field)
    if cfg.max_documents:
        docs = (d for i, d in zip(range(cfg.max_documents), docs))
    train, held = split_heldout(docs, cfg.heldout_every)
    if not train:
        raise JacodeError("tokenizer training: no documents in the inputs")
    segment = MecabSegmenter() if cfg.mecab else (lambda t: t)
    sentences = (segment(text[: cfg.max_chars_per_document]) for text, _ in train)
    user_symbols = [*st.SPECIAL, *st.LAYOUT, *cfg.extra_user_symbols]
    model = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=sentences, model_writer=model, vocab_size=cfg.vocab_size, model_type=cfg.model_type,
            character_coverage=cfg.character_coverage, byte_fallback=True, split_digits=True,
            normalization_rule_name="identity", remove_extra_whitespaces=False, add_dummy_prefix=False,
            allow_whitespace_only_pieces=True, split_by_whitespace=True, pretokenization_delimiter=DELIMITER,
            user_defined_symbols=user_symbols, unk_id=0, bos_id=1, eos_id=2, pad_id=3,
            unk_piece=st.UNK, bos_piece=st.BOS, eos_piece=st.EOS, pad_piece=st.PAD,
            max_sentence_length=cfg.max_chars_per_document * 4, minloglevel=2, hard_vocab_limit=False,
        )
    except RuntimeError as e:
        raise JacodeError(f"SentencePiece training failed: {e}") from e
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sentencepiece.model").write_bytes(model.getvalue())
    tok = export_hf(model.getvalue(), cfg.model_type)
    tok.save_pretrained(out)
    fertility = measure_fertility(tok, held)
    report = {"config": asdict(cfg), "vocab_size": len(tok), "train_documents": len(train),
              "heldout_documents": len(held), "fertility_chars_per_token": fertility}
    write_json(out / "tokenizer_report.json", report)
    return report


def export_hf(model_proto: bytes, model_type: str):
    """A transformers tokenizer equivalent to the SentencePiece model (same pieces, ids and byte fallback)."""
    from sentencepiece import sentencepiece_model_pb2 as pb
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers
    from transformers import PreTrainedTokenizerFast

    proto = pb.ModelProto()
    proto.ParseFromString(model_proto)
    pieces = [(p.piece, p.score) for p in proto.pieces]
    if model_type == "unigram":
        model = models.Unigram(pieces, unk_id=0, byte_fallback=True)
    else:
        vocab = {p: i for i, (p, _) in enumerate(pieces)}
        model = models.BPE(vocab=vocab, merges=_bpe_merges(vocab, pieces), unk_token=st.UNK, byte_fallback=True,
                           fuse_unk=True)
    tok = Tokenizer(model)
    # SentencePiece writes a space as U+2581 and leaves everything else as it is (identity normalization).
    tok.normalizer = normalizers.Replace(" ", "\u2581")
    # Bytes first: a space piece missing from a small vocabulary arrives as byte-fallback tokens of U+2581.
    tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Fuse(), decoders.Replace("\u2581", " ")])
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in [*st.CONTROL, *st.SPECIAL]])
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in st.LAYOUT])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token=st.UNK, bos_token=st.BOS, eos_token=st.EOS, pad_token=st.PAD,
        additional_special_tokens=st.SPECIAL, chat_template=st.CHAT_TEMPLATE, clean_up_tokenization_spaces=False,
        add_bos_token=False, add_eos_token=False,
    )


def _bpe_merges(vocab: dict[str, int], pieces: list[tuple[str, float]]) -> list[tuple[str, str]]:
    """Merges for a SentencePiece BPE vocabulary: every split of a piece into two pieces, by piece rank."""
    merges = []
    for piece, _ in pieces:
        for i in range(1, len(piece)):
            left, right = piece[:i], piece[i:]
            if left in vocab and right in vocab:
                merges.append((vocab[piece], vocab[left], vocab[right], left, right))
    merges.sort(key=lambda m: (m[0], m[1], m[2]))
    return [(left, right) for _, _, _, left, right in merges]


def measure_fertility(tok, held: list[tuple[str, str]]) -> dict[str, float | None]:
    chars: dict[str, int] = {}
    tokens: dict[str, int] = {}
    for text, kind in held:
        chars[kind] = chars.get(kind, 0) + len(text)
        tokens[kind] = tokens.get(kind, 0) + len(tok(text, add_special_tokens=False)["input_ids"])
    return {k: (chars[k] / tokens[k] if tokens.get(k) else None) for k in ("ja", "en", "code")}


def load_report(path: str | Path) -> dict:
    return json.loads((Path(path) / "tokenizer_report.json").read_text())
