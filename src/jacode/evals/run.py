"""Generate → execute → score for one model and one code benchmark (used by recipes and `jacode watch`)."""

from __future__ import annotations

import json
from pathlib import Path

from jacode.evals.execute import ExecuteConfig, execute
from jacode.evals.generate import GenerateConfig, generate
from jacode.evals.score import score


def run_benchmark(benchmark: str, model: str, out: str | Path, data: str | None = None, limit: int | None = None,
                  max_new_tokens: int = 256, workers: int = 2, mode: str | None = None) -> dict:
    """{"pass@1": ..., "n_tasks", "n_samples", "termination_rate"}; resumable like `jacode eval run`."""
    out = Path(out)
    # atcoder-mini asks for whole programs from a statement: chat mode; the completion benchmarks: base mode.
    mode = mode or ("chat" if benchmark.startswith("atcoder") else "base")
    gen = generate(GenerateConfig(benchmark=benchmark, model=model, data=data, max_new_tokens=max_new_tokens,
                                  limit=limit, mode=mode), out)
    tasks = json.loads((out / "generation_config.json").read_text())["task_ids"]
    execute(ExecuteConfig(benchmark=benchmark, data=data, workers=workers), gen, out, expected_tasks=tasks)
    r = score(out, [1])
    return {"pass@1": r["scores"].get("pass@1"), "n_tasks": r["n_tasks"], "n_samples": r["n_samples"],
            "termination_rate": r.get("termination_rate"), "dir": str(out)}
