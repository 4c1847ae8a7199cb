"""Helpers shared by the tests (and the benchmark scripts): one place for each.

- `tests.support` (this module): where things are (the repository, fixtures, benchmark data) and a headless
  Chromium driver.
- `tests.support.servers`: real HTTP servers on 127.0.0.1 (a scripted OpenAI-compatible server, jacode's own
  server on a model, an ASGI app).
- `tests.support.jmt`: a few Japanese MT-Bench questions cut from the real data, and scripted answers for them.
- `tests.support.corpus`: a small raw corpus with planted duplicates and junk for the data pipeline.
- `tests.support.mutants`: deterministic wrong versions of reference solutions (for verdict agreement).
- `tests.support.toolchains`: compile and run split programs on the local toolchains, outside any sandbox.
- `tests.support.crashy_parser`: a parser that crashes on purpose (the syntax filter's worker isolation).

Fixtures (pytest's) are in tests/conftest.py; they use these.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"  # small files the tests own (a Japanese corpus)


def benchmark_data_dir() -> Path:
    """$JACODE_BENCHMARK_DATA, default ../shared/benchmarks beside the repository (never copied into it)."""
    return Path(os.environ.get("JACODE_BENCHMARK_DATA", REPO.parent / "shared" / "benchmarks"))


def chromium_driver():
    """Headless Chromium through Selenium (Debian's chromium and chromium-driver; `make test` installs them)."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("headless browser test needs Debian's chromium and chromium-driver (make test installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,900",
                "--lang=ja"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path=driver), options=opts)
