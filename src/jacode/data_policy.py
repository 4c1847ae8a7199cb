"""Evaluation-only data must never become training data.

MultiPL-E's licence forbids using its contents as training data, and benchmark problems in a training set
make every later score meaningless. Training and synthesis commands call `refuse_eval_only` on each input
before reading it; it recognises benchmark files by their records, not by their names.
"""

from __future__ import annotations

from pathlib import Path

from jacode.errors import JacodeError
from jacode.io import read_jsonl

# Field sets that identify a benchmark record (any record having all fields of one set).
EVAL_ONLY_SIGNATURES = {
    "MultiPL-E (licence: no use as training data)": {"name", "prompt", "tests", "stop_tokens"},
    "HumanEval/JHumanEval (benchmark)": {"task_id", "prompt", "canonical_solution", "test", "entry_point"},
    "jacode benchmark results": {"task_id", "completion", "passed", "status"},
}


def eval_only_kind(record: dict) -> str | None:
    keys = set(record)
    for kind, fields in EVAL_ONLY_SIGNATURES.items():
        if fields <= keys:
            return kind
    return None


def refuse_eval_only(path: str | Path, sample: int = 20) -> None:
    """Raise JacodeError if the JSONL file (or any JSONL file in the directory) holds benchmark records."""
    path = Path(path)
    files = sorted(path.rglob("*.jsonl*")) if path.is_dir() else [path]
    for f in files:
        if not (f.name.endswith(".jsonl") or f.name.endswith(".jsonl.gz")):
            continue
        # Only the first records are read (streaming): enough to recognise a benchmark file.
        for i, rec in enumerate(read_jsonl(f)):
            kind = eval_only_kind(rec)
            if kind:
                raise JacodeError(f"{f}: record {i + 1} is evaluation data ({kind}); "
                                  "jacode does not train on benchmark data")
            if i + 1 >= sample:
                break
