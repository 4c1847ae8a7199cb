"""`make demo`: the smallest honest end-to-end run on a laptop CPU.

A random tiny Llama model scores 0%: the point is that every stage (model from config, generation,
sandboxed execution, scoring) runs and that the numbers come from real execution.
"""

from __future__ import annotations

import json
from pathlib import Path

from jacode.evals.check import check
from jacode.evals.execute import ExecuteConfig, execute
from jacode.evals.generate import GenerateConfig, generate
from jacode.evals.score import format_table, score
from jacode.models.init import init_model


def run_demo(out: Path, limit: int = 8) -> dict:
    model_dir = out / "model"
    if not (model_dir / "config.json").exists():
        print(f"[1/4] building a tiny random-weight Llama model in {model_dir}")
        init_model(model_dir, "tiny")
    else:
        print(f"[1/4] reusing the tiny model in {model_dir}")
    eval_dir = out / "humaneval"
    print(f"[2/4] generating for {limit} HumanEval problems (greedy, 96 new tokens)")
    gen = generate(GenerateConfig(benchmark="humaneval", model=str(model_dir), max_new_tokens=96, limit=limit),
                   eval_dir)
    print("[3/4] executing the completions, then all 164 reference solutions, in the sandbox")
    tasks = json.loads((eval_dir / "generation_config.json").read_text())["task_ids"]
    execute(ExecuteConfig(benchmark="humaneval"), gen, eval_dir, expected_tasks=tasks)
    passed, total, _ = check(ExecuteConfig(benchmark="humaneval"))
    print("[4/4] scoring")
    result = score(eval_dir, [1])
    print(format_table(result))
    print(f"reference solutions: {passed}/{total} pass in the same sandbox (the harness is sound)")
    print("A random tiny model is expected to score 0%. Real numbers need a trained model: "
          "jacode eval run --benchmark humaneval --model PATH --out DIR")
    return result
