"""The compiled-language runners on real toolchains, in the sandbox: the known traps, the statuses, the MultiPL-E
data fixes, and the CLI. (References and wrong completions for every language: tests/sandbox/test_multiple_split.py.)
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from jacode.evals.references import REFERENCES
from jacode.evals.registry import get_benchmark, load_problems
from jacode.io import read_jsonl
from jacode.languages import LANGUAGES
from jacode.sandbox.checks import run_checks
from jacode.sandbox.isolation import Limits, Sandbox

pytestmark = pytest.mark.usefixtures("bwrap")
LANGS = ["cpp", "cs", "java", "js"]


def references(lang: str) -> list[dict]:
    path = REFERENCES / f"humaneval-{lang}.jsonl"
    if not path.exists():
        pytest.fail(f"{path} is missing: every language needs jacode's own reference solutions")
    return list(read_jsonl(path))


def run(bench_name: str, data: Path, completions: list[tuple[str, str]], timeout_s: float = 20.0, workers: int = 2):
    """Verdicts for (task_id, completion) pairs of a benchmark, through jacode's runner."""
    bench = get_benchmark(bench_name)
    problems = load_problems(bench, str(data))
    checks = [bench.build_check(problems[t], c) for t, c in completions]
    with Sandbox(Limits(timeout_s=timeout_s)) as sb:
        v = run_checks(checks, sb, workers=workers, dedup=False)
    return [v[i] for i in range(len(checks))]


# Completions per language for HumanEval_0_has_close_elements (returns bool) that end the program early with
# status 0, fail an assert of their own, throw, or answer wrongly: none may pass, each with its status. (As
# MultiPL-E's stop sequences make them: JavaScript completions close the function, the others do not.)
TASK = "HumanEval_0_has_close_elements"
TRAPS = {
    "cpp": {"exit0": "    exit(0);\n", "abort": "    assert(1 == 2);\n    return true;\n",
            "throw": '    throw std::runtime_error("no");\n', "wrong": "    return false;\n"},
    "java": {"exit0": "        System.exit(0);\n        return true;\n",
             "abort": "        assert(1 == 2);\n        return true;\n",
             "throw": '        throw new RuntimeException("no");\n', "wrong": "        return false;\n"},
    "cs": {"exit0": "        Environment.Exit(0);\n        return true;\n",
           "abort": "        Debug.Assert(1 == 2);\n        return true;\n",
           "throw": '        throw new Exception("no");\n', "wrong": "        return false;\n"},
    "js": {"exit0": "  process.exit(0);\n}\n", "abort": "  require('node:assert').ok(false);\n  return true;\n}\n",
           "throw": '  throw new Error("no");\n}\n', "wrong": "  return false;\n}\n"},
}
STATUSES = {"exit0": {"exit"}, "abort": {"error", "exit", "killed"}, "throw": {"error"}, "wrong": {"fail"}}


@pytest.mark.parametrize("lang", LANGS)
def test_traps(lang, bench_data):
    right = next(r["completion"] for r in references(lang) if r["name"] == TASK)
    traps = TRAPS[lang]
    verdicts = run(f"multiple-{lang}", bench_data / "multipl-e", [(TASK, right)] + [(TASK, c) for c in traps.values()])
    assert verdicts[0].passed, verdicts[0]
    for (name, _), v in zip(traps.items(), verdicts[1:]):
        assert not v.passed and v.status in STATUSES[name], (name, v)


def test_a_completions_own_asserts_stay_live():
    """A completion may use asserts of its own (MultiPL-E's flags keep them): never -DNDEBUG, java -ea, mcs
    -d:DEBUG. A failing one fails its check (test_traps, "abort")."""
    cpp, java, cs = LANGUAGES["cpp"].values, LANGUAGES["java"].values, LANGUAGES["cs"].values
    assert not any("NDEBUG" in a for a in cpp.compile)
    assert "-ea" in java.run
    assert "-d:DEBUG" in cs.compile


MARKER = "27182.818"


def _alive(marker: str) -> bool:
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if marker.encode() in (p / "cmdline").read_bytes():
                    return True
            except OSError:
                pass
    return False


def test_children_die_with_a_timeout(bench_data):
    daemon = textwrap.dedent(f"""\
            if (fork() == 0) {{ setsid(); execl("/bin/sleep", "sleep", "{MARKER}", (char*)0); }}
            while (1) {{}}
        """)
    v, = run("multiple-cpp", bench_data / "multipl-e", [(TASK, "#include <unistd.h>\n" + daemon)], timeout_s=2)
    assert v.status == "timeout", v
    assert not _alive(MARKER)


def test_each_run_has_its_own_directory(bench_data):
    right = next(r["completion"] for r in references("js") if r["name"] == TASK)
    writer = "  require('fs').writeFileSync('stale.txt', 'x');\n" + right
    reader = "  if (!require('fs').existsSync('stale.txt')) return false;\n" + right  # right only if it leaked
    first, second = run("multiple-js", bench_data / "multipl-e", [(TASK, writer), (TASK, reader)], workers=1)
    assert first.passed and not second.passed and second.status == "fail", (first, second)


def test_pch_only_when_the_program_already_includes_it():
    from jacode.sandbox import pch

    assert pch.qualifies("#include<assert.h>\n#include<bits/stdc++.h>\n// doc\nint f() {\n")
    assert not pch.qualifies("#include <vector>\nint main() {}\n")  # PCH would add declarations
    assert not pch.qualifies("#define _GLIBCXX_DEBUG\n#include <bits/stdc++.h>\n")
    assert not pch.qualifies("#include <bits/stdc++.h>\n#include <boost/any.hpp>\n")
    assert pch.include_args("#include <vector>\n", ("-std=c++17",), "/run/x") == []


def test_java_batch_compile_isolates_programs(bench_data):
    """Programs compiled in one JVM keep separate fates: a compile error stays with its own program."""
    right = next(r["completion"] for r in references("java") if r["name"] == TASK)
    broken = "        int x = ;\n"
    verdicts = run("multiple-java", bench_data / "multipl-e",
                   [(TASK, right), (TASK, broken), (TASK, TRAPS["java"]["wrong"]), (TASK, right + "\n")])
    assert [v.status for v in verdicts] == ["pass", "compile_error", "fail", "pass"], verdicts
    assert "error" in verdicts[1].detail


def test_cs_reference_equality_fix(bench_data):
    """MultiPL-E issue 71: correct C# answers compared with List.Equals fail unless jacode's fix applies."""
    from jacode.sandbox.checks import ValueCheck

    refs = [r for r in references("cs") if r.get("reference_equality")]
    assert len(refs) >= 5
    bench = get_benchmark("multiple-cs")
    problems = load_problems(bench, str(bench_data / "multipl-e"))
    raw = {r["name"]: r for r in read_jsonl(bench_data / "multipl-e" / "humaneval-cs-reworded.jsonl")}
    fixed = [bench.build_check(problems[r["name"]], r["completion"]) for r in refs]
    # The same samples judged with the original tests (reference equality), prompt fix kept.
    unfixed = [ValueCheck("cs", r["name"], problems[r["name"]]["prompt"], raw[r["name"]]["tests"], r["completion"])
               for r in refs]
    with Sandbox(Limits(timeout_s=20)) as sb:
        verdicts = run_checks(fixed + unfixed, sb, workers=2)
    n = len(refs)
    assert all(verdicts[i].passed for i in range(n)), [(refs[i]["name"], verdicts[i].detail) for i in range(n)
                                                       if not verdicts[i].passed]
    assert not any(verdicts[n + i].passed for i in range(n)), "the unfixed tests should fail: defect gone?"
    assert all(any("issue 71" in f for f in problems[r["name"]]["harness_fixes"]) for r in refs)


def test_cli_check_and_execute_multiple(bench_data, tmp_path):
    from typer.testing import CliRunner

    from jacode.cli import app
    from jacode.io import write_jsonl

    runner = CliRunner()
    data = str(bench_data / "multipl-e")
    r = runner.invoke(app, ["eval", "check", "--benchmark", "multiple-cs", "--data", data], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "harness fixes applied to 158 problem(s)" in r.output and "issue 71" in r.output
    refs = references("js")[:3]
    samples = tmp_path / "s.jsonl"
    # Samples as another harness writes them: MultiPL-E name + the text that follows the prompt.
    write_jsonl(samples, [{"task_id": x["name"], "completion": x["completion"]} for x in refs]
                + [{"task_id": refs[0]["name"], "completion": refs[0]["wrong_completion"]}])
    out = tmp_path / "out"
    r = runner.invoke(app, ["eval", "execute", "--benchmark", "multiple-js", "--data", data, "--samples", str(samples),
                            "--out", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert [x["passed"] for x in read_jsonl(out / "results.jsonl")] == [True, True, True, False]


def test_mbpp_loads(bench_data):
    for lang, n in (("cpp", 398), ("cs", 387), ("java", 387), ("js", 399)):
        problems = load_problems(get_benchmark(f"mbpp-{lang}"), str(bench_data / "multipl-e"))
        assert len(problems) == n and all(t.startswith("mbpp_") for t in problems)


def test_chat_answer_to_multiple_completion(bench_data):
    from jacode.evals.code.multiple import completion_from_chat

    bench = get_benchmark("multiple-cpp")
    problems = load_problems(bench, str(bench_data / "multipl-e"))
    ref = references("cpp")[0]
    problem = problems[ref["name"]]
    signature = problem["prompt"].rstrip("\n").split("\n")[-1]
    answer = (f"以下が実装です。\n```cpp\n#include <vector>\n{signature}\n{ref['completion']}\n}}\n```\n"
              "説明は省略します。")
    completion = completion_from_chat(problem, answer)
    v, = run("multiple-cpp", bench_data / "multipl-e", [(ref["name"], completion)])
    assert v.passed, (completion, v)
