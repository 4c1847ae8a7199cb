"""Fill-in-the-Middle at the character level, per document, before tokenization (as in the FIM paper).

A document is cut at two random character positions into prefix / middle / suffix and rearranged in PSM
(prefix, suffix, middle) or SPM (suffix, prefix, middle) order with sentinel tokens. Cutting Python strings
cuts between code points, so a multi-byte UTF-8 character is never split. The same sentinel layout is
used by the FIM evaluation (jacode.evals.code.fim.FimFormat), so what a model learns is what it is tested on.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from jacode.tokenizer import special_tokens as st
from jacode.tokenizer.fim import FimFormat


@dataclass(frozen=True)
class FimConfig:
    fim_rate: float = 0.5  # share of documents transformed
    fim_spm_rate: float = 0.5  # share of transformed documents in SPM order
    prefix: str = st.FIM_PREFIX
    middle: str = st.FIM_MIDDLE
    suffix: str = st.FIM_SUFFIX


def split_points(n: int, rng: random.Random) -> tuple[int, int]:
    a, b = sorted((rng.randint(0, n), rng.randint(0, n)))
    return a, b


def apply_fim(text: str, cfg: FimConfig, rng: random.Random) -> tuple[str, str | None]:
    """(text to train on, order) where order is "psm", "spm" or None (left as it is)."""
    if cfg.fim_rate <= 0 or rng.random() >= cfg.fim_rate:
        return text, None
    a, b = split_points(len(text), rng)
    prefix, middle, suffix = text[:a], text[a:b], text[b:]
    order = "spm" if rng.random() < cfg.fim_spm_rate else "psm"
    fmt = FimFormat(prefix=cfg.prefix, suffix=cfg.suffix, middle=cfg.middle, order=order)
    return fmt.prompt(prefix, suffix) + middle, order


def undo_fim(text: str, cfg: FimConfig) -> str:
    """The original document back from a FIM-transformed one (for tests and debugging)."""
    if not text.startswith(cfg.prefix):
        return text
    body = text[len(cfg.prefix):]
    if body.startswith(cfg.suffix):  # SPM: <pre><suf>SUFFIX<mid>PREFIX MIDDLE
        suffix, rest = body[len(cfg.suffix):].split(cfg.middle, 1)
        return rest + suffix  # rest = prefix + middle
    prefix, rest = body.split(cfg.suffix, 1)
    suffix, middle = rest.split(cfg.middle, 1)
    return prefix + middle + suffix
