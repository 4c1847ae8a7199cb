"""`jacode demo`: the smallest honest end-to-end run on a laptop CPU.

A random tiny Llama model scores 0%: the point is that every stage (model from config, generation,
sandboxed execution, scoring) runs and that the numbers come from real execution. HumanEval runs with its
registry settings, the same as `jacode eval run --benchmark humaneval` would use.
"""

from __future__ import annotations

from pathlib import Path

from jacode.evals.check import check
from jacode.evals.execute import ExecuteConfig
from jacode.evals.registry import get_benchmark
from jacode.evals.run import describe, run_benchmark
from jacode.models.init import init_model
from jacode.threads import usable_cpus


def run_demo(out: Path, limit: int = 8) -> dict:
    model_dir = out / "model"
    if not (model_dir / "config.json").exists():
        print(f"[1/3] building a tiny random-weight Llama model in {model_dir}")
        init_model(model_dir, "tiny")
    else:
        print(f"[1/3] reusing the tiny model in {model_dir}")
    s = get_benchmark("humaneval").settings
    print(f"[2/3] HumanEval, first {limit} problems: generate ({s.mode} mode, greedy, up to {s.max_new_tokens} new "
          "tokens: the benchmark's defaults), execute in the sandbox, score")
    workers = usable_cpus()
    summary = run_benchmark("humaneval", out / "humaneval", model=str(model_dir), limit=limit, workers=workers)
    print("[3/3] running all 164 reference solutions in the same sandbox")
    passed, total, _ = check(ExecuteConfig(benchmark="humaneval", workers=workers))
    print(describe(summary))
    print(f"reference solutions: {passed}/{total} pass in the same sandbox (the harness is sound)")
    print("A random tiny model is expected to score 0%. Real numbers need a trained model: "
          "jacode eval run --benchmark humaneval --model PATH --out DIR")
    return summary
