"""Progress of long work (generation, execution, judging, synthesis, training), with rate and ETA.

On a terminal: a tqdm bar. Elsewhere (a log file, CI, a recipe stage's stage.log): one plain line now and then —
"generate humaneval: 40/164 samples (24%), 3.1 samples/s, ETA 40 s" — never a stream of carriage returns. `jacode
run` shows the last line of a running stage's log, so these lines are also what a recipe's user sees live.
JACODE_PROGRESS_EVERY sets the seconds between lines (default 15).
"""

from __future__ import annotations

import os
import sys
import time


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class LogProgress:
    """tqdm's small interface (update, set_postfix, close, a context manager) as occasional log lines."""

    def __init__(self, total: int | None, desc: str, unit: str = "it", initial: int = 0,
                 every: float | None = None, stream=None):
        self.total, self.desc, self.unit, self.n = total, desc, unit, initial
        self.every = float(os.environ.get("JACODE_PROGRESS_EVERY", 15)) if every is None else every
        self.stream = stream or sys.stderr
        self.start, self.start_n = time.monotonic(), initial
        self.last, self.printed = self.start, None
        self.postfix = ""

    def line(self) -> str:
        elapsed = time.monotonic() - self.start
        rate = (self.n - self.start_n) / elapsed if elapsed > 0 else 0.0
        done = f"{self.n}/{self.total} {self.unit}s ({100 * self.n / self.total:.0f}%)" if self.total else \
            f"{self.n} {self.unit}s"
        text = f"{self.desc}: {done}, {rate:.3g} {self.unit}s/s, {_duration(elapsed)} so far"
        if self.total and rate > 0 and self.n < self.total:
            text += f", ETA {_duration((self.total - self.n) / rate)}"
        return text + (f" ({self.postfix})" if self.postfix else "")

    def _emit(self) -> None:
        print(self.line(), file=self.stream, flush=True)
        self.last, self.printed = time.monotonic(), self.n

    def update(self, n: int = 1) -> None:
        self.n += n
        if time.monotonic() - self.last >= self.every or (self.total and self.n >= self.total):
            self._emit()

    def set_postfix(self, **values) -> None:
        self.postfix = ", ".join(f"{k} {v}" for k, v in values.items())

    def close(self) -> None:
        if self.printed != self.n:
            self._emit()

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Silent:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def on_terminal() -> bool:
    return sys.stderr.isatty()


def quiet_library_bars() -> None:
    """Off a terminal, the libraries' own bars (transformers' "Loading weights", the hub's downloads, datasets'
    maps) are carriage-return noise in a log: turn them off, before those libraries are imported where possible."""
    if on_terminal():
        return
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    if "transformers" in sys.modules:
        from transformers.utils import logging

        logging.disable_progress_bar()


def progress(total: int | None, desc: str, unit: str = "it", initial: int = 0, disable: bool = False):
    """A tqdm bar on a terminal, LogProgress elsewhere (and a silent one where `disable`: other ranks)."""
    if disable:
        return LogProgress(total, desc, unit, initial, every=float("inf"), stream=_Silent())
    if on_terminal():
        from tqdm import tqdm

        return tqdm(total=total, initial=initial, desc=desc, unit=unit)
    return LogProgress(total, desc, unit, initial)
