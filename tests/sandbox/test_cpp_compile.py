"""C++ candidate programs: how they are built (issue 17) must not change what they report.

- one `jacode_call` lambda holds every check's call (jacode::check instantiated once): each check is still
  evaluated on its own, in test order, its exception caught alone, a malformed line reported in its place;
- linking with gold (when g++ can) gives the same verdicts as the default linker;
- the value writer's helpers compiled once and linked (pch.helpers_object) write the same bytes as the inline
  ones, and are linked only into programs that hold the value writer.
"""

from __future__ import annotations

import shutil

import pytest

from jacode.evals.code import multiple
from jacode.evals.references import REFERENCES
from jacode.evals.registry import get_benchmark, load_problems
from jacode.io import read_jsonl
from jacode.sandbox import compiled, pch, values
from jacode.sandbox.checks import run_checks
from jacode.sandbox.compiled import ValueRunner
from jacode.sandbox.isolation import Limits, Sandbox
from jacode.sandbox.split import candidate_files, expected_files

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not installed")

PROMPT = "#include<assert.h>\n#include<bits/stdc++.h>\nlong f(long x) {\n"
COMPLETION = """    if (x == 2) throw std::runtime_error("two");
    if (x == 5) std::exit(3);
    return x * 10;
}
"""
TESTS = """
int main() {
    auto candidate = f;
    assert(candidate(1) == (10));
    assert(candidate(2) == (20));
    assert(candidate((3)) == (30));
    assert(candidate(4 == (40));
    assert(candidate(4) == (40));
    assert(candidate(5) == (50));
    assert(candidate(6) == (60));
}
"""


def test_one_call_lambda_for_all_checks():
    program = candidate_files({"language": "cpp", "prompt": PROMPT, "tests": TESTS}, COMPLETION)["program.cpp"]
    main = program[program.rindex("int main() {"):]
    assert main.count("[&]") == 1  # one lambda, so one jacode::check instantiation
    assert main.count("jacode::check(") == 6 and main.count("jacode::write_error(") == 1


@pytest.mark.usefixtures("bwrap")
def test_checks_stay_separate_in_the_shared_lambda():
    """Check by check, in order: a value, an exception (caught alone), a value, the malformed line's error in
    its place, a value, then exit(3) ends the program before the last check."""
    files = candidate_files({"language": "cpp", "prompt": PROMPT, "tests": TESTS}, COMPLETION)
    with Sandbox(Limits(timeout_s=20)) as sb:
        runner = ValueRunner(sb, "cpp")
        job = sb.run_steps(files, runner._steps(files, runner.run_limits, compile_needed=True))
    assert job.steps[0].returncode == 0, job.steps[0].output
    run = job.steps[-1]
    assert run.returncode == 3
    records = values.decode_stream(run.results).records
    assert [(r.index, r.kind) for r in records] == [(0, "R"), (1, "E"), (2, "R"), (3, "E"), (4, "R")]
    assert "two" in records[1].error
    assert [records[i].value for i in (0, 2, 4)] == [values.Value("l", 10), values.Value("l", 30),
                                                    values.Value("l", 40)]


@pytest.mark.usefixtures("bwrap")
def test_gold_and_default_linker_give_the_same_verdicts(bench_data, monkeypatch):
    if compiled._cpp_linker() != ["-fuse-ld=gold"]:
        pytest.skip("g++ cannot link with gold here")
    problems = load_problems(get_benchmark("multiple-cpp"), str(bench_data / "multipl-e"))
    refs = list(read_jsonl(REFERENCES / "humaneval-cpp.jsonl"))[::4]
    checks = [multiple.build_check(problems[r["name"]], r[k]) for r in refs for k in ("completion", "wrong_completion")]
    checks.append(multiple.build_check(problems[refs[0]["name"]], "    return undeclared_name;\n}\n"))

    def run() -> list[tuple[bool, str]]:
        with Sandbox(Limits(timeout_s=20)) as sb:
            v = run_checks(checks, sb, workers=2, dedup=False)
        return [(v[i].passed, v[i].status) for i in range(len(checks))]

    gold = run()
    monkeypatch.setattr(compiled, "_cpp_linker", lambda: [])
    assert run() == gold
    assert [p for p, _ in gold[:-1]] == [True, False] * len(refs) and gold[-1] == (False, "compile_error")


STRINGS_PROMPT = "#include<assert.h>\n#include<bits/stdc++.h>\nstd::vector<std::string> g(long n) {\n"
STRINGS_COMPLETION = """    if (n == 3) throw std::out_of_range(std::string(3000, 'x'));
    if (n == 4) throw 7;
    std::vector<std::string> out;
    for (long i = 0; i < n; ++i) out.push_back(std::string(i, 'a') + "\\n\\0" + std::to_string(-i * 1000000007L));
    return out;
}
"""
STRINGS_TESTS = """
int main() {
    auto candidate = g;
    assert(candidate(0) == (std::vector<std::string>()));
    assert(candidate(2) == (std::vector<std::string>({(std::string)"a", (std::string)"b"})));
    assert(candidate(3) == (std::vector<std::string>()));
    assert(candidate(4) == (std::vector<std::string>()));
    assert(candidate(5) == (std::vector<std::string>()));
}
"""


def test_helpers_linked_only_into_programs_with_the_value_writer():
    if pch.helpers_object((compiled.CPP_STD,)) is None:
        pytest.skip("the helpers cannot be compiled here")
    problem = {"language": "cpp", "prompt": PROMPT, "tests": TESTS}
    strings = {"language": "cpp", "prompt": STRINGS_PROMPT, "tests": STRINGS_TESTS}
    for files in (candidate_files(problem, COMPLETION), expected_files(strings)):
        before, after = compiled._cpp_helpers(files["program.cpp"], "/tools")
        assert before == ["-D__jacode_out_linked"] and after[0].startswith("/tools/") and after[0].endswith(".o")
    assert compiled._cpp_helpers(PROMPT + COMPLETION + TESTS, "/tools") == ([], [])


@pytest.mark.usefixtures("bwrap")
def test_linked_and_inline_helpers_write_the_same_bytes(monkeypatch):
    """Values, long and odd strings, a std::exception (cut to 2000 bytes), a non-std exception and the
    malformed line's error: the same results stream with the prebuilt helpers and with the inline ones."""
    if pch.helpers_object((compiled.CPP_STD,)) is None:
        pytest.skip("the helpers cannot be compiled here")
    strings = {"language": "cpp", "prompt": STRINGS_PROMPT, "tests": STRINGS_TESTS}
    # (TESTS' malformed line keeps its expected-values program from compiling, as in MultiPL-E.)
    programs = [candidate_files({"language": "cpp", "prompt": PROMPT, "tests": TESTS}, COMPLETION),
                candidate_files(strings, STRINGS_COMPLETION), expected_files(strings)]

    def streams() -> list[tuple[str, int, bytes]]:
        out = []
        with Sandbox(Limits(timeout_s=20)) as sb:
            runner = ValueRunner(sb, "cpp")
            for files in programs:
                steps = runner._steps(files, runner.run_limits, compile_needed=True)
                job = sb.run_steps(files, steps)
                assert job.steps[0].returncode == 0, job.steps[0].output
                out.append((" ".join(steps[0].argv), job.steps[-1].returncode, job.steps[-1].results))
        return out

    linked = streams()
    monkeypatch.setattr(compiled, "_cpp_helpers", lambda program, tools: ([], []))
    inline = streams()
    assert all("-D__jacode_out_linked" in a for a, _, _ in linked)
    assert not any("__jacode_out" in a for a, _, _ in inline)
    assert [(rc, r) for _, rc, r in linked] == [(rc, r) for _, rc, r in inline]
    records = values.decode_stream(linked[1][2]).records
    assert [(r.index, r.kind) for r in records] == [(0, "R"), (1, "R"), (2, "E"), (3, "E"), (4, "R")]
    assert len(records[2].error) == 2000 and "unknown exception" in records[3].error
