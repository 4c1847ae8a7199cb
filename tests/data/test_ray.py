"""`jacode data run --executor ray` on a real local Ray cluster (started here, joined through $RAY_ADDRESS as a
user joins theirs): the same output as the local executor, failed ranks fail the stage, re-runs redo only them."""

from __future__ import annotations

import json
import os

import pytest

from jacode.errors import JacodeError
from tests.support.corpus import build_corpus, read_shards, run_jacode, write_config

ray = pytest.importorskip("ray", reason="ray is in the dev extras (pip install -e '.[dev]'); CI always has it")
pytestmark = pytest.mark.xdist_group("ray")  # one cluster on 2 cores; its tests run on one worker


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def test_pipeline_on_a_ray_cluster_equals_the_local_executor(cluster, tmp_path):
    results = {}
    for executor in ("local", "ray"):
        root = tmp_path / executor
        root.mkdir()
        build_corpus(root)
        cfg = write_config(root)  # exact + MinHash dedup: 8 stages, each waiting for the one before
        proc = run_jacode(["data", "run", str(cfg), "--executor", executor, "--workers", "2"], cwd=root,
                          env={**os.environ, "RAY_ADDRESS": cluster})
        assert proc.returncode == 0, proc.stderr[-3000:]
        results[executor] = root / "out"
    local, on_ray = results["local"], results["ray"]
    for sub in ("data", "excluded/exact_dedup", "excluded/near_dedup", "excluded/syntax", "excluded/language"):
        assert read_shards(on_ray / sub) == read_shards(local / sub), sub
    assert read_shards(on_ray / "excluded/near_dedup"), "the corpus has a near duplicate to drop"
    assert json.loads((on_ray / "stats.json").read_text()) == json.loads((local / "stats.json").read_text())
    manifest = json.loads((on_ray / "manifest.json").read_text())
    assert manifest["status"] == "done" and "documents kept" in manifest["summary"]["text"]
    # every rank of every stage ran on the cluster and marked itself complete
    for stage in (on_ray / "logs").iterdir():
        tasks = json.loads((stage / "executor.json").read_text())["world_size"]
        assert len(list((stage / "completions").iterdir())) == tasks, stage.name


def test_a_failed_rank_fails_the_stage_naming_it_and_a_rerun_redoes_only_it(cluster, tmp_path):
    from jacode.data.ray_executor import RayExecutor

    broken, ran = tmp_path / "shard-1-broken", tmp_path / "ran.txt"

    def step(data, rank: int, world_size: int):  # a closure: Ray ships it by value to its workers
        with ran.open("a") as f:
            f.write(f"{rank}\n")
        if rank == 1 and broken.exists():
            raise ValueError("shard 1 is corrupt")
        return data

    def run() -> None:
        RayExecutor(pipeline=[step], tasks=3, workers=2, logging_dir=str(tmp_path / "logs")).run()

    broken.touch()
    with pytest.raises(JacodeError) as e:
        run()
    msg = str(e.value)
    assert "1 of 3 Ray tasks failed" in msg and "rank 1" in msg and "shard 1 is corrupt" in msg
    assert "task_00001.log" in msg and (tmp_path / "logs" / "logs" / "task_00001.log").exists()
    assert sorted(p.name for p in (tmp_path / "logs" / "completions").iterdir()) == ["00000", "00002"]
    assert not (tmp_path / "logs" / "stats.json").exists()  # no stage total from a partial stage
    assert sorted(ran.read_text().split()) == ["0", "1", "2"]  # the pipeline's error is not retried

    broken.unlink()
    ran.unlink()
    run()
    assert ran.read_text().split() == ["1"]  # finished ranks are skipped
    assert sorted(p.name for p in (tmp_path / "logs" / "completions").iterdir()) == ["00000", "00001", "00002"]
    assert (tmp_path / "logs" / "stats.json").exists()


def test_an_unreachable_cluster_fails_fast_with_its_address(tmp_path):
    build_corpus(tmp_path)
    cfg = write_config(tmp_path)
    proc = run_jacode(["data", "run", str(cfg), "--executor", "ray"], cwd=tmp_path,
                      env={**os.environ, "RAY_ADDRESS": "127.0.0.1:1"})
    assert proc.returncode != 0
    assert "cannot reach the Ray cluster at 127.0.0.1:1" in proc.stderr and "Traceback" not in proc.stderr
