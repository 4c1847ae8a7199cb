"""The Python equality in jacode.sandbox.values agrees with each language's own operator.

Per language, one trusted program evaluates many (actual, expected) pairs with the operator MultiPL-E's tests
use (`==`, `.equals`, jacode's `JacodeEquals`, `.Equals`, `assert.deepEqual`), prints its verdict for each
pair, and writes both values through the serializer the candidate programs use. The decoded values must get
the same verdict from `values.equal`. Also here: the decoder's strictness on hostile streams.
"""

from __future__ import annotations

import shutil

import pytest

from jacode.sandbox import values
from jacode.sandbox.split import serializer
from tests.support import toolchains

# ---- C++: (actual, expected) as C++ expressions; the static types are what MultiPL-E's == sees ----------------
CPP_PAIRS = [
    ("3L", "3"),
    ("3L", "4"),
    ("(1L << 40)", "(1L << 40)"),
    ("3L", "3.0"),
    ("3L", "3.5"),
    ("2.5f", "2.5"),
    ("0.1f", "0.1"),
    ("0.1f", "0.1f"),
    ("16777217L", "16777216.0f"),
    ("16777217", "16777217.0f"),
    ("((1L << 53) + 1)", "9007199254740992.0"),
    ("std::nanf(\"\")", "std::nanf(\"\")"),
    ("std::nan(\"\")", "std::nan(\"\")"),
    ("-0.0", "0.0"),
    ("-0.0f", "0"),
    ("HUGE_VALF", "HUGE_VAL"),
    ("true", "true"),
    ("true", "1"),
    ("true", "2"),
    ("false", "0"),
    ("'a'", "97"),
    ("std::string(\"abc\")", "\"abc\""),
    ("std::string(\"abc\")", "\"abd\""),
    ("std::string(\"a\\0b\", 3)", "\"a\""),
    ("std::string(\"a\")", "std::string(\"a\\0\", 2)"),
    ("std::string(\"\\xe3\\x81\\x82\")", "\"\\xe3\\x81\\x82\""),
    ("std::vector<long>({1, 2})", "std::vector<long>({(long)1, (long)2})"),
    ("std::vector<long>({1, 2})", "std::vector<long>({(long)2, (long)1})"),
    ("std::vector<long>()", "std::vector<long>()"),
    ("std::vector<long>({1})", "std::vector<long>({1, 2})"),
    ("std::vector<float>({0.5f, 0.1f})", "std::vector<float>({0.5f, 0.1f})"),
    ("std::vector<std::string>({\"a\", \"b\"})", "std::vector<std::string>({(std::string)\"a\", (std::string)\"b\"})"),
    ("std::vector<std::vector<long>>({{1}, {}})", "std::vector<std::vector<long>>({std::vector<long>({1}), {}})"),
    ("std::vector<bool>({true, false})", "std::vector<bool>({true, false})"),
    ("std::tuple<long, long>(1, 2)", "std::make_tuple(1, 2)"),
    ("std::tuple<long, long>(1, 2)", "std::make_tuple(1, 3)"),
    ("std::tuple<float, float>(0.1f, 2)", "std::make_tuple(0.1, 2)"),
    ("std::tuple<std::string, long>(\"a\", 1)", "std::make_tuple(\"a\", 1)"),
    ("std::pair<long, long>(1, 2)", "std::pair<long, long>(1, 2)"),
    ("std::map<std::string, long>({{\"a\", 1}, {\"b\", 2}})", "std::map<std::string, long>({{\"b\", 2}, {\"a\", 1}})"),
    ("std::map<std::string, long>({{\"a\", 1}})", "std::map<std::string, long>({{\"a\", 2}})"),
    ("std::map<long, long>()", "std::map<long, long>()"),
    ("std::map<std::tuple<long, long>, long>({{{1, 2}, 3}})", "std::map<std::tuple<long, long>, long>({{{1, 2}, 3}})"),
    ("std::optional<long>(5)", "5"),
    ("std::optional<long>()", "5"),
    ("std::optional<long>()", "std::nullopt"),
    ("std::optional<long>(5)", "std::nullopt"),
    ("std::optional<std::string>(\"x\")", "\"x\""),
    ("std::optional<long>(5)", "std::optional<long>(5)"),
    ("std::optional<long>()", "std::optional<long>()"),
    ("std::optional<long>(5)", "std::optional<long>()"),
    ("std::optional<float>(2.5f)", "2.5"),
    ("std::optional<std::tuple<long, long>>(std::make_tuple(1L, 2L))", "std::make_tuple(1, 2)"),
    ("std::variant<long, std::string>(1L)", "std::variant<long, std::string>(1L)"),
    ("std::variant<long, std::string>(1L)", "std::variant<long, std::string>(std::string(\"1\"))"),
    ("std::numeric_limits<long>::max()", "std::numeric_limits<long>::max()"),
    ("(short)7", "7L"),
    ("10000000000L", "1e10f"),
    ("0.1f", "0L"),
    ("std::vector<std::tuple<std::string, long>>({{\"a\", 1}})",
     "std::vector<std::tuple<std::string, long>>({{\"a\", 1}})"),
]

CPP_PROGRAM = """#include <bits/stdc++.h>
{serializer}
static void record(int index, const std::string& value) {{
    jacode::write_record("R" + std::to_string(index) + " " + value + "\\n");
}}
template <class A, class B>
void pair(int k, const A& a, const B& b) {{
    std::printf("%d %d\\n", k, (a == b) ? 1 : 0);
    std::string x, y;
    jacode::put(x, a);
    jacode::put(y, b);
    record(2 * k, x);
    record(2 * k + 1, y);
}}
int main() {{
{calls}
    return 0;
}}
"""

# ---- Java: (op, declaration type of actual, actual, type of expected, expected) ---------------------------------
JAVA_PAIRS = [
    ("==", "long", "3l", "int", "3"),
    ("==", "long", "3l", "long", "4l"),
    ("==", "float", "0.1f", "double", "0.1"),
    ("==", "float", "2.5f", "double", "2.5"),
    ("==", "float", "Float.NaN", "float", "Float.NaN"),
    ("==", "float", "-0.0f", "float", "0.0f"),
    ("==", "long", "16777217l", "float", "16777216f"),
    ("==", "boolean", "true", "boolean", "true"),
    ("==", "boolean", "true", "boolean", "false"),
    ("==", "char", "'a'", "int", "97"),
    ("==", "float", "173.20508075688772f", "float", "173.20508f"),
    ("==", "long", "(1l << 53) + 1", "double", "9007199254740992.0"),
    ("==", "long", "0l", "float", "0.1f"),
    ("==", "int", "7", "long", "7l"),
    ("==", "double", "Double.NaN", "double", "Double.NaN"),
    ("equals", "Object", "3l", "Object", "3"),
    ("equals", "Object", "3l", "Object", "3l"),
    ("equals", "Object", "Float.NaN", "Object", "Float.NaN"),
    ("equals", "Object", "0.0f", "Object", "-0.0f"),
    ("equals", "Object", "2.5", "Object", "2.5f"),
    ("equals", "Object", "\"a\"", "Object", "\"a\""),
    ("equals", "Object", "\"a\"", "Object", "\"b\""),
    ("equals", "Object", "\"a\"", "Object", "'a'"),
    ("equals", "Object", "'a'", "Object", "'a'"),
    ("equals", "Object", "Double.NaN", "Object", "Double.NaN"),
    ("equals", "Object", "0.0", "Object", "-0.0"),
    ("equals", "Object", "new ArrayList<Long>(Arrays.asList(1l, 2l))", "Object", "Arrays.asList(1l, 2l)"),
    ("equals", "Object", "new ArrayList<Long>(Arrays.asList(1l, 2l))", "Object",
     "new ArrayList<Integer>(Arrays.asList(1, 2))"),
    ("equals", "Object", "new ArrayList<Long>()", "Object", "new ArrayList<String>()"),
    ("equals", "Object", "new ArrayList<Long>(Arrays.asList(1l, 2l))", "Object", "Arrays.asList(2l, 1l)"),
    ("equals", "Object", "new LinkedList<Long>(Arrays.asList(1l))", "Object", "new ArrayList<Long>(Arrays.asList(1l))"),
    ("equals", "Object", "new ArrayList<Float>(Arrays.asList(0.1f))", "Object",
     "new ArrayList<Float>(Arrays.asList(0.1f))"),
    ("equals", "Object", "new ArrayList<Object>(Arrays.asList(1l, \"a\", null))", "Object",
     "new ArrayList<Object>(Arrays.asList(1l, \"a\", null))"),
    ("equals", "Object", "new ArrayList<Object>(Arrays.asList((Object) null))", "Object",
     "new ArrayList<Object>(Arrays.asList(0l))"),
    ("equals", "Object", "new ArrayList<ArrayList<Long>>(Arrays.asList(new ArrayList<Long>(Arrays.asList(1l))))",
     "Object", "new ArrayList<ArrayList<Long>>(Arrays.asList(new ArrayList<Long>(Arrays.asList(1l))))"),
    ("equals", "Object", "new HashMap<String,Long>(Map.of(\"a\", 1l, \"b\", 2l))", "Object",
     "Map.of(\"b\", 2l, \"a\", 1l)"),
    ("equals", "Object", "new HashMap<String,Long>(Map.of(\"a\", 1l))", "Object",
     "new HashMap<String,Long>(Map.of(\"a\", 2l))"),
    ("equals", "Object", "new HashMap<String,Long>(Map.of(\"a\", 1l))", "Object",
     "new HashMap<String,Integer>(Map.of(\"a\", 1))"),
    ("equals", "Object", "new TreeMap<String,Long>(Map.of(\"a\", 1l))", "Object",
     "new HashMap<String,Long>(Map.of(\"a\", 1l))"),
    ("equals", "Object", "new HashMap<Pair<Long,Long>,Long>(Map.of(Pair.with(1l, 2l), 3l))", "Object",
     "new HashMap<Pair<Long,Long>,Long>(Map.of(Pair.with(1l, 2l), 3l))"),
    ("equals", "Object", "new HashMap<Long,Long>()", "Object", "new ArrayList<Long>()"),
    ("equals", "Object", "Optional.of(1l)", "Object", "Optional.of(1l)"),
    ("equals", "Object", "Optional.empty()", "Object", "Optional.empty()"),
    ("equals", "Object", "Optional.of(1l)", "Object", "Optional.empty()"),
    ("equals", "Object", "Optional.of(1l)", "Object", "Optional.of(1)"),
    ("equals", "Object", "Optional.of(\"x\")", "Object", "\"x\""),
    ("equals", "Object", "Pair.with(1l, 2l)", "Object", "Pair.with(1l, 2l)"),
    ("equals", "Object", "Pair.with(1l, 2l)", "Object", "Triplet.with(1l, 2l, 3l)"),
    ("equals", "Object", "Pair.with(1l, 2l)", "Object", "Pair.with(1l, 2)"),
    ("equals", "Object", "Pair.with(\"a\", true)", "Object", "Pair.with(\"a\", true)"),
    ("equals", "Object", "Pair.with(Optional.of(1l), Optional.empty())", "Object",
     "Pair.with(Optional.of(1l), Optional.empty())"),
    ("equals", "Object", "Pair.with(0.5f, 0.5f)", "Object", "Pair.with(0.5f, 0.5)"),
    ("equals", "Object", "true", "Object", "true"),
    ("equals", "Object", "true", "Object", "1"),
]

JAVA_PROGRAM = """import java.util.*;
import org.javatuples.*;
class Problem {{
    static void pair(int k, boolean eq, Object a, Object b) {{
        System.out.println(k + " " + (eq ? 1 : 0));
        JacodeOut.result(2 * k, a);
        JacodeOut.result(2 * k + 1, b);
    }}
    public static void main(String[] args) {{
{calls}
    }}
}}
"""

# ---- C#: (op, type of actual, actual, type of expected, expected) -----------------------------------------------
CS_PAIRS = [
    ("==", "long", "3L", "int", "3"),
    ("==", "long", "3L", "long", "4L"),
    ("==", "float", "0.1f", "double", "0.1"),
    ("==", "float", "float.NaN", "float", "float.NaN"),
    ("==", "float", "-0.0f", "float", "0.0f"),
    ("==", "long", "16777217L", "float", "16777216f"),
    ("==", "bool", "true", "bool", "true"),
    ("==", "bool", "false", "bool", "true"),
    ("==", "char", "'a'", "int", "97"),
    ("==", "string", "\"ab\"", "string", "\"ab\""),
    ("==", "string", "\"ab\"", "string", "\"ac\""),
    ("==", "float", "173.20508075688772f", "float", "173.20508f"),
    ("==", "long", "(1L << 53) + 1", "double", "9007199254740992.0"),
    ("==", "long?", "null", "long?", "null"),
    ("==", "long?", "5L", "long", "5L"),
    ("==", "long?", "null", "long", "5L"),
    ("==", "double", "double.NaN", "double", "double.NaN"),
    ("JacodeEquals", "object", "3L", "object", "3"),
    ("JacodeEquals", "object", "3L", "object", "3L"),
    ("JacodeEquals", "object", "float.NaN", "object", "float.NaN"),
    ("JacodeEquals", "object", "0.0", "object", "-0.0"),
    ("JacodeEquals", "object", "0.5f", "object", "0.5"),
    ("JacodeEquals", "object", "\"a\"", "object", "\"a\""),
    ("JacodeEquals", "object", "null", "object", "null"),
    ("JacodeEquals", "object", "null", "object", "0L"),
    ("JacodeEquals", "object", "new List<long>{1, 2}", "object", "new List<long>(new long[]{1L, 2L})"),
    ("JacodeEquals", "object", "new List<long>{1, 2}", "object", "new long[]{1L, 2L}"),
    ("JacodeEquals", "object", "new List<long>{1, 2}", "object", "new List<int>{1, 2}"),
    ("JacodeEquals", "object", "new List<long>{1, 2}", "object", "new List<long>{2, 1}"),
    ("JacodeEquals", "object", "new List<long>()", "object", "new List<string>()"),
    ("JacodeEquals", "object", "new Dictionary<string,long>{{\"a\", 1L}, {\"b\", 2L}}", "object",
     "new Dictionary<string,long>{{\"b\", 2L}, {\"a\", 1L}}"),
    ("JacodeEquals", "object", "new Dictionary<string,long>{{\"a\", 1L}}", "object",
     "new Dictionary<string,long>{{\"a\", 2L}}"),
    ("JacodeEquals", "object", "new Dictionary<long,long>{{1L, 1L}}", "object", "new Dictionary<int,long>{{1, 1L}}"),
    ("JacodeEquals", "object", "new Dictionary<string,long>()", "object", "new List<long>()"),
    ("JacodeEquals", "object", "new Dictionary<Tuple<long,long>,long>{{Tuple.Create(1L, 2L), 3L}}", "object",
     "new Dictionary<Tuple<long,long>,long>{{Tuple.Create(1L, 2L), 3L}}"),
    ("JacodeEquals", "object", "Tuple.Create(1L, 2L)", "object", "Tuple.Create(1L, 2L)"),
    ("JacodeEquals", "object", "Tuple.Create(1L, 2L)", "object", "Tuple.Create(1L, 2)"),
    ("JacodeEquals", "object", "Tuple.Create(1L, new List<long>{3})", "object", "Tuple.Create(1L, new List<long>{3})"),
    ("JacodeEquals", "object", "Tuple.Create(\"a\", true)", "object", "Tuple.Create(\"a\", true)"),
    ("JacodeEquals", "object", "Tuple.Create(float.NaN, 1L)", "object", "Tuple.Create(float.NaN, 1L)"),
    ("JacodeEquals", "object", "Tuple.Create(1L, 2L)", "object", "new List<long>{1, 2}"),
    ("JacodeEquals", "object", "new List<object>{1L, \"a\", null}", "object", "new List<object>{1L, \"a\", null}"),
    ("JacodeEquals", "object", "new List<List<long>>{new List<long>{1}}", "object",
     "new List<List<long>>{new List<long>{1}}"),
    ("JacodeEquals", "object", "\"ab\"", "object", "new List<char>{'a', 'b'}"),
    ("JacodeEquals", "object", "new List<char>{'a', 'b'}", "object", "\"ab\""),
    ("JacodeEquals", "object", "'a'", "object", "\"a\""),
    ("JacodeEquals", "long?", "5L", "object", "5L"),
    ("JacodeEquals", "long?", "null", "object", "null"),
    ("equals", "object", "3L", "object", "3L"),
    ("equals", "object", "3L", "object", "3"),
    ("equals", "object", "\"a\"", "object", "\"a\""),
    ("equals", "object", "new List<long>{1}", "object", "new List<long>{1}"),
    ("equals", "object", "Tuple.Create(1L, \"a\")", "object", "Tuple.Create(1L, \"a\")"),
    ("equals", "object", "Tuple.Create(1L, new List<long>())", "object", "Tuple.Create(1L, new List<long>())"),
    ("equals", "object", "double.NaN", "object", "double.NaN"),
    ("equals", "object", "0.0", "object", "-0.0"),
]

CS_PROGRAM = """using System;
using System.Collections.Generic;
class Problem {{
    static void Pair(int k, bool eq, object a, object b) {{
        Console.WriteLine(k + " " + (eq ? 1 : 0));
        JacodeOut.Result(2 * k, a);
        JacodeOut.Result(2 * k + 1, b);
    }}
    public static void Main(string[] args) {{
{calls}
    }}
}}
"""

# ---- JavaScript: (actual, expected) as expressions, compared with assert.deepEqual ------------------------------
JS_PAIRS = [
    ("1", "1"),
    ("1", "\"1\""),
    ("1", "2"),
    ("0", "\"\""),
    ("0", "false"),
    ("\"1\"", "true"),
    ("null", "undefined"),
    ("null", "0"),
    ("undefined", "\"\""),
    ("NaN", "NaN"),
    ("-0", "0"),
    ("[]", "{}"),
    ("[]", "[]"),
    ("[1, 2]", "[1, 2]"),
    ("[1, 2]", "[\"1\", \"2\"]"),
    ("[1, [2, 3]]", "[1, [2, 3]]"),
    ("({a: 1, b: 2})", "({b: 2, a: 1})"),
    ("({a: 1})", "({a: 1, b: undefined})"),
    ("({a: undefined})", "({b: undefined})"),
    ("({a: 1})", "({a: \"1\"})"),
    ("1n", "1"),
    ("1n", "\"1\""),
    ("2n", "1"),
    ("1n", "1.5"),
    ("10n", "\"10.0\""),
    ("1n", "true"),
    ("\"0x10\"", "16"),
    ("\" 12 \"", "12"),
    ("\"1e3\"", "1000"),
    ("\"Infinity\"", "Infinity"),
    ("\"inf\"", "Infinity"),
    ("\"abc\"", "NaN"),
    ("true", "1"),
    ("false", "\"\""),
    ("[1]", "1"),
    ("\"a\"", "\"a\""),
    ("\"\\ud800\"", "\"\\ufffd\""),
    ("\"\\ud83d\\ude00\"", "\"\\u{1f600}\""),
    ("null", "null"),
    ("undefined", "undefined"),
    ("[null]", "[undefined]"),
    ("new (class { constructor() { this.x = 1; } })()", "({x: 1})"),
    ("new Map()", "({})"),
    ("[1, , 3]", "[1, undefined, 3]"),
    ("Object.assign([1, 2], {x: 1})", "[1, 2]"),
    ("2 ** 53", "2 ** 53 + 1"),
    ("\"10\"", "10.0"),
    ("\"0b101\"", "5"),
    ("\"-0x10\"", "-16"),
    ("\"  \\n 5 \\t\"", "5"),
    ("\"\\u00a05\"", "5"),
    ("\"1_000\"", "1000"),
    ("\".5\"", "0.5"),
    ("\"5.\"", "5"),
    ("\"+5\"", "5"),
    ("\"0x\"", "0"),
    ("[[]]", "[{}]"),
    ("({a: [1, {b: 2}]})", "({a: [1, {b: 2}]})"),
    ("0.1 + 0.2", "0.3"),
    ("[1, 2, 3]", "[1, 2]"),
    ("\"\"", "[]"),
    ("12345678901234567890n", "\"12345678901234567890\""),
]

JS_PROGRAM = """{serializer}
const assert = require("node:assert");
function pair(k, a, b) {{
  let eq = 1;
  try {{ assert.deepEqual(a, b); }} catch (e) {{ eq = 0; }}
  console.log(k + " " + eq);
  __jacode_out.result(2 * k, a);
  __jacode_out.result(2 * k + 1, b);
}}
{calls}
"""


def _program(lang: str) -> tuple[dict[str, str], list[str]]:
    """(files, op per pair)"""
    if lang == "cpp":
        calls = "\n".join(f"    pair({k}, {a}, {b});" for k, (a, b) in enumerate(CPP_PAIRS))
        return {"program.cpp": CPP_PROGRAM.format(serializer=serializer("cpp"), calls=calls)}, ["=="] * len(CPP_PAIRS)
    if lang == "java":
        calls = []
        for k, (op, ta, a, tb, b) in enumerate(JAVA_PAIRS):
            test = "x == y" if op == "==" else "x.equals(y)"
            calls.append(f"        {{ {ta} x = {a}; {tb} y = {b}; pair({k}, {test}, x, y); }}")
        return ({"Problem.java": JAVA_PROGRAM.format(calls="\n".join(calls)), "JacodeOut.java": serializer("java")},
                [p[0] for p in JAVA_PAIRS])
    if lang == "cs":
        calls = []
        for k, (op, ta, a, tb, b) in enumerate(CS_PAIRS):
            test = {"==": "x == y", "JacodeEquals": "x.JacodeEquals(y)", "equals": "x.Equals(y)"}[op]
            calls.append(f"        {{ {ta} x = {a}; {tb} y = {b}; Pair({k}, {test}, x, y); }}")
        return ({"Program.cs": CS_PROGRAM.format(calls="\n".join(calls)), "JacodeOut.cs": serializer("cs")},
                [p[0] for p in CS_PAIRS])
    calls = "\n".join(f"pair({k}, {a}, {b});" for k, (a, b) in enumerate(JS_PAIRS))
    return {"program.js": JS_PROGRAM.format(serializer=serializer("js"), calls=calls)}, ["deepEqual"] * len(JS_PAIRS)


TOOLS = {"cpp": "g++", "java": "javac", "cs": "mcs", "js": "node"}


@pytest.mark.parametrize("lang", ["cpp", "java", "cs", "js"])
def test_equality_matches_the_language(lang):
    if shutil.which(TOOLS[lang]) is None:
        pytest.skip(f"{TOOLS[lang]} not installed")
    files, ops = _program(lang)
    assert len(ops) >= 40
    rc, out, results = toolchains.compile_and_run(lang, files)
    assert rc == 0, out
    verdicts = {}
    for line in out.splitlines():
        k, v = line.split()
        verdicts[int(k)] = v == "1"
    assert sorted(verdicts) == list(range(len(ops)))
    stream = values.decode_stream(results)
    assert stream.problem is None and [r.index for r in stream.records] == list(range(2 * len(ops)))
    assert all(r.kind == "R" for r in stream.records)
    disagreements = []
    for k, op in enumerate(ops):
        a, b = stream.records[2 * k].value, stream.records[2 * k + 1].value
        mine = values.equal(lang, op, a, b)
        if mine != verdicts[k]:
            disagreements.append((k, op, values.render(a), values.render(b), "language:", verdicts[k]))
    assert not disagreements, disagreements
    # The pairs are worth something only if both verdicts occur plenty.
    assert sum(verdicts.values()) >= 10 and len(ops) - sum(verdicts.values()) >= 10


# ---- the decoder on hostile input ----------------------------------------------------------------------------
def test_decoder_reads_every_form():
    v = values.decode_value(b"L3:l1;s2:ab" + b"M1:s1:kT2:b1n")
    V = values.Value
    pair = (V("s", b"k"), V("T", (V("b", True), V("n"))))
    assert v == V("L", (V("l", 1), V("s", b"ab"), V("M", (pair,))))
    assert values.decode_value(b"d3ff0000000000000;").as_float() == 1.0
    assert values.decode_value(b"f3f800000;").as_float() == 1.0
    assert values.decode_value(b"V1:Ol-5;") == values.Value("V", (1, values.Value("O", values.Value("l", -5))))
    assert values.decode_value(b"g-123456789012345678901234567890;").data == -123456789012345678901234567890
    assert values.decode_value(b"?s3:foo").tag == "?"


@pytest.mark.parametrize("bad", [
    b"l01;", b"l-0;", b"l1", b"l9223372036854775808;", b"i2147483648;", b"dFF00000000000000;", b"d3ff0;",
    b"b2", b"s3:ab", b"s-1:", b"L2:l1;", b"L99999999999999999999:", b"x", b"l1;l2;", b"V-1:n", b"s 1:a",
    b"L1:" * 200 + b"n", b"g" + b"1" * 5000 + b";", b"M1:s1:a", b"",
])
def test_decoder_refuses(bad):
    with pytest.raises(values.DecodeError):
        values.decode_value(bad)


def test_stream_records_and_problems():
    s = values.decode_stream(b"R0 l1;\nE1 s4:boom\nR2 s1:x\n")
    assert s.problem is None and [(r.kind, r.index) for r in s.records] == [("R", 0), ("E", 1), ("R", 2)]
    assert s.records[1].error == "boom"
    cut = values.decode_stream(b"R0 l1;\nR1 s10:abc")
    assert cut.truncated and len(cut.records) == 1
    junk = values.decode_stream(b"R0 l1;\nhello\nR1 l2;\n")
    assert junk.problem and not junk.truncated and len(junk.records) == 1  # nothing after garbage is read
    assert values.decode_stream(b"R0 l1;R1 l2;\n").problem  # a record must end with a newline


def test_equality_corners_without_toolchains():
    V = values.Value
    # A forged map with a repeated key is not a map: never equal.
    a = V("M", ((V("s", b"a"), V("l", 1)), (V("s", b"a"), V("l", 1))))
    b = V("M", ((V("s", b"a"), V("l", 1)), (V("s", b"b"), V("l", 2))))
    for lang, op in (("java", "equals"), ("cs", "JacodeEquals"), ("js", "deepEqual"), ("cpp", "==")):
        assert not values.equal(lang, op, a, b) and not values.equal(lang, op, b, a)
    unknown = V("?", b"thing")
    for lang, op in values.EQUALITY:
        assert not values.equal(lang, op, unknown, unknown)
    # int -> float conversion rounds directly (ties to even), not through a double.
    assert values.equal("java", "==", V("l", 2**24 + 1), V("f", 0x4B800000))
    assert values.equal("cpp", "==", V("l", 2**62 + 2**38), V("f", 0x5E800000))
    assert not values.equal("cpp", "==", V("l", 2**62 + 2**38 + 1), V("f", 0x5E800000))
