"""`jacode data run CONFIG.yaml`: readers → filters → exact dedup → near dedup → writers, on datatrove executors.

Stages (each a datatrove executor with its own logging folder under OUTPUT/logs, chained with `depends`):

  filter        readers, PII scrubbing, language check, code heuristics, syntax, complexity, ja/en quality
                → OUTPUT/work/filtered                                          (`tasks` tasks)
  exact_*       signatures → find duplicates (1 task) → filter → OUTPUT/work/exact (when MinHash follows)
  minhash_*     signatures → LSH buckets (one task per band) → clusters (1 task) → filter
  (last)        the last filtering stage also counts languages and writes OUTPUT/data (jsonl.gz or parquet):
                with dedup off, the filter stage writes OUTPUT/data itself

Every dropped document is written with its reason under OUTPUT/excluded/<step>/. datatrove marks each finished
task, so a killed run started again skips finished tasks and redoes the interrupted ones from their inputs:
the output is the same as an uninterrupted run (same config, same `tasks`). The stats report is written to
OUTPUT/stats.json and OUTPUT/stats.md.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from jacode.errors import JacodeError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CodeFilters(_Strict):
    heuristics: bool = True
    syntax: bool = True
    syntax_timeout_s: float = 10.0
    complexity: dict[str, Any] | None = Field(default_factory=dict)  # ComplexityBounds overrides; null = off


class TextFilters(_Strict):
    languages: list[str] = ["ja", "en"]
    japanese: dict[str, Any] | None = Field(default_factory=dict)  # TextThresholds overrides; null = off
    english: dict[str, Any] | None = Field(default_factory=dict)  # EnglishThresholds overrides; null = off


class Dedup(_Strict):
    exact: bool = True
    minhash: dict[str, Any] | None = Field(default_factory=dict)  # MinHashConfig overrides; null = off


class Slurm(_Strict):
    partition: str = "cpu"
    time: str = "12:00:00"
    cpus_per_task: int = 1
    mem_per_cpu_gb: int = 2
    venv_path: str | None = None  # activate script sourced by each job
    sbatch_args: dict[str, Any] = Field(default_factory=dict)


class Ray(_Strict):
    address: str | None = None  # a running cluster (default: $RAY_ADDRESS, else a local cluster for the run)
    cpus_per_task: int = 1
    memory_gb: float | None = None  # reserved per task (Ray schedules by it); none: not reserved


class DataSettings(_Strict):
    readers: list[dict[str, Any]] = Field(description="sources: {type: source_tree | jsonl | parquet, path, ...}")
    tasks: int = Field(4, description="datatrove tasks (shards) per step")
    format: Literal["jsonl.gz", "parquet"] = Field("jsonl.gz", description="output format")
    pii: bool = Field(True, description="scrub e-mail addresses, IPs and keys")
    code: CodeFilters = Field(default_factory=CodeFilters, description="heuristics, syntax, complexity (overrides)")
    text: TextFilters = Field(default_factory=TextFilters, description="languages kept, Japanese/English rules")
    dedup: Dedup = Field(default_factory=Dedup, description="exact and MinHash deduplication (overrides)")
    slurm: Slurm = Field(default_factory=Slurm, description="partition, time, resources for --executor slurm")
    ray: Ray = Field(default_factory=Ray, description="cluster address and resources for --executor ray")


class DataConfig(DataSettings):
    """A data config file (`jacode data run CONFIG.yaml`): the settings and where the output goes."""

    output: str


class DataStageConfig(DataSettings):
    """The data stage of a recipe: the output is the stage's directory."""

    workers: int = Field(2, description="tasks running at once")
    executor: Literal["local", "ray"] = Field("local", description="local processes or a Ray cluster (ray.address, "
                                              "else $RAY_ADDRESS, else a local one)")


def load_config(path: str | Path) -> DataConfig:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise JacodeError(f"{path}: cannot read data config: {e}") from e
    try:
        cfg = DataConfig.model_validate(raw or {})
    except ValidationError as e:
        msgs = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
        raise JacodeError(f"{path}: invalid data config: {msgs}") from e
    base = path.parent
    cfg.output = str((base / cfg.output).resolve()) if not os.path.isabs(cfg.output) else cfg.output
    for r in cfg.readers:
        if "type" not in r or "path" not in r:
            raise JacodeError(f"{path}: each reader needs `type` and `path` (got {r})")
        r["path"] = str((base / r["path"]).resolve()) if not os.path.isabs(r["path"]) else r["path"]
        if not os.path.exists(r["path"]):
            raise JacodeError(f"{path}: reader path does not exist: {r['path']}")
    return cfg


class WithReason:
    """Writer adapter for dedup exclusions: records why the document was dropped, like BaseFilter does."""

    def __init__(self, reason: str):
        self.reason = reason

    def __call__(self, writer, document) -> dict:
        document.metadata.setdefault("filter_reason", self.reason)
        return writer._default_adapter(document)


class OutputRecord:
    """Final writer adapter: drops internal metadata (the complexity screen); for Parquet the metadata becomes one
    JSON string column, because code and text documents carry different keys and Parquet needs one schema."""

    INTERNAL = ("structure",)

    def __init__(self, metadata_as_json: bool):
        self.metadata_as_json = metadata_as_json

    def __call__(self, writer, document) -> dict:
        for key in self.INTERNAL:
            document.metadata.pop(key, None)
        record = writer._default_adapter(document)
        if self.metadata_as_json:
            record["metadata"] = json.dumps(record.get("metadata", {}), ensure_ascii=False, sort_keys=True)
        return record


def build_stages(cfg: DataConfig) -> list[tuple[str, list, int]]:
    """(stage name, pipeline steps, tasks) in order.

    The last stage that filters documents (the filter stage itself when dedup is off) also counts the languages
    and writes the output: no stage only copies one set of shards into another.
    """
    from jacode.data.code_filters import CodeHeuristicsFilter
    from jacode.data.complexity import ComplexityFilter, bounds_from_dict
    from jacode.data.pii import PIIScrubber
    from jacode.data.readers import ShardReader, document_reader
    from jacode.data.stats import LanguageStats
    from jacode.data.syntax import SyntaxFilter
    from jacode.data.text_filters import (
        EnglishQualityFilter,
        EnglishThresholds,
        JapaneseQualityFilter,
        LanguageFilter,
        TextThresholds,
    )
    from jacode.data.writers import WORK_LEVEL, GzipJsonlWriter

    out = Path(cfg.output)
    work = out / "work"

    def excluded(name: str, reason: str | None = None):
        return GzipJsonlWriter(str(out / "excluded" / name), output_filename="${rank}.jsonl.gz",
                               adapter=WithReason(reason) if reason else None)

    def shards(folder: Path):
        return ShardReader(str(folder), glob_pattern="*.jsonl.gz", add_file_path=False)

    def work_writer(folder: Path):
        return GzipJsonlWriter(str(folder), output_filename="${rank}.jsonl.gz", level=WORK_LEVEL)

    def final_steps() -> list:
        if cfg.format == "parquet":
            from datatrove.pipeline.writers import ParquetWriter

            writer = ParquetWriter(str(out / "data"), output_filename="${rank}.parquet", adapter=OutputRecord(True))
        else:
            writer = GzipJsonlWriter(str(out / "data"), output_filename="${rank}.jsonl.gz",
                                     adapter=OutputRecord(False))
        return [LanguageStats(), writer]

    exact, minhash = cfg.dedup.exact, cfg.dedup.minhash is not None
    steps: list = [document_reader(r) for r in cfg.readers]
    if cfg.pii:
        steps.append(PIIScrubber())
    steps.append(LanguageFilter(tuple(cfg.text.languages), exclusion_writer=excluded("language")))
    if cfg.code.heuristics:
        steps.append(CodeHeuristicsFilter(exclusion_writer=excluded("code_heuristics")))
    if cfg.code.syntax:
        steps.append(SyntaxFilter(timeout_s=cfg.code.syntax_timeout_s, exclusion_writer=excluded("syntax")))
    if cfg.code.complexity is not None:
        steps.append(ComplexityFilter(bounds_from_dict(cfg.code.complexity), timeout_s=cfg.code.syntax_timeout_s,
                                      exclusion_writer=excluded("complexity")))
    if cfg.text.japanese is not None:
        steps.append(JapaneseQualityFilter(TextThresholds(**cfg.text.japanese),
                                           exclusion_writer=excluded("japanese_quality")))
    if cfg.text.english is not None:
        steps.append(EnglishQualityFilter(EnglishThresholds(**cfg.text.english),
                                          exclusion_writer=excluded("english_quality")))
    if not exact and not minhash:
        return [("filter", steps + final_steps(), cfg.tasks)]
    steps.append(work_writer(work / "filtered"))
    stages = [("filter", steps, cfg.tasks)]
    current = work / "filtered"

    if exact:
        from datatrove.pipeline.dedup.exact_dedup import ExactDedupFilter, ExactDedupSignature, ExactFindDedups

        from jacode.data.dedup import exact_config

        ec = exact_config()
        stages += [
            ("exact_signatures", [shards(current), ExactDedupSignature(str(work / "exact_sigs"), ec)], cfg.tasks),
            ("exact_find", [ExactFindDedups(str(work / "exact_sigs"), str(work / "exact_dups"), ec)], 1),
            ("exact_filter", [shards(current), ExactDedupFilter(str(work / "exact_dups"), ec,
                                                                exclusion_writer=excluded("exact_dedup",
                                                                                          "exact_duplicate")),
                              *(final_steps() if not minhash else [work_writer(work / "exact")])], cfg.tasks)]
        current = work / "exact"

    if minhash:
        from datatrove.pipeline.dedup.minhash import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter

        from jacode.data.dedup import ShingleMinhashSignature, datatrove_minhash_config
        from jacode.data.minhash import MinHashConfig

        try:
            mh = MinHashConfig(**cfg.dedup.minhash)
        except (TypeError, ValueError) as e:
            raise JacodeError(f"dedup.minhash: {e}") from e
        dc = datatrove_minhash_config(mh)
        stages += [
            ("minhash_signatures", [shards(current), ShingleMinhashSignature(str(work / "minhash_sigs"), mh)],
             cfg.tasks),
            ("minhash_buckets", [MinhashDedupBuckets(str(work / "minhash_sigs"), str(work / "minhash_buckets"),
                                                     config=dc)], mh.bands),
            ("minhash_cluster", [MinhashDedupCluster(str(work / "minhash_buckets"), str(work / "minhash_remove"),
                                                     config=dc)], 1),
            ("minhash_filter", [shards(current),
                                MinhashDedupFilter(str(work / "minhash_remove"),
                                                   exclusion_writer=excluded("near_dedup", "near_duplicate")),
                                *final_steps()], cfg.tasks)]
    return stages


def make_executors(cfg: DataConfig, executor: str, workers: int) -> list:
    logs = Path(cfg.output) / "logs"
    previous, executors = None, []
    for name, steps, tasks in build_stages(cfg):
        common = dict(pipeline=steps, tasks=tasks, logging_dir=str(logs / name), depends=previous)
        if executor == "local":
            from datatrove.executor import LocalPipelineExecutor

            ex = LocalPipelineExecutor(workers=min(workers, tasks), **common)
        elif executor == "slurm":
            from datatrove.executor import SlurmPipelineExecutor

            s = cfg.slurm
            ex = SlurmPipelineExecutor(job_name=f"jacode_{name}", partition=s.partition, time=s.time,
                                       cpus_per_task=s.cpus_per_task, mem_per_cpu_gb=s.mem_per_cpu_gb,
                                       venv_path=s.venv_path, sbatch_args=s.sbatch_args, workers=workers,
                                       mail_user=None, **common)
        elif executor == "ray":
            from jacode.data.ray_executor import RayExecutor, connect

            connect(cfg.ray.address, cfg.output)
            ex = RayExecutor(workers=workers, cpus_per_task=cfg.ray.cpus_per_task, memory_gb=cfg.ray.memory_gb,
                             **common)
        else:
            raise JacodeError(f"unknown executor {executor!r} (local, slurm, ray)")
        executors.append((name, ex))
        previous = ex
    return executors


def write_report(cfg: DataConfig) -> dict:
    from jacode.data.stats import build_report, report_markdown

    out = Path(cfg.output)
    stage_dirs = [(name, out / "logs" / name) for name, _, _ in build_stages(cfg)]
    report = build_report(stage_dirs)
    (out / "stats.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    (out / "stats.md").write_text(report_markdown(report))
    return report


def run(cfg: DataConfig, executor: str = "local", workers: int = 1) -> dict | None:
    Path(cfg.output).mkdir(parents=True, exist_ok=True)
    executors = make_executors(cfg, executor, workers)
    # Running the last executor runs its `depends` chain first; for Slurm this submits every stage as a job
    # array that waits for the previous one, and the report is written later with `jacode data report`.
    try:
        executors[-1][1].run()
    except RuntimeError as e:  # datatrove's reader of the user's inputs found no file (later steps tolerate none)
        if not str(e).startswith("No files found on"):
            raise
        folder = str(e).removeprefix("No files found on").strip().rstrip("!")
        raise JacodeError(f"no input files found in {folder} (check the readers' path and glob_pattern)") from None
    # Every document may have been dropped (a shard of pure spam): the run still ends with its (empty) output
    # folder and a stats report that says so.
    (Path(cfg.output) / "data").mkdir(parents=True, exist_ok=True)
    if executor == "slurm":  # submitted: the jobs finish later
        return None
    return write_report(cfg)
