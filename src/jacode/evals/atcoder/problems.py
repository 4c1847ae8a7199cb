"""AtCoder-style problems: a directory per problem.

    PROBLEM/
      statement.md           the statement (Japanese), with the sample cases
      problem.toml           title, time_limit_s, memory_mb, checker = "exact" | "float" | "special"
                             (float: abs_tol, rel_tol; special: checker.py beside it)
      cases/NAME.in, NAME.out  sample-* cases are shown in the statement; the others are hidden
      checker.py             special judge: `python3 checker.py INPUT EXPECTED OUTPUT`, exit 0 = accepted
      ref.py, ref.cpp        reference solutions (used by `jacode eval check`)

The embedded default set (`atcoder-mini`) lives in jacode/evals/atcoder/problems: original problems written
for jacode.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from jacode.errors import JacodeError

DEFAULT_DIR = Path(__file__).parent / "problems"
CHECKERS = ("exact", "float", "special")


def load_problem(d: Path) -> dict[str, Any]:
    toml_path = d / "problem.toml"
    if not toml_path.exists():
        raise JacodeError(f"{d}: no problem.toml")
    try:
        meta = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise JacodeError(f"{toml_path}: {e}") from None
    checker = meta.get("checker", "exact")
    if checker not in CHECKERS:
        raise JacodeError(f"{toml_path}: checker must be one of {', '.join(CHECKERS)}, not {checker!r}")
    if checker == "special" and not (d / "checker.py").exists():
        raise JacodeError(f"{d}: checker = 'special' needs checker.py")
    statement = d / "statement.md"
    if not statement.exists():
        raise JacodeError(f"{d}: no statement.md")
    cases = []
    for inp in sorted((d / "cases").glob("*.in")):
        out = inp.with_suffix(".out")
        if not out.exists():
            raise JacodeError(f"{inp}: no matching {out.name}")
        cases.append({"name": inp.stem, "input": str(inp), "output": str(out)})
    if not cases:
        raise JacodeError(f"{d}/cases: no *.in/*.out cases")
    # Samples first (they are shown), then hidden cases, each group in name order.
    cases.sort(key=lambda c: (not c["name"].startswith("sample"), c["name"]))
    refs = {lang: (d / f"ref.{ext}").read_text(encoding="utf-8")
            for lang, ext in (("python", "py"), ("cpp", "cpp")) if (d / f"ref.{ext}").exists()}
    return {
        "task_id": d.name, "title": meta.get("title", d.name), "statement": statement.read_text(encoding="utf-8"),
        "time_limit_s": float(meta.get("time_limit_s", 2.0)), "memory_mb": int(meta.get("memory_mb", 1024)),
        "checker": checker, "abs_tol": float(meta.get("abs_tol", 1e-6)), "rel_tol": float(meta.get("rel_tol", 1e-6)),
        "checker_path": str(d / "checker.py") if checker == "special" else None,
        "cases": cases, "references": refs,
    }


def load_problems_dir(data: str | None) -> list[dict[str, Any]]:
    root = Path(data) if data else DEFAULT_DIR
    if not root.is_dir():
        raise JacodeError(f"--problems/--data {root}: not a directory")
    dirs = sorted(p for p in root.iterdir() if p.is_dir() and (p / "problem.toml").exists())
    if not dirs:
        raise JacodeError(f"{root}: no problem directories (each needs problem.toml)")
    return [load_problem(d) for d in dirs]
