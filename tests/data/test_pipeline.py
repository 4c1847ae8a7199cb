"""`jacode data run`: readers → filters → exact and near dedup → writers on datatrove executors, end to end on
real standard-library code and Japanese/English documents written for the tests."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jacode.errors import JacodeError
from tests.support.corpus import build_corpus, read_shards, run_jacode, write_config

JACODE = [sys.executable, "-m", "jacode.cli"]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    expected = build_corpus(root)
    cfg = write_config(root)
    proc = run_jacode(["data", "run", str(cfg), "--workers", "2"], cwd=root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root, expected


def test_pipeline_keeps_and_drops_the_right_documents_with_reasons(finished_run):
    root, expected = finished_run
    kept = {d["id"]: d for d in read_shards(root / "out" / "data")}
    assert expected["kept"] <= set(kept)
    assert not set(expected["dropped"]) & set(kept)
    excluded = {}
    for folder in (root / "out" / "excluded").iterdir():
        for d in read_shards(folder):
            excluded[d["id"]] = d["metadata"]["filter_reason"]
    assert {k: excluded.get(k) for k in expected["dropped"]} == expected["dropped"]
    manifest = json.loads((root / "out" / "manifest.json").read_text())  # as a recipe's data stage writes it
    assert manifest["kind"] == "data" and manifest["status"] == "done"
    assert manifest["summary"]["text"] == f"{len(kept)} documents kept"
    # Source-tree metadata: path, language, content type, size, repository.
    meta = kept["cpython/textwrap.py"]["metadata"]
    assert meta["language"] == "python" and meta["kind"] == "code" and meta["path"] == "textwrap.py"
    assert meta["repository"] == {"name": "cpython", "license": "PSF"} and meta["size_bytes"] > 1000
    assert meta["content_type"] == "text/x-python"
    assert kept["en-good"]["metadata"]["language"] == "en" and kept["ja-good-1"]["metadata"]["language"] == "ja"


def test_stats_report_counts_every_step_and_language(finished_run):
    root, expected = finished_run
    report = json.loads((root / "out" / "stats.json").read_text())
    reader = next(s for s in report["steps"] if "source tree" in s["step"])
    assert {k: reader["counters"][k] for k in expected["skipped"]} == expected["skipped"]
    by_name = {s["step"].split(": ", 1)[1]: s for s in report["steps"] if "kept" in s}
    lang = by_name["🔤 language check"]
    assert lang["reasons"] == {"language_mismatch": 1, "language_other": 2}
    assert lang["kept"] + lang["dropped"] == lang["total"]
    assert by_name["🗾 Japanese quality"]["reasons"] == {"duplicate_lines": 1, "ng_words": 1, "too_short": 1}
    assert by_name["💥 exact-deduplication stage 3"]["dropped"] == 2
    assert by_name["🎯 MinHash stage 4"]["dropped"] == 2
    out_docs = read_shards(root / "out" / "data")
    langs = report["languages"]
    assert sum(v["files"] for v in langs.values()) == len(out_docs)
    assert langs["text:ja"]["bytes"] == sum(len(d["text"].encode()) for d in out_docs
                                            if d["metadata"].get("language") == "ja")
    assert langs["code:python"]["tokens_est"] > 0
    md = (root / "out" / "stats.md").read_text()
    assert "| code:python |" in md and "language_mismatch: 1" in md


def test_killed_run_resumes_with_identical_output(finished_run, tmp_path):
    ref_root, _ = finished_run
    build_corpus(tmp_path)
    cfg = write_config(tmp_path)
    proc = subprocess.Popen(JACODE + ["data", "run", str(cfg), "--workers", "1"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    marker = tmp_path / "out" / "logs" / "filter" / "completions" / "00000"
    deadline = time.time() + 120
    while not marker.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # during the first of the seven stages
    proc.wait()
    assert marker.exists() and not (tmp_path / "out" / "stats.json").exists()  # interrupted, not finished
    done = run_jacode(["data", "run", str(cfg), "--workers", "1"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    for sub in ("data", "excluded/exact_dedup", "excluded/near_dedup", "excluded/syntax"):
        assert read_shards(tmp_path / "out" / sub) == read_shards(ref_root / "out" / sub), sub


def test_parquet_output(tmp_path):
    import pyarrow.parquet as pq

    build_corpus(tmp_path)
    cfg = write_config(tmp_path, format="parquet", tasks=1)
    proc = run_jacode(["data", "run", str(cfg), "--workers", "1"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [r for f in sorted((tmp_path / "out" / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    by_id = {r["id"]: r for r in rows}
    assert {"ja-good-1", "cpython/textwrap.py"} <= set(by_id)
    assert json.loads(by_id["cpython/textwrap.py"]["metadata"])["language"] == "python"


def test_a_run_that_drops_everything_finishes_with_empty_output_and_says_so(tmp_path):
    """Every document dropped (here by the language check, before exact and near dedup, which then read
    nothing): exit 0, an empty data folder, stats and manifest that say no document was kept."""
    (tmp_path / "spam.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in ("a", "b", "!!!")))
    (tmp_path / "cfg.yaml").write_text("readers: [{type: jsonl, path: spam.jsonl, kind: text, language: ja}]\n"
                                       "output: out\ntasks: 2\n")
    proc = run_jacode(["data", "run", "cfg.yaml", "--workers", "2"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "no documents kept" in proc.stderr and "Traceback" not in proc.stderr
    out = tmp_path / "out"
    assert (out / "data").is_dir() and not list((out / "data").iterdir())
    stats = json.loads((out / "stats.json").read_text())
    assert stats["documents_kept"] == 0
    assert "**No documents kept**" in (out / "stats.md").read_text()
    assert len(read_shards(out / "excluded" / "language")) == 3
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "done" and "no documents kept" in manifest["summary"]["text"]


def test_an_input_folder_without_files_is_an_error_naming_it(tmp_path):
    (tmp_path / "nothing").mkdir()
    (tmp_path / "cfg.yaml").write_text("readers: [{type: jsonl, path: nothing, kind: text, language: ja}]\n"
                                       "output: out\ntasks: 1\n")
    proc = run_jacode(["data", "run", "cfg.yaml", "--workers", "1"], cwd=tmp_path)
    assert proc.returncode != 0 and "no input files found in" in proc.stderr and "nothing" in proc.stderr


def _fake_slurm(bindir: Path) -> None:
    """sbatch/srun stand-ins that run each array task of the submitted script here, one after another."""
    sbatch = bindir / "sbatch"
    sbatch.write_text(f"""#!{sys.executable}
import os, re, subprocess, sys
args, script = sys.argv[1:-1], sys.argv[-1]
text = open(script).read()
env = dict(os.environ, SLURM_NODELIST="localhost", SLURM_JOB_ID="1", SLURM_ARRAY_JOB_ID="1", SLURM_NODEID="0",
           SLURM_JOB_NUM_NODES="1", SLURM_PROCID="0", SLURM_NTASKS="1")
for a in args:
    if a.startswith("--export=ALL,"):
        env.update(kv.split("=", 1) for kv in a[len("--export=ALL,"):].split(","))
m = re.search(r"#SBATCH --array=0-(\\d+)", text)
for i in range(int(m.group(1)) + 1 if m else 1):
    if m:
        env["SLURM_ARRAY_TASK_ID"] = str(i)
    subprocess.run(["bash", script], env=env, check=True)
print("Submitted batch job", abs(hash(script)) % 100000)
""")
    srun = bindir / "srun"
    srun.write_text('#!/bin/bash\nwhile [[ "$1" == -* ]]; do [[ "$1" == -n ]] && shift; shift; done\nexec "$@"\n')
    scontrol = bindir / "scontrol"  # `scontrol show hostnames localhost`
    scontrol.write_text('#!/bin/bash\necho "${@: -1}"\n')
    for f in (sbatch, srun, scontrol):
        f.chmod(f.stat().st_mode | stat.S_IEXEC)


def test_slurm_executor_submits_job_arrays_that_produce_the_same_output(finished_run, tmp_path):
    ref_root, _ = finished_run
    build_corpus(tmp_path)
    cfg = write_config(tmp_path)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    _fake_slurm(bindir)
    env = {**os.environ, "PATH": f"{bindir}:{Path(sys.executable).parent}:{os.environ['PATH']}"}
    proc = run_jacode(["data", "run", str(cfg), "--executor", "slurm", "--workers", "2"], cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "jacode data report" in proc.stdout
    script = (tmp_path / "out" / "logs" / "filter" / "launch_script.slurm").read_text()
    assert "#SBATCH --array=0-2%2" in script and "launch_pickled_pipeline" in script
    report = run_jacode(["data", "report", str(cfg)], cwd=tmp_path)
    assert report.returncode == 0, report.stderr[-3000:]
    assert read_shards(tmp_path / "out" / "data") == read_shards(ref_root / "out" / "data")
    assert json.loads((tmp_path / "out" / "stats.json").read_text())["languages"] == \
        json.loads((ref_root / "out" / "stats.json").read_text())["languages"]


def test_config_errors_name_the_key(tmp_path):
    from jacode.data.pipeline import load_config, run

    (tmp_path / "d").mkdir()
    bad = tmp_path / "bad.yaml"
    bad.write_text("output: out\nreaders: [{type: jsonl, path: d}]\ndedup: {exactt: true}\n")
    with pytest.raises(JacodeError, match="dedup.exactt"):
        load_config(bad)
    bad.write_text("output: out\nreaders: [{type: jsonl, path: missing}]\n")
    with pytest.raises(JacodeError, match="does not exist"):
        load_config(bad)
    bad.write_text("output: out\nreaders: [{type: jsonl, path: d}]\ndedup: {minhash: {bands: 5}}\n")
    with pytest.raises(JacodeError, match="bands"):
        run(load_config(bad))
    try:
        import ray  # noqa: F401
    except ImportError:
        bad.write_text("output: out\nreaders: [{type: jsonl, path: d}]\n")
        with pytest.raises(JacodeError, match="datatrove\\[ray\\]"):
            run(load_config(bad), executor="ray")
