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
from jacode.train.fim import FimConfig, apply_fim


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
        if self.fim is not None and self.fim.fim_rate > 0:
            missing = [t for t in (self.fim.prefix, self.fim.middle, self.fim.suffix)
                       if self.tokenizer.convert_tokens_to_ids(t) in (None, self.tokenizer.unk_token_id)]
            if missing:
                raise JacodeError(f"FIM is on but the tokenizer lacks {', '.join(missing)}; train the tokenizer "
                                  "with jacode (it adds them) or set fim_rate 0")
        self.state = {"file": 0, "record": 0, "epoch": 0, "buffer": [], "doc_starts": [], "rng": None}
        self.rng = random.Random(self.seed)

    def state_dict(self) -> dict[str, Any]:
        return {**self.state, "rng": self.rng.getstate()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.state = {**state}
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

    def __iter__(self) -> Iterator[dict[str, list[int]]]:
        """{"input_ids": seq_len tokens, "doc_starts": positions where a document starts}."""
        eos = self.tokenizer.eos_token_id
        buffer: list[int] = self.state["buffer"]
        starts: list[int] = self.state["doc_starts"]
        docs = self._documents()
        while True:
            while len(buffer) < self.seq_len:
                try:
                    text = next(docs)
                except StopIteration:
                    return
                if self.fim is not None:
                    text, _ = apply_fim(text, self.fim, self.rng)
                starts.append(len(buffer))
                buffer.extend(self.tokenizer(text, add_special_tokens=False)["input_ids"] + [eos])
            seq, rest = buffer[: self.seq_len], buffer[self.seq_len:]
            seq_starts = sorted({0} | {s for s in starts if s < self.seq_len})
            # What is left starts the next sequence: a document cut at the boundary continues at position 0.
            starts[:] = sorted({0} | {s - self.seq_len for s in starts if s >= self.seq_len}) if rest else []
            buffer[:] = rest
            self.state["buffer"], self.state["doc_starts"] = buffer, starts
            yield {"input_ids": seq, "doc_starts": seq_starts}


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
