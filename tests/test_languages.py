"""Language runners on real toolchains: reference solutions pass, wrong ones fail, and the known traps hold."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from jacode.evals.check import REFERENCES
from jacode.evals.code.execution import make_executor, run_many
from jacode.evals.code.languages import LANGUAGES
from jacode.evals.code.sandbox import Limits, Sandbox
from jacode.evals.registry import get_benchmark, load_problems
from jacode.io import read_jsonl

pytestmark = pytest.mark.usefixtures("bwrap")
LANGS = ["cpp", "cs", "java", "js"]


def references(lang: str) -> list[dict]:
    path = REFERENCES / f"humaneval-{lang}.jsonl"
    if not path.exists():
        pytest.fail(f"{path} is missing: every language needs jacode's own reference solutions")
    return list(read_jsonl(path))


@pytest.fixture(scope="module")
def jmultiple_dir(tmp_path_factory, bench_data, jhumaneval_file):
    from jacode.evals.jmultiple import build_all

    out = tmp_path_factory.mktemp("jmultiple")
    build_all(jhumaneval_file, bench_data / "multipl-e", out, LANGS)
    return out


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("variant", ["multiple", "jmultiple"])
def test_references_pass_and_mutants_fail(lang, variant, bench_data, jmultiple_dir):
    refs = [r for r in references(lang) if not r.get("reference_equality")]
    assert len(refs) >= 25
    # All references on MultiPL-E; a sample of them shows the Japanese variants behave the same (saves CI time).
    refs = refs[:30] if variant == "multiple" else refs[:8]
    data = bench_data / "multipl-e" if variant == "multiple" else jmultiple_dir
    bench = get_benchmark(f"{variant}-{lang}")
    problems = load_problems(bench, str(data))
    if variant == "jmultiple":
        some = problems[refs[0]["name"]]["prompt"]
        assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in some), "no Japanese in prompt"
    programs = [bench.build_program(problems[r["name"]], r["completion"]) for r in refs]
    programs += [bench.build_program(problems[r["name"]], r["wrong_completion"]) for r in refs]
    verdicts = run_many(programs, Sandbox(Limits(timeout_s=20)), workers=2, language=lang)
    n = len(refs)
    bad_refs = [(refs[i]["name"], verdicts[i].status, verdicts[i].detail[:300]) for i in range(n)
                if not verdicts[i].passed]
    passed_mutants = [refs[i]["name"] for i in range(n) if verdicts[n + i].passed]
    assert not bad_refs, bad_refs
    assert not passed_mutants, f"wrong solutions passed: {passed_mutants}"
    assert all(verdicts[n + i].status in ("fail", "compile_error") for i in range(n))


# Programs per language that end early with status 0, before any check runs; none may pass.
EARLY_EXIT = {
    "cpp": "#include <cstdlib>\n#include <cassert>\nint main() {\n    std::exit(0);\n    assert(1 == 2);\n}\n",
    "java": textwrap.dedent("""\
        class Problem {
            public static void main(String[] args) {
                System.exit(0);
                assert(1 == 2);
            }
        }
        """),
    "cs": textwrap.dedent("""\
        using System;
        using System.Diagnostics;
        class Problem {
            public static void Main(string[] args) {
                Environment.Exit(0);
                Debug.Assert(1 == 2);
            }
        }
        """),
    "js": "process.exit(0);\nconst assert = require('node:assert');\nassert.deepEqual(1, 2);\n",
}

# A failing assertion per language: must fail (catches -DNDEBUG, java without -ea, C# without DEBUG).
FAILING_ASSERT = {
    "cpp": "#include <cassert>\nint main() {\n    assert(1 == 2);\n}\n",
    "java": "class Problem {\n    public static void main(String[] args) {\n        assert(1 == 2);\n    }\n}\n",
    "cs": ("using System.Diagnostics;\nclass Problem {\n    public static void Main(string[] args) {\n"
           "        Debug.Assert(1 == 2);\n    }\n}\n"),
    "js": "const assert = require('node:assert');\nassert.deepEqual([1, 2], [1, 3]);\n",
}

PASSING = {
    "cpp": "#include <cassert>\nint main() {\n    assert(1 == 1);\n}\n",
    "java": "class Problem {\n    public static void main(String[] args) {\n        assert(1 == 1);\n    }\n}\n",
    "cs": ("using System.Diagnostics;\nclass Problem {\n    public static void Main(string[] args) {\n"
           "        Debug.Assert(1 == 1);\n    }\n}\n"),
    "js": "const assert = require('node:assert');\nassert.deepEqual([1, 2], [1, 2]);\n",
}


@pytest.mark.parametrize("lang", LANGS)
def test_traps(lang):
    ex = make_executor(Sandbox(Limits(timeout_s=20)), lang)
    assert ex.run(PASSING[lang]).passed
    early = ex.run(EARLY_EXIT[lang])
    assert not early.passed and early.status == "exit", early
    failing = ex.run(FAILING_ASSERT[lang])
    assert not failing.passed and failing.status == "fail", failing


def test_assertions_are_never_compiled_out():
    cpp, java, cs = LANGUAGES["cpp"], LANGUAGES["java"], LANGUAGES["cs"]
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


def test_children_die_with_a_timeout():
    program = textwrap.dedent(f"""\
        #include <unistd.h>
        int main() {{
            if (fork() == 0) {{ setsid(); execl("/bin/sleep", "sleep", "{MARKER}", (char*)0); }}
            while (1) {{}}
        }}
        """)
    v = make_executor(Sandbox(Limits(timeout_s=2)), "cpp").run(program)
    assert v.status == "timeout"
    assert not _alive(MARKER)


def test_each_run_has_its_own_directory():
    ex = make_executor(Sandbox(Limits(timeout_s=20)), "js")
    writer = "require('fs').writeFileSync('stale.txt', 'x');\n"
    reader = "const assert = require('node:assert');\nassert.equal(require('fs').existsSync('stale.txt'), false);\n"
    assert ex.run(writer).passed
    assert ex.run(reader).passed


def test_pch_only_when_the_program_already_includes_it():
    from jacode.evals.code import pch

    assert pch.qualifies("#include<assert.h>\n#include<bits/stdc++.h>\n// doc\nint f() {\n")
    assert not pch.qualifies("#include <vector>\nint main() {}\n")  # PCH would add declarations
    assert not pch.qualifies("#define _GLIBCXX_DEBUG\n#include <bits/stdc++.h>\n")
    assert not pch.qualifies("#include <bits/stdc++.h>\n#include <boost/any.hpp>\n")
    # Without <bits/stdc++.h> a program missing an include must still fail to compile.
    ex = make_executor(Sandbox(Limits(timeout_s=20)), "cpp")
    v = ex.run("#include <cassert>\nint main() {\n    std::vector<int> v{1};\n    assert(v.size() == 1);\n}\n")
    assert v.status == "compile_error", v


def test_java_batch_compile_isolates_programs():
    """Programs compiled in one JVM keep separate fates: a compile error stays with its own program."""
    ok = PASSING["java"]
    broken = "class Problem {\n    public static void main(String[] args) {\n        int x = ;\n    }\n}\n"
    wrong = FAILING_ASSERT["java"]
    v = run_many([ok, broken, wrong, ok.replace("1 == 1", "2 == 2")], Sandbox(Limits(timeout_s=20)), workers=2,
                 language="java")
    assert [v[i].status for i in range(4)] == ["pass", "compile_error", "fail", "pass"]
    assert "error" in v[1].detail


def test_cs_reference_equality_fix(bench_data):
    """MultiPL-E issue 71: correct C# answers compared with List.Equals fail unless jacode's fix applies."""
    refs = [r for r in references("cs") if r.get("reference_equality")]
    assert len(refs) >= 5
    bench = get_benchmark("multiple-cs")
    problems = load_problems(bench, str(bench_data / "multipl-e"))
    raw = {r["name"]: r for r in read_jsonl(bench_data / "multipl-e" / "humaneval-cs-reworded.jsonl")}
    fixed = [bench.build_program(problems[r["name"]], r["completion"]) for r in refs]
    # The same programs with the original tests (reference equality), prompt fix kept.
    unfixed = [problems[r["name"]]["prompt"] + r["completion"] + "\n" + raw[r["name"]]["tests"] for r in refs]
    verdicts = run_many(fixed + unfixed, Sandbox(Limits(timeout_s=20)), workers=2, language="cs")
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
    v = make_executor(Sandbox(Limits(timeout_s=20)), "cpp").run(bench.build_program(problem, completion))
    assert v.passed, (completion, v)
