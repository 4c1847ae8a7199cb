"""MultiPL-E tests split into a candidate program (values only) and a trusted expected-values program.

Parse coverage on every MultiPL-E and JMultiPL-E file, no EXPECTED text in candidate programs, and end-to-end
verdicts through jacode's sandboxed runner (jacode.sandbox.compiled) for jacode's reference completions (right
ones pass, wrong ones fail), plus the compile-time check that finds tests which never compiled in MultiPL-E.

The whole reference set runs with JACODE_SPLIT_ALL=1 (C# has 125 references; CI takes a subset).
"""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest

from jacode.evals.code import multiple
from jacode.evals.references import REFERENCES
from jacode.evals.registry import get_benchmark, load_problems
from jacode.io import read_jsonl
from jacode.sandbox import values
from jacode.sandbox.checks import run_checks
from jacode.sandbox.compiled import ValueRunner
from jacode.sandbox.isolation import Limits, Sandbox
from jacode.sandbox.split import (
    SplitError,
    candidate_files,
    compare,
    expected_files,
    problem_split,
    serializer,
    split_tests,
)

LANGS = ["cpp", "cs", "java", "js"]
TOOLS = {"cpp": "g++", "java": "javac", "cs": "mcs", "js": "node"}
ASSERT_CALL = {"cpp": "assert(", "java": "assert(", "cs": "Debug.Assert(", "js": "assert.deepEqual("}


def need(lang: str) -> None:
    if shutil.which(TOOLS[lang]) is None:
        pytest.skip(f"{TOOLS[lang]} not installed")


@pytest.fixture(scope="module")
def jmultiple_dir(tmp_path_factory, bench_data, jhumaneval_file):
    from jacode.evals.jmultiple import build_all

    out = tmp_path_factory.mktemp("jmultiple")
    build_all(jhumaneval_file, bench_data / "multipl-e", out, LANGS)
    return out


def _problems(bench_data, name: str, data=None) -> dict:
    return load_problems(get_benchmark(name), str(data or bench_data / "multipl-e"))


# ---- parsing ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("dataset", ["humaneval", "mbpp"])
def test_every_multiple_test_line_splits(lang, dataset, bench_data):
    path = bench_data / "multipl-e" / f"{dataset}-{lang}-reworded.jsonl"
    raw = list(read_jsonl(path))
    normalized = _problems(bench_data, f"multiple-{lang}" if dataset == "humaneval" else f"mbpp-{lang}")
    assert len(raw) == len(normalized) > 150
    lines = 0
    for r in raw:
        for tests in (r["tests"], normalized[r["name"]]["tests"]):  # the raw data and jacode's normalised one
            sp = split_tests(lang, tests)
            # every statement of the tests' main is one check, in order
            assert len(sp.checks) == tests.count("\n    " + ASSERT_CALL[lang]) + tests.count("\n  " + ASSERT_CALL[lang])
            assert [c.index for c in sp.checks] == list(range(len(sp.checks)))
            assert all(c.line.startswith(ASSERT_CALL[lang]) and c.line.endswith(";") for c in sp.checks)
        lines += len(sp.checks)
    assert lines > 1000
    if lang == "cs":  # jacode's loader rewrites .Equals to .JacodeEquals; both forms split
        assert {c.op for p in normalized.values() for c in problem_split(p).checks} == {"==", "JacodeEquals"}


@pytest.mark.parametrize("lang", LANGS)
def test_every_jmultiple_test_line_splits(lang, bench_data, jmultiple_dir):
    problems = _problems(bench_data, f"jmultiple-{lang}", jmultiple_dir)
    assert len(problems) > 150
    assert sum(len(problem_split(p).checks) for p in problems.values()) > 1000


def test_split_shapes():
    sp = split_tests("cpp", '}\nint main() {\n    auto candidate = f;\n'
                            '    assert(candidate("a)\\"(", \'(\', std::vector<long>({1, 2})) == '
                            '(std::make_tuple(1, "x")));\n'
                            '    assert(candidate(g(1), 2) == -3);\n}\n')
    assert sp.function == "f" and sp.alias == "candidate" and sp.head == "}\n"
    assert [(c.args, c.expected, c.op) for c in sp.checks] == [
        ('"a)\\"(", \'(\', std::vector<long>({1, 2})', '(std::make_tuple(1, "x"))', "=="), ("g(1), 2", "-3", "==")]
    sp = split_tests("java", "    }\n    public static void main(String[] args) {\n"
                             "    assert(f((1l)).equals((Optional.of(\"a,b\"))));\n"
                             "    assert(f((2l)) == (3l));\n    }\n\n}\n")
    assert [(c.expected, c.op) for c in sp.checks] == [('(Optional.of("a,b"))', "equals"), ("(3l)", "==")]
    sp = split_tests("js", "const assert = require('node:assert');\n\n\nfunction test() {\n  let candidate = f;\n"
                           "  assert.deepEqual(candidate([1, 2], \"x,y\"),[\"a\", {b: 1}]);\n}\n\ntest();")
    assert [(c.args, c.expected) for c in sp.checks] == [('[1, 2], "x,y"', '["a", {b: 1}]')]
    bad = [
        ("cpp", "}\nint main() {\n    auto candidate = f;\n    assert(candidate(1) == 2 || true);\n}\n"),
        ("cpp", "}\nint main() {\n    auto candidate = f;\n    assert(candidate(1)[0] == 2);\n}\n"),
        ("cpp", "}\nint main() {\n    auto candidate = f;\n    assert(candidate(1) == 2);\n    foo();\n}\n"),
        ("cpp", "}\nint main() {\n    auto candidate = f;\n    assert(g(1) == 2);\n}\n"),
        ("java", "    }\n    public static void main(String[] args) {\n    assert(f(1).equals(2, 3));\n    }\n\n}\n"),
        ("js", "function test() {\n  let candidate = f;\n  assert.deepEqual(candidate(1),2,3);\n}\n\ntest();"),
        ("js", "function test() {\n  let candidate = f;\n  assert.deepEqual(candidate(1) + 1,2);\n}\n\ntest();"),
        ("cs", "    }\n    public static void Main(string[] args) {\n"
               "    Debug.Assert(F(1) == (2)); // c\n    }\n\n}\n"),
    ]
    for lang, tests in bad:
        with pytest.raises(SplitError):
            split_tests(lang, tests)


# ---- no EXPECTED text in the candidate's program --------------------------------------------------------------
SECRET = "JACODE_SECRET_7f3a"
FAKE = {
    "cpp": ("#include<assert.h>\n#include<bits/stdc++.h>\nstd::string f(long x) {\n",
            '}\nint main() {\n    auto candidate = f;\n    assert(candidate((1)) == ("' + SECRET + '"));\n}\n'),
    "java": ("import java.util.*;\nclass Problem {\n    public static String f(long x) {\n",
             '    }\n    public static void main(String[] args) {\n    assert(f((1l)).equals(("' + SECRET + '")));\n'
             "    }\n\n}\n"),
    "cs": ("using System;\nusing System.Diagnostics;\nclass Problem {\n    public static string F(long x) {\n",
           '    }\n    public static void Main(string[] args) {\n    Debug.Assert(F((1L)).JacodeEquals(("' + SECRET
           + '")));\n    }\n\n}\n'),
    "js": ("function f(x){\n", "const assert = require('node:assert');\n\n\nfunction test() {\n  let candidate = f;\n"
                               '  assert.deepEqual(candidate(1),"' + SECRET + '");\n}\n\ntest();'),
}


@pytest.mark.parametrize("lang", LANGS)
def test_candidate_program_holds_no_expected_value(lang, bench_data):
    prompt, tests = FAKE[lang]
    problem = {"language": lang, "prompt": prompt, "tests": tests}
    cand = "".join(candidate_files(problem, "return 0;").values())
    assert SECRET not in cand
    assert SECRET in "".join(expected_files(problem).values())
    # On the real data: no original test statement, and no distinctive EXPECTED text that is not also part of
    # the prompt, the arguments or the serializer, appears in any candidate program; nor any assert.
    for name in (f"multiple-{lang}", f"mbpp-{lang}"):
        for p in _problems(bench_data, name).values():
            sp = problem_split(p)
            files = candidate_files(p, "")
            program = "".join(files.values())
            main = next(iter(files.values()))  # program.cpp, Problem.java, Program.cs, program.js
            # what jacode generated after the prompt, the (empty) completion and the tests' head
            entry = main.split(serializer(lang))[-1] if lang in ("cpp", "js") else main[len(p["prompt"] + "\n"
                                                                                            + sp.head):]
            assert ASSERT_CALL[lang] not in entry
            known = p["prompt"] + sp.head + serializer(lang) + " ".join(c.args for c in sp.checks)
            for c in sp.checks:
                assert c.line not in program
                core = c.expected.strip("() ")
                if len(core) >= 6 and core not in known:
                    assert core not in program, (p["task_id"], core)


# ---- end to end, through the sandboxed runner ----------------------------------------------------------------
def _references(lang: str) -> list[dict]:
    refs = list(read_jsonl(REFERENCES / f"humaneval-{lang}.jsonl"))
    if lang == "cs" and not os.environ.get("JACODE_SPLIT_ALL"):
        # every reference that needs JacodeEquals (MultiPL-E issue 71) and a spread of the others
        refs = [r for r in refs if r["reference_equality"]] + [r for r in refs if not r["reference_equality"]][::5]
    return refs


def verdicts(lang: str, problems: list[dict], completions: list[str]) -> list[tuple[bool, str, str]]:
    """(passed, status, detail) per sample from jacode's runner: candidate programs in the sandbox, expected values
    from the trusted program (a task whose expected program fails gives compile_error for its samples)."""
    checks = [multiple.build_check(p, c) for p, c in zip(problems, completions)]
    with Sandbox(Limits(timeout_s=20)) as sb:
        v = run_checks(checks, sb, workers=2)
    return [(v[i].passed, v[i].status, v[i].detail) for i in range(len(checks))]


@pytest.mark.usefixtures("bwrap")
@pytest.mark.parametrize("lang", LANGS)
def test_references_pass_and_wrong_completions_fail(lang, bench_data):
    need(lang)
    refs = _references(lang)
    assert len(refs) >= 30
    problems = _problems(bench_data, f"multiple-{lang}")
    probs = [problems[r["name"]] for r in refs]
    v = verdicts(lang, probs + probs, [r["completion"] for r in refs] + [r["wrong_completion"] for r in refs])
    n = len(refs)
    bad = [(refs[i]["name"], v[i]) for i in range(n) if not v[i][0]]
    passed_wrong = [refs[i]["name"] for i in range(n) if v[n + i][0]]
    assert not bad, bad
    assert not passed_wrong, passed_wrong
    assert all(v[n + i][1] in ("fail", "error", "compile_error", "exit") for i in range(n))
    some_fail = next(v[n + i] for i in range(n) if v[n + i][1] == "fail")
    assert "expected:" in some_fail[2] and "got:" in some_fail[2] and "check " in some_fail[2]


@pytest.mark.usefixtures("bwrap")
@pytest.mark.parametrize("lang", LANGS)
def test_jmultiple_reference_sample(lang, bench_data, jmultiple_dir):
    """JMultiPL-E differs from MultiPL-E only in the prompts' comments: a sample shows the same verdicts."""
    need(lang)
    refs = list(read_jsonl(REFERENCES / f"humaneval-{lang}.jsonl"))[:4]
    problems = _problems(bench_data, f"jmultiple-{lang}", jmultiple_dir)
    probs = [problems[r["name"]] for r in refs]
    v = verdicts(lang, probs + probs, [r["completion"] for r in refs] + [r["wrong_completion"] for r in refs])
    assert [x[0] for x in v] == [True] * 4 + [False] * 4, v


# Tests that never compiled (or parsed) in MultiPL-E itself: the expected program refuses them too, so every
# sample of those tasks fails, as in MultiPL-E. The full count per language is in the module's report script.
NEVER_COMPILED = {
    "cpp": ["mbpp_407_rearrange_bigger", "HumanEval_137_compare_one"],  # std::any ==; std::nullopt as a type
    "java": ["mbpp_587_list_tuple"],  # Pair<Long, Long, Long, Long, Long, Long>: javatuples' Pair has two
    "cs": ["mbpp_115_empty_dit"],  # `new List<object()}`: not code
    "js": ["HumanEval_51_remove_vowels"],  # a raw newline inside a string literal
}
COMPILES = {"cpp": "HumanEval_103_rounded_avg", "java": "mbpp_3_is_not_prime", "cs": "mbpp_3_is_not_prime",
            "js": "HumanEval_0_has_close_elements"}


@pytest.mark.usefixtures("bwrap")
@pytest.mark.parametrize("lang", LANGS)
def test_expected_program_refuses_tests_that_never_compiled(lang, bench_data):
    need(lang)
    problems = {**_problems(bench_data, f"multiple-{lang}"), **_problems(bench_data, f"mbpp-{lang}")}
    names = NEVER_COMPILED[lang] + [COMPILES[lang]]
    with Sandbox(Limits(timeout_s=20)) as sb:
        runner = ValueRunner(sb, lang)
        runs = [runner.expected(multiple.build_check(problems[n], "")) for n in names]
    assert not any(ok for ok, _ in runs[:-1]), [(n, ok, str(why)[:200]) for n, (ok, why) in zip(names, runs)]
    ok, results = runs[-1]
    assert ok, results
    checks = problem_split(problems[names[-1]]).checks
    assert len(values.decode_stream(results).records) == len(checks)


# ---- C++: MultiPL-E's Union_* result types --------------------------------------------------------------------
ROUNDED_AVG = """    if (n > m) return -1;
    long s = n + m, r = s / 2;
    if (s % 2 == 1 && r % 2 == 1) r += 1;  // Python's round: half to even
    std::string bits;
    for (long x = r; x > 0; x /= 2) bits = char('0' + x % 2) + bits;
    return std::string("0b") + (bits.empty() ? "0" : bits);
"""


@pytest.mark.usefixtures("bwrap")
def test_cpp_union_results(bench_data):
    """A Union result is written as the alternative its constructor set; EXPECTED as the alternative that
    the test's operator== picks. The right answer in the wrong alternative fails."""
    need("cpp")
    p = _problems(bench_data, "multiple-cpp")["HumanEval_103_rounded_avg"]
    right = ROUNDED_AVG
    wrong_alternative = ROUNDED_AVG.replace("return -1;", 'return std::string("-1");')
    wrong_value = ROUNDED_AVG.replace("return -1;", "return -2;")
    v = verdicts("cpp", [p] * 3, [right, wrong_alternative, wrong_value])
    assert v[0][:2] == (True, "pass"), v[0]
    assert v[1][1] == "fail" and 'alternative 0: "-1"' in v[1][2] and "alternative 1: -1L" in v[1][2]
    assert v[2][1] == "fail"


def test_result_stream_forgeries_never_pass(bench_data):
    """Whatever a candidate writes to fd 3 is data: duplicates, unknown indices, garbage all fail."""
    p = _problems(bench_data, "multiple-js")["HumanEval_0_has_close_elements"]
    checks = problem_split(p).checks
    n = len(checks)
    good = b"".join(b"R%d b%d\n" % (i, int(v)) for i, v in enumerate([1, 0, 1, 0, 1, 1, 0]))
    assert n == 7 and compare("js", checks, good, good)[0]
    forged = [
        good + b"R0 b1\n",  # a second record for a check
        good + b"R7 b1\n",  # a check that does not exist
        good + b"garbage",  # anything after the last record
        good[: good.index(b"R6")],  # ended early
        good.replace(b"R3 b0\n", b"E3 s4:boom\n"),  # threw
        good.replace(b"R3 b0", b"R3 ?s1:x"),  # unrepresentable
        good.replace(b"R3 b0", b"R3 L0:"),  # an array for a boolean
    ]
    got = [compare("js", checks, good, f) for f in forged]
    assert [g[0] for g in got] == [False] * len(forged)
    assert [g[1] for g in got] == ["fail", "fail", "fail", "exit", "error", "fail", "fail"]


def test_report_counts(bench_data):
    """Checks and tasks per file (the numbers the module's documentation quotes)."""
    counts = {}
    for lang in LANGS:
        for name in (f"multiple-{lang}", f"mbpp-{lang}"):
            probs = _problems(bench_data, name)
            counts[name] = (len(probs), sum(len(problem_split(p).checks) for p in probs.values()))
    assert counts["multiple-cpp"] == (161, 1130) and counts["mbpp-js"] == (399, 1236)
    print(json.dumps(counts))


def test_no_check_text_is_lost():
    """Re-assembling each check reproduces the original statement (modulo whitespace)."""
    sp = split_tests("cs", "    }\n    public static void Main(string[] args) {\n"
                           "    Debug.Assert(F((new List<long>(new long[]{(long)1L}))).JacodeEquals((\"a)\")));\n"
                           "    Debug.Assert(F((2L)) == (3L));\n    }\n\n}\n")
    rebuilt = [f"Debug.Assert(F({c.args}).JacodeEquals({c.expected}));" if c.op == "JacodeEquals"
               else f"Debug.Assert(F({c.args}) == {c.expected});" for c in sp.checks]
    assert [re.sub(r"\s", "", x) for x in rebuilt] == [re.sub(r"\s", "", c.line) for c in sp.checks]
