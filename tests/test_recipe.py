"""`jacode run` recipes (validation, manifests, skip/resume, --from/--only, failures), `jacode watch` and
`jacode report` (rendered in headless Chromium)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jacode.errors import JacodeError
from jacode.recipe import load_recipe, plan, recipes_dir, run_recipe

JACODE = [sys.executable, "-m", "jacode"]


@pytest.mark.parametrize("name", ["tiny.yaml", "future-code-ja-8b.yaml", "tanuki-8x8b-upcycle.yaml"])
def test_shipped_recipes_validate_with_dry_run(name, tmp_path):
    proc = subprocess.run(JACODE + ["run", str(recipes_dir() / name), "--dry-run"], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    recipe = load_recipe(recipes_dir() / name)
    assert all(f"{s.name} " in proc.stdout for s in recipe.stages) and "run " in proc.stdout


@pytest.mark.parametrize("text,match", [
    ("name: x\nstages:\n  - name: a\n    kind: tokenizer\n    config: {inputs: [a], vocab_sizee: 10}\n",
     r":5: stage 'a' \(tokenizer\): unknown key 'vocab_sizee'"),
    ("name: x\nstagez: []\n", r":2: unknown key 'stagez'"),
    ("name: x\nstages:\n  - name: a\n    kind: bake\n", r":4: stage 'a': unknown kind 'bake'"),
    ("name: x\nstages:\n  - name: a\n    kind: model\n    config: {size: tiny, tokenizer: '${b}'}\n",
     r"refers to \$\{b\}, which is not an earlier stage"),
    ("name: x\nstages:\n  - name: a\n    kind: pretrain\n    config: {model: m}\n", r"missing required key 'data'"),
    ("name: x\nstages:\n  - name: a\n    kind: model\n    config: {size: tiny}\n  - name: a\n    kind: model\n",
     r":6: stage name 'a' is used twice"),
])
def test_recipe_errors_name_the_key_and_line(tmp_path, text, match):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    with pytest.raises(JacodeError, match=match):
        load_recipe(path)


SMALL = """name: small
run_dir: {run_dir}
stages:
  - name: model
    kind: model
    config: {{size: tiny, seed: {seed}}}
  - name: pretrain
    kind: pretrain
    config: {{model: "${{model}}", data: ["${{shipped}}/ja_corpus.jsonl"], seq_len: 64, batch_size: 4,
             max_steps: {steps}, warmup_steps: 1, lr: 0.003, fim_rate: 0.0, save_every: 2, log_every: 2}}
  - name: eval
    kind: eval
    config: {{models: {{final: "${{pretrain}}"}}, benchmarks: [humaneval, jhumaneval], limit: 2,
             max_new_tokens: 24, data: {{jhumaneval: /nonexistent/jhuman-eval.jsonl}}}}
  - name: report
    kind: report
    config: {{title: small}}
"""


def _small(tmp_path: Path, seed: int = 0, steps: int = 6) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL.format(run_dir=tmp_path / "run", seed=seed, steps=steps))
    return path


def _manifest(tmp_path: Path, stage: str) -> dict:
    return json.loads((tmp_path / "run" / stage / "manifest.json").read_text())


def test_runner_manifests_skip_rerun_downstream_and_partial_runs(tmp_path):
    lines: list[str] = []
    recipe = load_recipe(_small(tmp_path))
    run_recipe(recipe, echo=lines.append)
    for stage in ("model", "pretrain", "eval", "report"):
        m = _manifest(tmp_path, stage)
        assert m["status"] == "done" and m["seconds"] > 0 and m["versions"]["torch"] and m["fingerprint"]
    results = json.loads((tmp_path / "run" / "eval" / "results.json").read_text())
    assert [(r["benchmark"], r["status"]) for r in results] == [("humaneval", "done"), ("jhumaneval", "skipped")]
    assert "/nonexistent/jhuman-eval.jsonl is neither a file nor a directory" in results[1]["reason"]
    # Unchanged: everything is skipped.
    assert all(p.action == "skip" for p in plan(load_recipe(_small(tmp_path))))
    # A changed config re-runs that stage and everything that depends on it, nothing else.
    actions = {p.stage.name: p.action for p in plan(load_recipe(_small(tmp_path, steps=8)))}
    assert actions == {"model": "skip", "pretrain": "run", "eval": "run", "report": "run"}
    actions = {p.stage.name: p.action for p in plan(load_recipe(_small(tmp_path, seed=1)))}
    assert actions == {"model": "run", "pretrain": "run", "eval": "run", "report": "run"}
    # --only / --from force stages; --from needs the earlier ones done.
    assert [p.action for p in plan(recipe, only="eval")] == ["skip", "skip", "run", "skip"]
    assert [p.action for p in plan(recipe, start="eval")] == ["skip", "skip", "run", "run"]
    # Re-running one stage makes everything after it stale (its output may differ), and a forced run starts clean.
    (tmp_path / "run" / "pretrain" / "marker").write_text("old")
    run_recipe(recipe, only="pretrain", echo=lambda s: None)
    assert not (tmp_path / "run" / "pretrain" / "marker").exists()
    assert {p.stage.name: p.action for p in plan(recipe)} == {"model": "skip", "pretrain": "skip", "eval": "run",
                                                             "report": "run"}
    with pytest.raises(JacodeError, match="not done or its inputs changed"):
        plan(load_recipe(_small(tmp_path, seed=1)), start="eval")
    with pytest.raises(JacodeError, match="no such stage"):
        plan(recipe, only="nope")
    assert any("[2/4] pretrain: done" in line for line in lines)


def test_interrupted_stage_resumes_and_failure_names_the_stage(tmp_path):
    path = _small(tmp_path, steps=120)  # long enough that the kill surely lands inside the stage
    proc = subprocess.Popen(JACODE + ["run", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    # Kill once checkpoint-6 has started: checkpoint-4 is then complete, so there is something to resume from.
    ckpt = tmp_path / "run" / "pretrain" / "checkpoint-6"
    deadline = time.time() + 240
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _manifest(tmp_path, "pretrain")["status"] == "running"
    actions = {p.stage.name: p.action for p in plan(load_recipe(path))}
    assert actions["model"] == "skip" and actions["pretrain"] == "resume"
    # Resume: the pretrain stage continues from its last checkpoint, then the rest runs.
    run_recipe(load_recipe(path), echo=lambda s: None)
    log = (tmp_path / "run" / "pretrain" / "stage.log").read_text()
    assert log.count("pretrain (pretrain) =====") == 2 and _manifest(tmp_path, "pretrain")["status"] == "done"
    steps = [json.loads(x)["step"] for x in (tmp_path / "run" / "pretrain" / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == 120  # continued, not restarted (no step logged twice)
    # A failing stage: the error names it and its log.
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"name: bad\nrun_dir: {tmp_path / 'bad'}\nstages:\n  - name: train\n    kind: pretrain\n"
                   "    config: {model: /nonexistent/model, data: [/nonexistent/data]}\n")
    with pytest.raises(JacodeError, match=r"stage 'train' \(pretrain\) failed .*log: .*train/stage.log"):
        run_recipe(load_recipe(bad), echo=lambda s: None)
    assert json.loads((tmp_path / "bad" / "train" / "manifest.json").read_text())["status"] == "failed"


def test_watch_evaluates_new_checkpoints_once_and_draws_curves(tiny_model, tmp_path):
    from jacode.watch import parse_baselines, watch

    ckpts = tmp_path / "ckpts"
    for step in (10, 20):
        shutil.copytree(tiny_model, ckpts / f"checkpoint-{step}")
    (ckpts / "checkpoint-30").mkdir()  # being written: no weights yet → not evaluated
    (ckpts / "checkpoint-30" / "config.json").write_text("{}")
    baselines = parse_baselines(["llama:humaneval=0.05"])
    out = tmp_path / "watch"
    metrics = watch(ckpts, ["humaneval"], out, limit=2, max_new_tokens=16, baselines=baselines, once=True,
                    settle_s=0, echo=lambda s: None)
    rows = [json.loads(x) for x in metrics.read_text().splitlines()]
    assert [(r["checkpoint"], r["step"]) for r in rows] == [("checkpoint-10", 10), ("checkpoint-20", 20)]
    assert (out / "learning_curves.png").stat().st_size > 5000
    # Restart: nothing evaluated again; a new complete checkpoint is.
    shutil.rmtree(ckpts / "checkpoint-30")
    shutil.copytree(tiny_model, ckpts / "checkpoint-30")
    proc = subprocess.run(JACODE + ["watch", str(ckpts), "--benchmarks", "humaneval", "--out", str(out), "--limit",
                                    "2", "--max-new-tokens", "16", "--once", "--settle", "0", "--baseline",
                                    "llama:humaneval=0.05"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [json.loads(x) for x in metrics.read_text().splitlines()]
    assert [r["checkpoint"] for r in rows] == ["checkpoint-10", "checkpoint-20", "checkpoint-30"]
    assert proc.stdout.count("evaluating") == 1
    from jacode.report import build_report

    html = build_report(tmp_path, tmp_path / "report.html").read_text()  # the curves appear in a run's report
    assert "Learning curves (watch)" in html and html.count("data:image/png;base64,") >= 1


def test_report_renders_in_headless_chromium(tmp_path):
    from tests.test_arena import _driver

    run_recipe(load_recipe(_small(tmp_path)), echo=lambda s: None)
    report = tmp_path / "run" / "report" / "report.html"
    html = report.read_text()
    assert "data:image/png;base64," in html and "<script" not in html  # self-contained, no scripts
    driver = _driver()
    try:
        driver.get(report.as_uri())
        tables = driver.execute_script(
            "return Object.fromEntries(Array.from(document.querySelectorAll('table')).map(t => [t.id, t.rows.length]))")
        assert tables["stages"] == 5 and tables["eval"] == 3 and tables["versions"] > 3
        widths = driver.execute_script("return Array.from(document.images).map(i => i.naturalWidth)")
        assert widths and all(w > 100 for w in widths)  # the training-curve plot decoded and loaded
        text = driver.find_element("tag name", "body").text
        assert "humaneval" in text and "skipped" in text and "name: small" in text
    finally:
        driver.quit()
