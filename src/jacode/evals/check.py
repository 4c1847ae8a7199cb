"""`jacode eval check`: run a benchmark's reference solutions; all must pass, or the harness is wrong."""

from __future__ import annotations

import tempfile
from pathlib import Path

from jacode.errors import JacodeError
from jacode.evals.execute import ExecuteConfig, execute
from jacode.evals.references import reference_solutions
from jacode.evals.registry import get_benchmark, load_problems
from jacode.io import read_jsonl, write_jsonl


def check(cfg: ExecuteConfig, out: str | None = None) -> tuple[int, int, list[dict]]:
    bench = get_benchmark(cfg.benchmark)
    problems = load_problems(bench, cfg.data)
    samples = [{"task_id": t, "completion": c} for t, c in reference_solutions(bench, problems).items()]
    if not samples:
        raise JacodeError(f"{bench.name}: the data has no reference solutions to check")
    with tempfile.TemporaryDirectory(prefix="jacode-check-") as tmp:
        out_dir = Path(out) if out else Path(tmp) / "out"
        samples_path = Path(tmp) / "reference.jsonl"
        write_jsonl(samples_path, samples)
        results = list(read_jsonl(execute(cfg, samples_path, out_dir)))
    failures = [r for r in results if not r["passed"]]
    return len(results) - len(failures), len(results), failures
