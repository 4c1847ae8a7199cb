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
from jacode.recipe import load_recipe, plan, run_recipe
from tests.support import REPO

JACODE = [sys.executable, "-m", "jacode"]


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
    config: {{models: {{final: "${{pretrain}}"}}, benchmarks: {benchmarks}, limit: 2, settings: {{max_new_tokens: 24}},
             data: {{jhumaneval: "{jhe}"}}, allow_partial: {partial}}}
  - name: report
    kind: report
    config: {{title: small}}
"""


def _small(tmp_path: Path, seed: int = 0, steps: int = 6, benchmarks: str = "[humaneval]", jhe: str = "",
           partial: str = "false", run: str = "run") -> Path:
    path = tmp_path / "small.yaml"
    jhe = jhe or str(tmp_path / "jhe.jsonl")
    if not Path(jhe).exists():
        Path(jhe).write_text("")  # an existing (here: empty) file passes validation
    path.write_text(SMALL.format(run_dir=tmp_path / run, seed=seed, steps=steps, benchmarks=benchmarks, jhe=jhe,
                                 partial=partial))
    return path


def _manifest(tmp_path: Path, stage: str) -> dict:
    return json.loads((tmp_path / "run" / stage / "manifest.json").read_text())


def test_runner_manifests_skip_rerun_downstream_and_partial_runs(tmp_path):
    lines: list[str] = []
    recipe = load_recipe(_small(tmp_path))
    # --only on a run where the stages it reads never ran: an error naming the stage to run first
    with pytest.raises(JacodeError, match=r"--only eval: stage 'eval' reads the output of stage 'pretrain', which has "
                                          r"not run here: run .* --only pretrain"):
        run_recipe(recipe, only="eval", echo=lines.append)
    run_recipe(recipe, echo=lines.append)
    for stage in ("model", "pretrain", "eval", "report"):
        m = _manifest(tmp_path, stage)
        assert m["status"] == "done" and m["seconds"] > 0 and m["versions"]["torch"] and m["fingerprint"]
        assert "${run}" in json.dumps(m["config"]) or stage in ("model", "report")  # run paths stored relative
    rows = _manifest(tmp_path, "eval")["summary"]["tables"][0]["rows"]
    assert [(r[0], r[1], r[2], r[-1]) for r in rows] == [("final", "humaneval", "pass@1", "done")]
    assert _manifest(tmp_path, "pretrain")["summary"]["curves"][0]["series"]["pretrain"]
    # Unchanged: everything is skipped.
    assert all(p.action == "skip" for p in plan(load_recipe(_small(tmp_path))))
    # A copy of the run directory is the same run: nothing is planned again.
    shutil.copytree(tmp_path / "run", tmp_path / "copy", symlinks=True)
    assert all(p.action == "skip" for p in plan(load_recipe(_small(tmp_path), run_dir=tmp_path / "copy")))
    # A changed config re-runs that stage and everything that depends on it, nothing else.
    actions = {p.stage.name: p.action for p in plan(load_recipe(_small(tmp_path, steps=8)))}
    assert actions == {"model": "skip", "pretrain": "run", "eval": "run", "report": "run"}
    actions = {p.stage.name: p.action for p in plan(load_recipe(_small(tmp_path, seed=1)))}
    assert actions == {"model": "run", "pretrain": "run", "eval": "run", "report": "run"}
    # --only / --from force stages.
    assert [p.action for p in plan(recipe, only="eval")] == ["skip", "skip", "run", "skip"]
    assert [p.action for p in plan(recipe, start="eval")] == ["skip", "skip", "run", "run"]
    # Re-running one stage makes everything after it stale (its output may differ), and a forced run starts clean.
    (tmp_path / "run" / "pretrain" / "marker").write_text("old")
    run_recipe(recipe, only="pretrain", echo=lambda s: None)
    assert not (tmp_path / "run" / "pretrain" / "marker").exists()
    assert {p.stage.name: p.action for p in plan(recipe)} == {"model": "skip", "pretrain": "skip", "eval": "run",
                                                             "report": "run"}
    with pytest.raises(JacodeError, match="no such stage"):
        plan(recipe, only="nope")
    assert any("[2/4] pretrain: done" in line for line in lines)


def test_a_failing_benchmark_fails_the_eval_stage_unless_partial_results_are_allowed(tmp_path):
    """Never "skipped": a benchmark that cannot run (here: its data file is empty) fails the stage and the run,
    with the stage named; `allow_partial: true` lets the run finish with the stage marked partial."""
    path = _small(tmp_path, benchmarks="[humaneval, jhumaneval]")
    with pytest.raises(JacodeError, match=r"stage 'eval' \(eval\) failed .*1 of 2 .* 1 failed: final on jhumaneval"):
        run_recipe(load_recipe(path), echo=lambda s: None)
    assert _manifest(tmp_path, "eval")["status"] == "failed"
    assert not (tmp_path / "run" / "report").exists()  # the run stopped there
    lines: list[str] = []
    run_recipe(load_recipe(_small(tmp_path, benchmarks="[humaneval, jhumaneval]", partial="true")), echo=lines.append)
    m = _manifest(tmp_path, "eval")
    assert m["status"] == "partial" and "1 failed" in m["summary"]["text"]
    assert any("partial results, allowed: eval" in line for line in lines)


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
    # A stage that fails when it runs (a model directory that exists but cannot be loaded): the error names it,
    # its error and its log, and the run stops there.
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"name: bad\nrun_dir: {tmp_path / 'bad'}\nstages:\n  - name: train\n    kind: pretrain\n"
                   f"    config: {{model: {broken}, data: ['${{shipped}}/ja_corpus.jsonl']}}\n")
    with pytest.raises(JacodeError, match=r"(?s)stage 'train' \(pretrain\) failed .*config.json is not valid JSON"
                                          r".*log: .*train/stage.log"):
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
    from tests.support import chromium_driver

    run_recipe(load_recipe(_small(tmp_path)), echo=lambda s: None)
    report = tmp_path / "run" / "report" / "report.html"
    html = report.read_text()
    assert "data:image/png;base64," in html and "<script" not in html  # self-contained, no scripts
    driver = chromium_driver()
    try:
        driver.get(report.as_uri())
        tables = driver.execute_script(
            "return Object.fromEntries(Array.from(document.querySelectorAll('table')).map(t => [t.id, t.rows.length]))")
        assert tables["stages"] == 5 and tables["eval-0"] == 2 and tables["versions"] > 3
        widths = driver.execute_script("return Array.from(document.images).map(i => i.naturalWidth)")
        assert widths and all(w > 100 for w in widths)  # the training-curve plot decoded and loaded
        text = driver.find_element("tag name", "body").text
        assert "humaneval" in text and "pass@1" in text and "name: small" in text
        assert tables["evaluations-0"] == 2 and "2 of 164" in text  # the side-by-side table: one benchmark
        # Looked at as a person would: the page fits its width (no table pushed off-screen), no raw dicts, and a
        # full-page screenshot of it (kept beside the report for a reader to open).
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert "{'" not in text and '{"' not in text
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1100, min(height + 100, 12000))
        shot = report.with_suffix(".png")
        driver.save_screenshot(str(shot))
        from PIL import Image

        with Image.open(shot) as im:
            assert im.width >= 1000 and im.height >= height * 0.9
            assert len(im.convert("L").getcolors(1 << 16) or []) > 16  # text and a plot, not a blank page
    finally:
        driver.quit()


def test_report_of_a_missing_or_empty_run_fails(tmp_path):
    from jacode.report import build_report

    with pytest.raises(JacodeError, match="no such run directory"):
        build_report(tmp_path / "missing", tmp_path / "r.html")
    (tmp_path / "empty").mkdir()
    with pytest.raises(JacodeError, match="nothing to report"):
        build_report(tmp_path / "empty", tmp_path / "r.html")
    proc = subprocess.run(JACODE + ["report", str(tmp_path / "empty")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "nothing to report" in proc.stderr and not (tmp_path / "r.html").exists()


def test_an_absent_tracker_fails_before_training(tmp_path, tiny_model, monkeypatch):
    """report_to tensorboard without tensorboard installed: refused before any work (not hours of no logs)."""
    import importlib.util

    from typer.testing import CliRunner

    from jacode.cli import app

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real(name, *a))
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "x"}\n')
    r = CliRunner().invoke(app, ["train", "pretrain", "--model", str(tiny_model), "--data", str(data), "--out",
                                 str(tmp_path / "out"), "--report-to", "tensorboard"])
    assert r.exit_code == 2 and "needs the tensorboard package" in r.output and "jacode[tracking]" in r.output
    assert not (tmp_path / "out").exists()


def test_readme_documents_every_stage_kind_from_the_table():
    """README's list of what each stage kind accepts is generated (`jacode stages --markdown`), not written."""
    from jacode.stages_doc import describe_kinds

    readme = (REPO / "README.md").read_text()
    generated = describe_kinds(markdown=True)
    assert generated in readme, "README.md is out of date: paste the output of `jacode stages --markdown`"


JMT = """name: jmt
run_dir: {run}
stages:
  - name: eval
    kind: eval
    config:
      models: {{served: {{endpoint: "{endpoint}", model_name: m}}}}
      benchmarks: [jmt-bench]
      data: {{jmt-bench: "{data}"}}
      judge: {{endpoint: "{judge}", model_name: j}}
"""


def test_recipe_eval_stage_runs_jmt_bench_with_a_judge_and_fails_on_unreachable_servers(bench_data, tmp_path):
    """A recipe's eval stage grades JMT-Bench with a judge engine, with the registry's settings (the same as
    `eval run`); an unreachable model server or judge fails the stage, named, before any answer is asked for."""
    from jacode.evals.registry import get_benchmark
    from tests.support.jmt import answer_responder, jmt_questions
    from tests.support.servers import ScriptedServer, free_port

    data, chosen = jmt_questions(bench_data, tmp_path)
    answers = ScriptedServer(responder=answer_responder)
    judge = ScriptedServer(responder=lambda path, body: "理由。評価：[[7]]")
    dead = f"http://127.0.0.1:{free_port()}/v1"
    recipes = {}
    for name, endpoint, judge_url in (("ok", answers.url, judge.url), ("no-model", dead, judge.url),
                                      ("no-judge", answers.url, dead)):
        recipes[name] = tmp_path / f"{name}.yaml"
        recipes[name].write_text(JMT.format(run=tmp_path / name, endpoint=endpoint, data=data, judge=judge_url))
    try:
        run_recipe(load_recipe(recipes["ok"]), echo=lambda s: None)
        asked = len(answers.requests)
        failures = {}
        for name in ("no-model", "no-judge"):
            with pytest.raises(JacodeError) as e:
                run_recipe(load_recipe(recipes[name]), echo=lambda s: None)
            failures[name] = str(e.value)
    finally:
        answers.stop()
        judge.stop()
    manifest = json.loads((tmp_path / "ok" / "eval" / "manifest.json").read_text())
    assert manifest["status"] == "done" and manifest["summary"]["metrics"] == {"served/jmt-bench/rating_1_10": 7.0}
    bench = get_benchmark("jmt-bench")
    assert asked == 2 * len(chosen) and {q["body"]["max_tokens"] for q in answers.requests} == {1024}
    assert {q["body"]["max_tokens"] for q in judge.requests} == {bench.judge_settings.max_new_tokens} == {2048}
    assert len(answers.requests) == asked  # the failing runs asked the model nothing
    for name, what in (("no-model", "model endpoint"), ("no-judge", "judge endpoint")):
        assert failures[name].startswith("stage 'eval' (eval) failed") and f"jmt-bench: {what}" in failures[name]
        assert "cannot be reached" in failures[name]
        assert json.loads((tmp_path / name / "eval" / "manifest.json").read_text())["status"] == "failed"


def test_dry_run_checks_each_benchmarks_settings_and_judge(tmp_path):
    """A judged benchmark without a judge, and a setting a benchmark refuses, fail at --dry-run with the line."""
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: r\nstages:\n  - name: code\n    kind: eval\n    config:\n      models: x\n"
                      "      benchmarks: [humaneval]\n      settings: {temprature: 0.2}\n"
                      "  - name: ja\n    kind: eval\n    config:\n      models: x\n      benchmarks: [elyza-tasks]\n")
    proc = subprocess.run(JACODE + ["run", str(recipe), "--dry-run", "--no-input-check"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "2 problem(s)" in proc.stderr
    assert f"{recipe}:8: stage 'code' (eval): settings: humaneval: unknown generation setting 'temprature'" \
        in proc.stderr
    assert "did you mean 'temperature'" in proc.stderr
    assert f"{recipe}:12: stage 'ja' (eval): judge: elyza-tasks: elyza-tasks is graded by a judge" in proc.stderr


def _evaluation(d: Path, passed: dict[str, int], total: int = 164, **rates) -> None:
    """An execution benchmark's evaluation directory as run_benchmark writes it (one sample per task)."""
    d.mkdir(parents=True)
    value = sum(passed.values()) / len(passed)
    (d / "summary.json").write_text(json.dumps({
        "benchmark": "humaneval", "kind": "unit", "primary": "pass@1", "scores": {"pass@1": value},
        "n_total": total, "n_tasks": len(passed), "intervals": {"pass@1": {"ci95": [0.0, 1.0]}}, **rates}))
    (d / "scores.json").write_text(json.dumps({"tasks": {t: {"n": 1, "c": c} for t, c in passed.items()}}))


def test_report_puts_evaluations_side_by_side_with_the_tasks_that_changed(tmp_path):
    """Two eval stages (before and after): scores side by side, the paired change with its interval, the tasks
    gained and lost; the same numbers in report.json. One label used by two stages gets its stage's name."""
    from jacode import manifest as mf
    from jacode.report import build_report

    before = {f"HumanEval/{i}": int(i in (1, 2)) for i in range(10)}
    after = {f"HumanEval/{i}": int(i in (2, 3, 4)) for i in range(10)}  # gains 3 and 4, loses 1
    for n, (stage, label, passed) in enumerate([("before", "model", before), ("after", "model", after)]):
        _evaluation(tmp_path / stage / label / "humaneval", passed, well_formed_rate=0.5 + n / 4)
        mf.write(tmp_path / stage, {"stage": stage, "kind": "eval", "status": "done", "started": n, "summary": {
            "text": "1 of 1", "evaluations": [{"model": label, "dir": f"{label}/humaneval"}]}})
    html = build_report(tmp_path, tmp_path / "report.html").read_text()
    numbers = json.loads((tmp_path / "report.json").read_text())
    change = numbers["evaluations"]["changes"][0]
    assert (change["before"], change["after"], change["tasks"]) == ("before/model", "after/model", 10)
    assert change["delta"] == pytest.approx(0.1) and (change["gained"], change["lost"]) == (2, 1)
    assert change["both_pass"] == 1 and change["both_fail"] == 6 and change["ci95"][0] < 0.1 < change["ci95"][1]
    assert [t["task"] for t in change["changed_tasks"]] == ["HumanEval/1", "HumanEval/3", "HumanEval/4"]
    assert [s["value"] for s in numbers["evaluations"]["scores"]] == [0.2, 0.3]
    assert [s["status"] for s in numbers["stages"]] == ["done", "done"]
    assert html.index("<h2>Stages</h2>") < html.index("<h2>Evaluations</h2>") < html.index("<h2>Versions</h2>")
    every = html.split("<summary>humaneval: every task (passed samples / samples)</summary>")[1].split("</details>")[0]
    assert every.count("<tr>") == 11 and "<td>HumanEval/9</td><td>0/1</td><td>0/1</td>" in every
    for text in ("0.200 [0.000–1.000]", "0.300 [0.000–1.000]", "10 of 164", "well-formed", "0.750",
                 "HumanEval/3</td><td>0/1</td><td>1/1</td><td>gained",
                 "HumanEval/1</td><td>1/1</td><td>0/1</td><td>lost"):
        assert text in html, text


def test_report_shows_languages_judges_metrics_and_baselines(tmp_path):
    """Per language (C++ beside Python), judged benchmarks with judge, parse mode, failures and categories by turn,
    metric tasks with their tokenization, baselines as columns — no raw dicts anywhere; `jacode report --baseline`."""
    from jacode import manifest as mf

    stage = tmp_path / "eval"
    _evaluation(stage / "m" / "humaneval", {"HumanEval/0": 1, "HumanEval/1": 0})
    cpp = stage / "m" / "multiple-cpp"
    _evaluation(cpp, {"HumanEval_0": 0, "HumanEval_1": 0, "HumanEval_2": 1})
    summary = json.loads((cpp / "summary.json").read_text())
    (cpp / "summary.json").write_text(json.dumps({**summary, "benchmark": "multiple-cpp", "n_total": 161}))
    jmt = stage / "m" / "jmt-bench"
    jmt.mkdir(parents=True)
    (jmt / "summary.json").write_text(json.dumps({
        "benchmark": "jmt-bench", "kind": "llm-judge", "primary": "rating_1_10", "n_total": 80, "n_tasks": 2,
        "scores": {"rating_1_10": 5.25, "turn1": 6.0, "turn2": 4.5}, "judgments": 8, "failed_judgments": 3,
        "parse_mode": "strict", "judge": {"model": "judge-model", "repeats": 1}}))
    (jmt / "scores.json").write_text(json.dumps({"overall": {"mean": 5.25, "ci95": [4.0, 6.5]}, "categories": {
        "coding": {"turn1": 6.0, "turn2": 4.5, "mean": 5.25}}}))
    wmt = stage / "m" / "wmt-en-ja"
    wmt.mkdir(parents=True)
    (wmt / "summary.json").write_text(json.dumps({"benchmark": "wmt-en-ja", "kind": "metric", "primary": "bleu",
                                                  "n_total": 10, "n_tasks": 10, "scores": {"bleu": 12.5}}))
    (wmt / "scores.json").write_text(json.dumps({"tokenization": "sacrebleu nrefs:1|tok:ja-mecab"}))
    mf.write(stage, {"stage": "eval", "kind": "eval", "status": "done", "started": 0, "summary": {
        "text": "4 of 4", "tables": [{"title": "t", "columns": ["k", "v"], "rows": [["dropped", {"short": 2}]]}],
        "evaluations": [{"model": "m", "dir": f"m/{b}"} for b in ("humaneval", "multiple-cpp", "jmt-bench",
                                                                   "wmt-en-ja")]}})
    (tmp_path / "baselines.yaml").write_text("llama31: {humaneval: 0.62}\n")
    proc = subprocess.run(JACODE + ["report", str(tmp_path), "--baselines", str(tmp_path / "baselines.yaml"),
                                    "--baseline", "swallow:jmt-bench=6.1"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    html = (tmp_path / "report.html").read_text()
    for text in ("pass@1 by language", "<td>python</td><td>0.500 (2 tasks, 1 benchmark)</td>",
                 "<td>cpp</td><td>0.333 (3 tasks, 1 benchmark)</td>",
                 "<td>jmt-bench</td><td>m</td><td>5.250</td><td>4.000–6.500</td><td>judge-model</td><td>strict</td>"
                 "<td>3 of 8</td>", "jmt-bench by category (turn 1 / turn 2 / mean)",
                 "<td>coding</td><td>6.000 / 4.500 / 5.250</td>", "tok:ja-mecab", "llama31 (baseline)",
                 "swallow (baseline)", "<td>0.620</td>", "<td>6.100</td>", "<td>short 2</td>"):
        assert text in html, text
    assert "{" not in html.split("<h2>Versions</h2>")[0].split("</style>")[1]  # no raw dicts in the tables
    numbers = json.loads((tmp_path / "report.json").read_text())
    assert numbers["baselines"] == {"llama31": {"humaneval": 0.62}, "swallow": {"jmt-bench": 6.1}}
    assert html.count("data:image/png;base64,") == 3  # pass@1, rating_1_10 and bleu charts
    bad = tmp_path / "bad.yaml"
    bad.write_text("llama31: 0.62\n")
    proc = subprocess.run(JACODE + ["report", str(tmp_path), "--baselines", str(bad)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "NAME: {BENCHMARK: SCORE}" in proc.stderr
