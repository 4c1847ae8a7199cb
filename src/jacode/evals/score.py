"""`jacode eval score`: DIR/results.jsonl -> DIR/scores.json (unbiased pass@k, per-task counts, config)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from jacode.errors import JacodeError
from jacode.evals.execute import RESULTS, RUN_INFO
from jacode.evals.passk import pass_at_k
from jacode.io import read_jsonl, write_json

SCORES = "scores.json"
# Verdicts that say the answer's program did not parse or compile: what a weak model improves first, long before
# pass@1 moves (answers that stop at once, or open a code fence they never close).
_NOT_A_FUNCTION = ("loading the candidate's code: SyntaxError", "loading the candidate's code: IndentationError",
                   "loading the candidate's code: TabError")


def well_formed(rec: dict[str, Any]) -> bool:
    return not (rec.get("status") in ("compile_error", "CE") or str(rec.get("detail", "")).startswith(_NOT_A_FUNCTION))


def score(out: str | Path, ks: list[int] = (1, 10), allow_partial: bool = False) -> dict[str, Any]:
    out = Path(out)
    results_path = out / RESULTS
    if not results_path.exists():
        raise JacodeError(f"{results_path}: not found; run `jacode eval execute` first")
    run_info = json.loads((out / RUN_INFO).read_text()) if (out / RUN_INFO).exists() else {}
    per_task: dict[str, list[bool]] = {}
    statuses: Counter = Counter()
    finish: Counter = Counter()
    formed = 0
    seconds: Counter = Counter()  # execution time of the samples, by whether they timed out
    for rec in read_jsonl(results_path):
        formed += well_formed(rec)
        seconds[rec.get("status") in ("timeout", "TLE")] += float(rec.get("duration_s") or 0.0)
        per_task.setdefault(rec["task_id"], []).append(bool(rec["passed"]))
        statuses[rec.get("status", "?")] += 1
        if "finish_reason" in rec:
            finish[rec["finish_reason"]] += 1
    expected = run_info.get("task_ids") or list(per_task)
    missing = [t for t in expected if t not in per_task]
    if missing and not allow_partial:
        shown = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
        raise JacodeError(f"{len(missing)} task(s) have no samples: {shown}. "
                          "Pass --allow-partial to score the tasks that have them.")
    counts = {t: {"n": len(v), "c": sum(v)} for t, v in per_task.items()}
    from jacode.evals.ja.judge import mean_ci

    # pass@1's uncertainty from the tasks drawn: a percentile bootstrap over tasks of each task's pass rate.
    ci = mean_ci([c["c"] / c["n"] for c in counts.values()])
    min_n = min(c["n"] for c in counts.values())
    pass_k = {}
    for k in ks:
        if k <= min_n:
            pass_k[f"pass@{k}"] = sum(pass_at_k(c["n"], c["c"], k) for c in counts.values()) / len(counts)
    result = {
        "benchmark": run_info.get("benchmark"), "scores": pass_k,
        "n_tasks": len(counts), "n_samples": sum(c["n"] for c in counts.values()),
        "missing_tasks": missing, "status_counts": dict(statuses), "tasks": counts,
        "skipped_k": [k for k in ks if k > min_n], "config": run_info,
        # Every pass@k's uncertainty the same way: a bootstrap over tasks of each task's unbiased pass@k estimate.
        "intervals": {"pass@1": {"ci95": ci["ci95"], "method": "bootstrap over tasks, 2000 resamples"}} | {
            f"pass@{k}": {"ci95": mean_ci([pass_at_k(c["n"], c["c"], k) for c in counts.values()])["ci95"],
                          "method": "bootstrap over tasks, 2000 resamples"} for k in ks if 1 < k <= min_n},
        # Share of generations that ended (end token or stop sequence) before the token budget.
        "termination_rate": finish["stop"] / sum(finish.values()) if finish else None,
        # Share of samples whose program parsed (Python) or compiled.
        "well_formed_rate": formed / sum(statuses.values()) if statuses else None,
        # Samples that ran until their limit cost that limit in any harness: how much of the run they took.
        "timeouts": {"samples": statuses["timeout"] + statuses["TLE"], "seconds": round(seconds[True], 3),
                     "share_of_time": seconds[True] / sum(seconds.values()) if sum(seconds.values()) else None},
    }
    gen_cfg = out / "generation_config.json"
    if gen_cfg.exists():
        result["generation_config"] = json.loads(gen_cfg.read_text())
    write_json(out / SCORES, result)
    return result


def format_table(result: dict[str, Any]) -> str:
    lines = [f"benchmark: {result['benchmark']}   tasks: {result['n_tasks']}   samples: {result['n_samples']}"]
    interval = result.get("intervals", {}).get("pass@1", {}).get("ci95")
    for name, value in result["scores"].items():
        extra = f"   (95% CI {100 * interval[0]:.1f}–{100 * interval[1]:.1f}%, bootstrap over tasks)" \
            if name == "pass@1" and interval and interval[0] is not None else ""
        lines.append(f"  {name:<10} {100 * value:6.2f}%{extra}")
    if result["skipped_k"]:
        lines.append(f"  (pass@{', '.join(map(str, result['skipped_k']))} skipped: fewer samples than k)")
    if result.get("termination_rate") is not None:
        lines.append(f"  termination {100 * result['termination_rate']:6.2f}% (ended before the token budget)")
    if result.get("well_formed_rate") is not None:
        lines.append(f"  well-formed {100 * result['well_formed_rate']:6.2f}% (the program parsed or compiled)")
    t = result.get("timeouts") or {}
    if t.get("samples") and t.get("share_of_time") is not None:
        share = 100 * t["share_of_time"]
        policy = (result.get("config") or {}).get("time_limit") or "fixed"
        limits = f"time limit {policy}" + ("; per-task limits: --time-limit reference" if policy == "fixed" else "")
        lines.append(f"  timeouts   {t['samples']} sample(s), {t['seconds']:.1f} s = {share:.0f}% of the samples' "
                     f"execution time ({limits})")
    if result["missing_tasks"]:
        lines.append(f"  partial: {len(result['missing_tasks'])} task(s) had no samples")
    lines.append("  status: " + ", ".join(f"{k}={v}" for k, v in sorted(result["status_counts"].items())))
    return "\n".join(lines)
