"""A benchmark's reference solutions: what `eval check` runs, and what per-task time limits are measured on."""

from __future__ import annotations

from pathlib import Path

from jacode.io import read_jsonl

REFERENCES = Path(__file__).parent / "code" / "references"


def reference_solutions(bench, problems: dict) -> dict[str, str]:
    """task_id -> reference completion: the data's own, else jacode's (written for jacode, in the package)."""
    refs = {t: p["canonical_solution"] for t, p in problems.items() if p.get("canonical_solution") is not None}
    ours = REFERENCES / f"humaneval-{bench.language}.jsonl"
    if not refs and ours.exists():
        refs = {r["name"]: r["completion"] for r in read_jsonl(ours) if r["name"] in problems}
    return refs
