"""Cut base-model output at the first stop sequence (engines may overshoot inside a token)."""

from __future__ import annotations


def truncate_at_stop(text: str, stop: list[str]) -> tuple[str, bool]:
    cut = len(text)
    for s in stop:
        i = text.find(s)
        if i != -1:
            cut = min(cut, i)
    return text[:cut], cut < len(text)
