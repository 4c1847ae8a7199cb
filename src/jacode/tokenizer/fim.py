"""Fill-in-the-middle formats: sentinels and order, shared by training (jacode.train.fim) and the FIM benchmarks
(jacode.evals.code.fim), so that a model is asked in the format it was trained with."""

from __future__ import annotations

from dataclasses import dataclass

from jacode.errors import JacodeError


@dataclass(frozen=True)
class FimFormat:
    """Sentinels and order. Defaults are StarCoder's; Code Llama uses "<PRE>", "<SUF>", "<MID>"."""

    prefix: str = "<fim_prefix>"
    suffix: str = "<fim_suffix>"
    middle: str = "<fim_middle>"
    order: str = "psm"  # psm: prefix, suffix, middle | spm: suffix first, then prefix

    def __post_init__(self) -> None:
        if self.order not in ("psm", "spm"):
            raise JacodeError(f"FIM order must be psm or spm, not {self.order!r}")

    def prompt(self, prefix: str, suffix: str) -> str:
        if self.order == "psm":
            return f"{self.prefix}{prefix}{self.suffix}{suffix}{self.middle}"
        # SPM as in the FIM paper / StarCoder: suffix first; the prefix continues right before the middle.
        return f"{self.prefix}{self.suffix}{suffix}{self.middle}{prefix}"


def parse_fim_tokens(spec: str | None) -> tuple[str, str, str] | None:
    if not spec:
        return None
    parts = spec.split(",")
    if len(parts) != 3 or not all(parts):
        raise JacodeError(f"--fim-tokens needs three comma-separated sentinels PREFIX,SUFFIX,MIDDLE, not {spec!r}")
    return parts[0], parts[1], parts[2]
