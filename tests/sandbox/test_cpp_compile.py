"""C++ candidate programs: how they are built (issue 17) must not change what they report.

- one `jacode_call` lambda holds every check's call (jacode::check instantiated once): each check is still
  evaluated on its own, in test order, its exception caught alone, a malformed line reported in its place;
- linking with gold (when g++ can) gives the same verdicts as the default linker.
"""

from __future__ import annotations

import shutil

import pytest

from jacode.evals.check import REFERENCES
from jacode.evals.code import multiple
from jacode.evals.registry import get_benchmark, load_problems
from jacode.io import read_jsonl
from jacode.sandbox import compiled, values
from jacode.sandbox.checks import run_checks
from jacode.sandbox.compiled import ValueRunner
from jacode.sandbox.isolation import Limits, Sandbox
from jacode.sandbox.split import candidate_files

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
