"""AtCoder-style judging: the shipped problems, every verdict, the comparators and the special judge."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jacode.cli import app
from jacode.evals.atcoder.problems import DEFAULT_DIR, load_problems_dir
from jacode.io import read_jsonl, write_jsonl
from jacode.sandbox.isolation import Sandbox
from jacode.sandbox.judge import judge_program, tokens_equal

runner = CliRunner()


def test_shipped_problems_are_complete():
    problems = load_problems_dir(None)
    assert len(problems) >= 12
    kinds = {p["checker"] for p in problems}
    assert kinds == {"exact", "float", "special"}
    for p in problems:
        assert any("\u3040" <= ch <= "\u30ff" for ch in p["statement"]), f"{p['task_id']}: statement not Japanese"
        hidden = [c for c in p["cases"] if not c["name"].startswith("sample")]
        assert len(hidden) >= 3, p["task_id"]
        assert set(p["references"]) == {"python", "cpp"}


@pytest.mark.usefixtures("bwrap")
@pytest.mark.parametrize("bench", ["atcoder-mini", "atcoder-mini-cpp"])
def test_reference_solutions_are_accepted(bench):
    r = runner.invoke(app, ["eval", "check", "--benchmark", bench, "--workers", "2"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    n = len(load_problems_dir(None))
    assert f"{n}/{n} reference solutions pass" in r.output


def _problem(tmp_path: Path, checker: str = "exact", extra: str = "", cases=None, checker_py: str | None = None):
    """A small problem in the documented directory format: read N numbers, print their sum."""
    d = tmp_path / "probs" / "sum"
    (d / "cases").mkdir(parents=True)
    (d / "statement.md").write_text("# 合計\nN 個の整数の和を出力してください。\n", encoding="utf-8")
    (d / "problem.toml").write_text(f'title = "合計"\ntime_limit_s = 1.0\nmemory_mb = 256\nchecker = "{checker}"\n'
                                    + extra)
    for name, (inp, out) in (cases or {"sample-1": ("3\n1 2 3\n", "6\n"), "hidden-1": ("2\n10 -4\n", "6\n"),
                                       "hidden-2": ("1\n7\n", "7\n")}).items():
        (d / "cases" / f"{name}.in").write_text(inp)
        (d / "cases" / f"{name}.out").write_text(out)
    if checker_py:
        (d / "checker.py").write_text(checker_py)
    return d


SUM_PY = "n = int(input())\nprint(sum(map(int, input().split())))\n"


@pytest.mark.usefixtures("bwrap")
def test_every_verdict(tmp_path):
    from jacode.evals.atcoder.problems import load_problem

    p = load_problem(_problem(tmp_path))
    sb = Sandbox()
    cases = {
        "AC": SUM_PY,
        "WA": "n = int(input())\nprint(sum(map(int, input().split())) + 1)\n",
        "TLE": "while True:\n    pass\n",
        "RE": "raise SystemExit(3)\n",
        "MLE": "x = bytearray(2 * 1024**3)\nprint(len(x))\n",
        "CE": "def f(:\n",
    }
    for want, src in cases.items():
        v = judge_program(sb, p, "python", src)
        assert v.status == want, (want, v)
        assert v.passed == (want == "AC")
    wa_case = judge_program(sb, p, "python", "print(6)\n")  # right on two cases, wrong on one
    assert wa_case.status == "WA" and [c["verdict"] for c in wa_case.extra["cases"]] == ["AC", "AC", "WA"]
    cpp_ce = judge_program(sb, p, "cpp", "int main() { return undefined_name; }\n")
    assert cpp_ce.status == "CE"
    cpp_ac = judge_program(sb, p, "cpp", "#include <iostream>\nint main(){long n,s=0,x;std::cin>>n;"
                                          "while(n--){std::cin>>x;s+=x;}std::cout<<s<<\"\\n\";}\n")
    assert cpp_ac.status == "AC", cpp_ac


def test_token_comparison():
    assert tokens_equal("6  \n\n", "6\n", "exact", 0, 0)
    assert tokens_equal("1 2\n3", "1 2 3\n", "exact", 0, 0)
    assert not tokens_equal("6.0", "6", "exact", 0, 0)
    assert not tokens_equal("6 7", "6", "exact", 0, 0)
    assert tokens_equal("0.3333334", "0.333333333", "float", 1e-6, 1e-6)
    assert tokens_equal("1000000.5", "1000000.0", "float", 1e-9, 1e-6)  # relative tolerance
    assert not tokens_equal("0.34", "0.333333", "float", 1e-6, 1e-6)
    assert not tokens_equal("nan", "0.5", "float", 1e-6, 1e-6)
    assert not tokens_equal("Yes", "yes", "float", 1e-6, 1e-6)


@pytest.mark.usefixtures("bwrap")
def test_special_judge(tmp_path):
    """Any pair (a, b) with a + b = N is accepted; the checker itself runs in the sandbox."""
    checker = textwrap.dedent("""\
        import sys
        n = int(open(sys.argv[1]).read())
        try:
            a, b = map(int, open(sys.argv[3]).read().split())
        except Exception:
            print("malformed"); sys.exit(1)
        sys.exit(0 if a + b == n and a >= 0 and b >= 0 else 1)
        """)
    from jacode.evals.atcoder.problems import load_problem

    p = load_problem(_problem(tmp_path, "special", cases={"sample-1": ("5\n", "2 3\n")}, checker_py=checker))
    sb = Sandbox()
    assert judge_program(sb, p, "python", "n = int(input())\nprint(0, n)\n").status == "AC"
    assert judge_program(sb, p, "python", "n = int(input())\nprint(n, n)\n").status == "WA"
    assert judge_program(sb, p, "python", "print('hello')\n").status == "WA"


@pytest.mark.usefixtures("bwrap")
def test_judge_cli_on_a_problem_directory(tmp_path):
    d = _problem(tmp_path)
    samples = tmp_path / "samples.jsonl"
    write_jsonl(samples, [{"task_id": "sum", "completion": SUM_PY}, {"task_id": "sum", "completion": "print(0)\n"}])
    out = tmp_path / "out"
    r = runner.invoke(app, ["eval", "judge", "--problems", str(d.parent), "--samples", str(samples), "--out", str(out)],
                      catch_exceptions=False)
    assert r.exit_code == 0, r.output
    rows = list(read_jsonl(out / "results.jsonl"))
    assert [x["status"] for x in rows] == ["AC", "WA"]
    assert [c["verdict"] for c in rows[1]["cases"]] == ["WA", "WA", "WA"]
    assert "50.00%" in r.output


@pytest.mark.usefixtures("bwrap")
def test_atcoder_mini_chat_run_offline(tmp_path):
    """`eval run --benchmark atcoder-mini` works offline: statement -> program -> judged."""
    from tests.support.servers import ScriptedServer

    first = sorted(p.name for p in DEFAULT_DIR.iterdir() if p.is_dir())[0]
    ref = (DEFAULT_DIR / first / "ref.py").read_text(encoding="utf-8")
    server = ScriptedServer(default=("ok", f"こちらが解答です。\n```python\n{ref}```"))
    try:
        out = tmp_path / "run"
        r = runner.invoke(app, ["eval", "run", "--benchmark", "atcoder-mini", "--endpoint", server.url,
                                "--model-name", "m", "--mode", "chat", "--limit", "2", "--out", str(out), "--k", "1"],
                          catch_exceptions=False)
        assert r.exit_code == 0, r.output
        rows = list(read_jsonl(out / "results.jsonl"))
        assert rows[0]["status"] == "AC" and rows[1]["status"] != "AC"
        assert "標準入力" in server.requests[0]["body"]["messages"][0]["content"]
        assert json.loads((out / "scores.json").read_text())["scores"]["pass@1"] == 0.5
    finally:
        server.stop()
