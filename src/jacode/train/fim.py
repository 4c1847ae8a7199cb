"""Fill-in-the-Middle as bigcode's Megatron-LM (StarCoder) does it: character-level cuts, each part tokenized alone.

`permute` takes one piece of text, and with probability `fim_rate` cuts it at two uniform character positions
(a boundary may be 0 or len, and both may coincide: empty prefix, suffix or middle are allowed) into prefix /
middle / suffix. Each part is tokenized on its own — so that training sees the token boundaries an inference
prompt has (a prompt that ends at `ret` must not be learned as `return`) — and laid out with sentinel ids:

    PSM: <fim_prefix> prefix <fim_suffix> suffix <fim_middle> middle
    SPM: <fim_prefix> <fim_suffix> suffix <fim_middle> prefix middle      (Megatron's SPM, "variant 2")

with probability `fim_spm_rate` for SPM. The random draws happen in Megatron's order (apply?, cuts, SPM?).

Where the text comes from is the `level`:
- "context" (default, Megatron's): each document fragment inside a training window (the window is split at EOS);
  the middle is then always trained in the same window as its prefix and suffix.
- "document": each whole document before packing (the FIM paper's description); for a document longer than the
  window the middle usually lands in another window than its context and is learned as plain text.
The sentinel layout is the one the FIM benchmarks ask with (jacode.tokenizer.fim.FimFormat).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jacode.errors import JacodeError
from jacode.tokenizer import special_tokens as st

FIM_LEVELS = ("context", "document")


@dataclass(frozen=True)
class FimConfig:
    fim_rate: float = 0.5  # share of fragments (context level) or documents (document level) transformed
    fim_spm_rate: float = 0.5  # share of transformed ones in SPM order
    level: str = "context"
    prefix: str = st.FIM_PREFIX
    middle: str = st.FIM_MIDDLE
    suffix: str = st.FIM_SUFFIX

    def __post_init__(self) -> None:
        if self.level not in FIM_LEVELS:
            raise JacodeError(f"fim_level must be one of {', '.join(FIM_LEVELS)}, not {self.level!r}")
        for name in ("fim_rate", "fim_spm_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise JacodeError(f"{name} must be between 0 and 1, not {getattr(self, name)}")


@dataclass(frozen=True)
class Sentinels:
    prefix: int
    middle: int
    suffix: int

    @classmethod
    def of(cls, tokenizer: Any, cfg: FimConfig) -> Sentinels:
        ids = {t: tokenizer.convert_tokens_to_ids(t) for t in (cfg.prefix, cfg.middle, cfg.suffix)}
        missing = [t for t, i in ids.items() if i is None or i == tokenizer.unk_token_id]
        if missing:
            raise JacodeError(f"FIM is on but the tokenizer lacks {', '.join(missing)}; train the tokenizer "
                              "with jacode (it adds them) or set fim_rate 0")
        return cls(ids[cfg.prefix], ids[cfg.middle], ids[cfg.suffix])


def split_points(n: int, rng: random.Random) -> tuple[int, int]:
    """Two sorted cut positions, each uniform on 0..n (Megatron: np_rng.randint(0, n + 1, size=2), sorted)."""
    a, b = sorted((rng.randint(0, n), rng.randint(0, n)))
    return a, b


def permute(text: str, cfg: FimConfig, rng: random.Random, encode: Callable[[str], list[int]],
            sentinels: Sentinels) -> tuple[list[int], str] | None:
    """(FIM token ids, "psm" | "spm"), or None when this text is left as it is (probability 1 - fim_rate)."""
    if cfg.fim_rate <= 0 or rng.random() >= cfg.fim_rate:
        return None
    a, b = split_points(len(text), rng)
    prefix, middle, suffix = encode(text[:a]), encode(text[a:b]), encode(text[b:])
    if rng.random() < cfg.fim_spm_rate:
        return [sentinels.prefix, sentinels.suffix, *suffix, sentinels.middle, *prefix, *middle], "spm"
    return [sentinels.prefix, *prefix, sentinels.suffix, *suffix, sentinels.middle, *middle], "psm"
