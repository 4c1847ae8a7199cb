"""Streaming documents -> (optional FIM) -> tokens -> fixed-length packed sequences, with a resumable state.

Documents are read lazily from JSONL(.gz) or Parquet files (never all in memory), transformed, tokenized and
concatenated with EOS between documents; every `seq_len` tokens make one training sequence. The stream's
whole position (file, record, leftover tokens, random state) is a small dict saved in each checkpoint, so
a resumed run continues with exactly the next sequence.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jacode.data_policy import refuse_eval_only
from jacode.errors import JacodeError
from jacode.io import read_jsonl
from jacode.tokenizer.plain import PlainEncoder
from jacode.train.fim import FimConfig, Sentinels, permute


def iter_records(path: Path, start: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
    """(record index, record) from `start` on, streaming; JSONL goes through jacode.io.read_jsonl."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        records: Iterator[dict[str, Any]] = (rec for batch in pq.ParquetFile(path).iter_batches(batch_size=1024)
                                             for rec in batch.to_pylist())
    else:
        records = read_jsonl(path)
    for i, rec in enumerate(records):
        if i >= start:
            yield i, rec


def data_files(inputs: list[str]) -> list[Path]:
    files: list[Path] = []
    for inp in inputs:
        p = Path(inp)
        if not p.exists():
            raise JacodeError(f"training data {p}: no such file or directory")
        refuse_eval_only(p)
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.name.endswith((".jsonl", ".jsonl.gz", ".parquet")))
        else:
            files.append(p)
    if not files:
        raise JacodeError(f"no .jsonl/.jsonl.gz/.parquet files in {inputs}")
    return files


@dataclass
class PackedStream:
    files: list[Path]
    tokenizer: Any
    seq_len: int
    fim: FimConfig | None = None
    text_field: str = "text"
    seed: int = 0
    loop: bool = True  # start over at the end (epochs), else stop

    def __post_init__(self) -> None:
        if self.tokenizer.eos_token_id is None:
            raise JacodeError("the tokenizer has no EOS token; packing needs one between documents")
        if self.fim is not None and self.fim.fim_rate <= 0:
            self.fim = None
        self.sentinels = Sentinels.of(self.tokenizer, self.fim) if self.fim else None
        self.context_fim = self.fim is not None and self.fim.level == "context"
        self.encode = PlainEncoder(self.tokenizer)
        pad = self.tokenizer.pad_token_id
        self.pad_id = self.tokenizer.eos_token_id if pad is None else pad
        # Context-level FIM cuts the text of each window's fragments, so the buffer keeps, per token, where it
        # starts in its document ("char_starts", -1 for EOS) and, per fragment, the document's remaining text.
        self.state = {"file": 0, "record": 0, "epoch": 0, "buffer": [], "doc_starts": [], "rng": None,
                      "char_starts": [], "texts": []}
        self.rng = random.Random(self.seed)
        # What context-level FIM did to the windows since this stream was made (not resumed: for logs).
        self.stats = {"fim_fragments": 0, "dropped_tokens": 0, "padded_tokens": 0}

    def state_dict(self) -> dict[str, Any]:
        return {**self.state, "rng": self.rng.getstate()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.context_fim and "texts" not in state:
            raise JacodeError("this checkpoint's data stream was saved without context-level FIM state (an older "
                              "jacode or fim_level document); resume with fim_level: document")
        self.state = {"char_starts": [], "texts": [], **state}
        rng = state["rng"]
        self.rng.setstate((rng[0], tuple(rng[1]), rng[2]))

    def _documents(self) -> Iterator[str]:
        while True:
            while self.state["file"] < len(self.files):
                path = self.files[self.state["file"]]
                for i, rec in iter_records(path, self.state["record"]):
                    self.state["record"] = i + 1
                    if self.text_field not in rec:
                        raise JacodeError(f"{path}: record {i + 1} has no {self.text_field!r} field")
                    yield rec[self.text_field]
                self.state["file"] += 1
                self.state["record"] = 0
            if not self.loop:
                return
            self.state["file"], self.state["epoch"] = 0, self.state["epoch"] + 1

    def _append(self, text: str) -> None:
        """One document's tokens (+ EOS) onto the buffer, FIM-permuted here if FIM is per document."""
        st = self.state
        st["doc_starts"].append(len(st["buffer"]))
        if self.context_fim:
            ids, offsets = self.encode.with_offsets(text)
            st["char_starts"].extend([o[0] for o in offsets] + [-1])
            st["texts"].append(text)
        else:
            fim = permute(text, self.fim, self.rng, self.encode, self.sentinels) if self.fim else None
            ids = fim[0] if fim else self.encode(text)
        st["buffer"].extend(ids + [self.tokenizer.eos_token_id])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """{"input_ids": seq_len ids, "doc_starts": where each document (fragment) starts, "length": ids before
        padding (context-level FIM lengthens or shortens fragments: the window is truncated or padded, as in
        Megatron; pretraining masks the padding out of the loss)}."""
        docs = self._documents()
        L = self.seq_len
        while True:
            st = self.state
            while len(st["buffer"]) < L:
                try:
                    self._append(next(docs))
                except StopIteration:
                    return
            buffer, starts = st["buffer"], st["doc_starts"]
            seq_starts = sorted({0} | {s for s in starts if s < L})
            window = self._context_fim(seq_starts) if self.context_fim else None
            rest = buffer[L:]
            # What is left starts the next sequence: a document cut at the boundary continues at position 0.
            if self.context_fim:
                self._carry_text(starts, rest)
            st["doc_starts"] = sorted({0} | {s - L for s in starts if s >= L}) if rest else []
            st["buffer"] = rest
            if window is None:
                yield {"input_ids": buffer[:L], "doc_starts": seq_starts, "length": L}
            else:
                yield window

    def _carry_text(self, starts: list[int], rest: list[int]) -> None:
        """Keep the text of what is left for the next window: a document cut at the boundary continues there with
        its remaining text and offsets rebased onto it."""
        st, L = self.state, self.seq_len
        n = sum(s < L for s in starts)  # fragments that started in the window just cut
        chars, texts = st["char_starts"][L:], st["texts"]
        if not rest:
            texts = []
        elif L in starts:  # the next window starts with a new document
            texts = texts[n:]
        else:
            shift = len(texts[n - 1]) if chars[0] == -1 else chars[0]
            end = chars.index(-1)
            chars[:end] = [c - shift for c in chars[:end]]
            texts = [texts[n - 1][shift:]] + texts[n:]
        st["char_starts"], st["texts"] = chars, texts

    def _context_fim(self, seq_starts: list[int]) -> dict[str, Any]:
        """The window's fragments (split at EOS), each FIM-permuted with probability fim_rate, truncated or padded
        back to seq_len (Megatron's gpt_dataset: the tail of the last fragment is lost when FIM lengthened it)."""
        st, L, eos = self.state, self.seq_len, self.tokenizer.eos_token_id
        buffer, chars = st["buffer"], st["char_starts"]
        out: list[int] = []
        out_starts: list[int] = []
        for k, lo in enumerate(seq_starts):
            hi = seq_starts[k + 1] if k + 1 < len(seq_starts) else L
            end = next((i for i in range(lo, hi) if chars[i] == -1), hi)  # the fragment's EOS, if inside
            out_starts.append(len(out))
            ids = buffer[lo:end]
            if ids:  # Megatron permutes only non-empty fragments
                text = st["texts"][k]
                stop = len(text) if chars[end] == -1 else chars[end]  # cut inside the document: next token
                fim = permute(text[chars[lo]:stop], self.fim, self.rng, self.encode, self.sentinels)
                out += fim[0] if fim else ids
                self.stats["fim_fragments"] += fim is not None
            out += [eos] * (end < hi)
        length = min(len(out), L)
        self.stats["dropped_tokens"] += len(out) - length
        self.stats["padded_tokens"] += L - length
        starts = [s for s in out_starts if s < L]
        if length < L:
            starts.append(length)  # padding is its own "document": nothing attends into it
        return {"input_ids": out[:L] + [self.pad_id] * (L - length), "doc_starts": starts, "length": length}


def block_causal_mask(doc_starts: list[list[int]], seq_len: int):
    """A (batch, 1, seq, seq) additive mask: causal, and no attention across document boundaries."""
    import torch

    mask = torch.full((len(doc_starts), 1, seq_len, seq_len), float("-inf"))
    causal = torch.tril(torch.ones(seq_len, seq_len, dtype=torch.bool))
    for b, starts in enumerate(doc_starts):
        bounds = sorted(set(starts) | {0}) + [seq_len]
        allowed = torch.zeros(seq_len, seq_len, dtype=torch.bool)
        for lo, hi in zip(bounds, bounds[1:]):
            allowed[lo:hi, lo:hi] = True
        mask[b, 0][allowed & causal] = 0.0
    return mask


def position_ids_for(doc_starts: list[list[int]], seq_len: int):
    import torch

    pos = torch.zeros(len(doc_starts), seq_len, dtype=torch.long)
    for b, starts in enumerate(doc_starts):
        bounds = sorted(set(starts) | {0}) + [seq_len]
        for lo, hi in zip(bounds, bounds[1:]):
            pos[b, lo:hi] = torch.arange(hi - lo)
    return pos
