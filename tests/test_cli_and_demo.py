"""The command surface: every subcommand listed with a description; the demo runs end to end."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from jacode.cli import app

runner = CliRunner()


def test_help_lists_every_command_with_a_description():
    out = runner.invoke(app, ["--help"]).output
    for cmd in ["eval", "serve", "doctor", "model", "demo", "data", "tokenizer", "train", "merge", "upcycle", "synth",
                "arena", "run", "watch", "report"]:
        line = next((ln for ln in out.splitlines() if f" {cmd} " in ln), "")
        assert line and len(line.split(cmd, 1)[1].strip(" │")) > 10, f"{cmd} lacks a description:\n{out}"
    sub = runner.invoke(app, ["eval", "--help"]).output
    for cmd in ["generate", "execute", "score", "run", "check", "list", "ja"]:
        assert f" {cmd} " in sub
    for group, cmds in {"synth": ["magpie", "persona", "code-verified", "score"], "merge": ["chat-vector",
                        "task-arithmetic"], "arena": ["serve", "ratings", "export", "import"],
                        "data": ["run", "report"]}.items():
        text = runner.invoke(app, [group, "--help"]).output
        assert all(f" {c} " in text for c in cmds), text


def test_doctor_reports_the_sandbox():
    r = runner.invoke(app, ["doctor"])
    assert "sandbox (bubblewrap)" in r.output and "torch" in r.output


@pytest.mark.usefixtures("bwrap")
def test_demo_runs_end_to_end(tmp_path):
    r = runner.invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--limit", "3"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "pass@1" in r.output and "reference solutions: 164/164 pass" in r.output
    assert (tmp_path / "demo" / "humaneval" / "scores.json").exists()
