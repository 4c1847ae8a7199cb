"""`jacode eval build-jmultiple`: write JMultiPL-E files (MultiPL-E format) for each language."""

from __future__ import annotations

from pathlib import Path

from jacode.errors import JacodeError
from jacode.evals.code.humaneval import apply_known_fixes, normalize
from jacode.evals.code.multiple import build_jmultiple
from jacode.io import read_jsonl, write_json, write_jsonl


def build_all(jhumaneval: Path, multiple_dir: Path, out: Path, languages: list[str]) -> list[str]:
    jhe = apply_known_fixes(normalize(list(read_jsonl(jhumaneval)), str(jhumaneval)))
    report, summary = [], {}
    for lang in languages:
        src = Path(multiple_dir) / f"humaneval-{lang}-reworded.jsonl"
        if not src.exists():
            raise JacodeError(f"{src}: not found (MultiPL-E humaneval-{lang}-reworded.jsonl)")
        records, skipped = build_jmultiple(jhe, list(read_jsonl(src)))
        # Same file naming as MultiPL-E, so that --data DIR works for jmultiple-{lang}.
        write_jsonl(Path(out) / f"jhumaneval-{lang}-reworded.jsonl", records)
        summary[lang] = {"problems": len(records), "skipped": skipped}
        report.append(f"jmultiple-{lang}: {len(records)} problems"
                      + (f", {len(skipped)} skipped: {'; '.join(skipped)}" if skipped else ""))
    write_json(Path(out) / "build_info.json", {"jhumaneval": str(jhumaneval), "multiple": str(multiple_dir),
                                               "languages": summary})
    return report
