"""MultiPL-E tests split in two: the candidate's program computes values, a trusted program writes the expected ones.

A MultiPL-E test line is a mechanical `assert(candidate(ARGS) == EXPECTED)` in each language's spelling. Here
each line becomes a `Check` (the ARGS and EXPECTED source text and the comparison operator), and from a
problem two programs are built:

- the candidate program: prompt + completion + the tests' head (the brace(s) that close the function) + the
  serializer + an entry point that, check by check, evaluates `candidate(ARGS)` in a try/catch and writes one
  record to file descriptor 3. It holds no assert and no EXPECTED text: it can only report values.
- the expected program (benchmark data only, never model text): what the language needs from the prompt, the
  function declared (C++) or stubbed (Java, C#), the serializer, an entry point that writes a record per
  EXPECTED, and, in dead code, every original comparison, so that a test that does not compile in MultiPL-E
  itself is known (its task then fails for every sample, as in MultiPL-E).

jacode compares the two streams on the trusted side (`compare`, equality per language in values.py).
The wire format is described in values.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jacode.languages import CheckShape, find_language, get_language
from jacode.sandbox import values

SERIALIZERS = Path(__file__).with_name("serializers")
RESULTS_FD = 3  # the results channel: every record goes to this inherited file descriptor
# File names, the serializer, compile and run commands: the language's row (jacode.languages, `values`).
# Candidate and expected programs use the same ones.


class SplitError(ValueError):
    """A test text that is not MultiPL-E's mechanical form; the message names the line."""


@dataclass(frozen=True)
class Check:
    index: int
    args: str  # source text between `candidate(` and its `)`
    expected: str  # source text of EXPECTED as written (parenthesised or not)
    op: str  # "==" | "equals" (Java .equals, C# .Equals) | "JacodeEquals" | "deepEqual"
    line: str  # the whole original statement, e.g. `assert(candidate(1) == (2));`
    wellformed: bool = True  # False: brackets do not balance, not code (no args/expected; never compiled)


@dataclass(frozen=True)
class Split:
    language: str
    function: str  # the function under test
    alias: str  # the name the checks call: "candidate" (C++, JS) or the function itself (Java, C#)
    head: str  # the tests' text before the test entry point (closes the prompt's function / method)
    checks: tuple[Check, ...]


# ---- a small lexer: balanced brackets, string and char literals ------------------------------------------
_CLOSE = {"(": ")", "[": "]", "{": "}"}


def _line_of(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return text[start: end if end >= 0 else len(text)].strip()


def _skip_literal(text: str, i: int, lang: str) -> int:
    """Index just after the string/char literal starting at text[i] (a quote, or `@`/`$` before one in C#).

    Newlines inside a literal are accepted: MultiPL-E's JS HumanEval_51 has one, which is a syntax error in
    JS; the line still splits, and both programs then fail to compile, as the original test does.
    """
    verbatim = False
    if text[i] in "@$":
        if lang != "cs" or i + 1 >= len(text) or text[i + 1] != '"':
            raise SplitError(f"unexpected {text[i]!r}")
        verbatim = text[i] == "@"
        if text[i] == "$":
            end = _skip_literal(text, i + 1, lang)
            if "{" in text[i:end]:
                raise SplitError("interpolated string")
            return end
        i += 1
    quote = text[i]
    if quote == "`" and lang != "js":
        raise SplitError("unexpected backtick")
    j = i + 1
    while j < len(text):
        ch = text[j]
        if verbatim:
            if ch == '"':
                if text.startswith('""', j):
                    j += 2
                    continue
                return j + 1
        elif ch == "\\":
            j += 2
            continue
        elif quote == "`" and text.startswith("${", j):
            raise SplitError("template literal with substitutions")
        elif ch == quote:
            return j + 1
        j += 1
    raise SplitError("unterminated literal")


def _scan(text: str, start: int, lang: str, stop_at_depth0: str = "") -> int:
    """Walk from text[start] keeping brackets balanced; return the index of the first character of
    `stop_at_depth0` met at depth 0, or of the bracket that closes one opened before `start` (depth -1),
    or len(text). Comments are not part of MultiPL-E test lines and are refused."""
    stack: list[str] = []
    i = start
    while i < len(text):
        ch = text[i]
        if ch in "\"'`" or ch in "@$" and lang == "cs" and text.startswith('"', i + 1):
            i = _skip_literal(text, i, lang)
            continue
        if ch == "/" and text.startswith(("//", "/*"), i):
            raise SplitError("comment inside a test statement")
        if not stack and ch in stop_at_depth0:
            return i
        if ch in _CLOSE:
            stack.append(_CLOSE[ch])
        elif ch in ")]}":
            if not stack:
                return i
            if stack.pop() != ch:
                raise SplitError(f"unbalanced {ch!r}")
        i += 1
    if stack:
        raise SplitError("unbalanced brackets")
    return i


def _call(text: str, pos: int, name: str, lang: str) -> tuple[str, int] | None:
    """If text[pos:] starts with `name(`, return (the argument text, index after the closing paren)."""
    if not text.startswith(name + "(", pos):
        return None
    open_at = pos + len(name)
    close = _scan(text, open_at + 1, lang)
    if close >= len(text) or text[close] != ")":
        raise SplitError(f"no closing parenthesis for {name}(")
    return text[open_at + 1: close], close + 1


# Operators that bind looser than `==`: EXPECTED written after `==` must not contain them at depth 0, or
# `a == b & c` would mean something else once EXPECTED is taken out of its line.
_LOOSER = re.compile(r"&|\||\^|\?|(?<![<>!=])=(?!=)|==|!=")


def _expected_after_eq(rest: str, lang: str) -> str:
    expected = rest.strip()
    if not expected:
        raise SplitError("nothing after ==")
    end = _scan(expected, 0, lang)
    if end != len(expected):
        raise SplitError("unbalanced expected value")
    # Check depth-0 text only (string contents and bracketed parts are skipped by blanking them).
    flat, i, stack = [], 0, 0
    while i < len(expected):
        ch = expected[i]
        if ch in "\"'`@$" and (ch not in "@$" or expected.startswith('"', i + 1)):
            j = _skip_literal(expected, i, lang)
            flat.append(" " * (j - i))
            i = j
            continue
        if ch in "([{":
            stack += 1
        elif ch in ")]}":
            stack -= 1
        flat.append(ch if stack == 0 and ch not in ")]}" else " ")
        i += 1
    if _LOOSER.search("".join(flat)):
        raise SplitError("EXPECTED has an operator that binds looser than ==")
    return expected


def _parse_comparison(inner: str, alias: str, lang: str) -> tuple[str, str, str]:
    """`ALIAS(ARGS) == EXPECTED` or `ALIAS(ARGS).equals(EXPECTED)` -> (args, expected, op)."""
    call = _call(inner, 0, alias, lang)
    if call is None:
        raise SplitError(f"the check does not start with {alias}(")
    args, pos = call
    rest = inner[pos:]
    stripped = rest.lstrip()
    if stripped.startswith("=="):
        return args, _expected_after_eq(stripped[2:], lang), "=="
    methods = {"java": {"equals": "equals"}, "cs": {"Equals": "equals", "JacodeEquals": "JacodeEquals"}}
    for method, op in methods.get(lang, {}).items():
        m = _call(rest, 0, "." + method, lang)
        if m is not None:
            expected, end = m
            if rest[end:].strip():
                raise SplitError(f"text after .{method}(...)")
            if _scan(expected, 0, lang, ",") != len(expected):
                raise SplitError(f".{method} with more than one argument")
            return args, expected.strip(), op
    raise SplitError(f"{alias}(...) is followed by neither == nor an equality method")


def _parse_deep_equal(inner: str, lang: str) -> tuple[str, str]:
    comma = _scan(inner, 0, lang, ",")
    if comma >= len(inner):
        raise SplitError("assert.deepEqual with one argument")
    actual, expected = inner[:comma].strip(), inner[comma + 1:].strip()
    if _scan(expected, 0, lang, ",") != len(expected) or not expected:
        raise SplitError("assert.deepEqual with more than two arguments")
    return actual, expected


def _statement(tests: str, pos: int, shape: CheckShape, language: str,
               alias: str | None) -> tuple[str, str, str, str, str, int]:
    """One check statement at tests[pos:] -> (args, expected, op, called name, statement, end position)."""
    call = _call(tests, pos, shape.assert_call, language)
    assert call is not None
    inner, after = call
    semi = re.compile(r"[ \t]*;[ \t]*(?=\r?\n|$)").match(tests, after)
    if not semi:
        raise SplitError("the statement does not end with `);` at the end of its line")
    statement = tests[pos: after + 1].strip()
    if language == "js":
        actual, expected = _parse_deep_equal(inner, language)
        call = _call(actual, 0, "candidate", language)
        if call is None or call[1] != len(actual):
            raise SplitError("the first argument of assert.deepEqual is not candidate(...)")
        return call[0], expected, "deepEqual", "candidate", statement, semi.end()
    name = alias
    if name is None:  # Java/C#: the method is called by its name
        m = re.match(r"\s*(\w+)\(", inner)
        if not m:
            raise SplitError("the check does not start with a call")
        name = m.group(1)
    args, expected, op = _parse_comparison(inner.strip(), name, language)
    return args, expected, op, name, statement, semi.end()


def _malformed(tests: str, pos: int, shape: CheckShape, language: str) -> tuple[str, int] | None:
    """(statement, end) when the line at `pos` is a check whose brackets do not balance, else None.

    A few MultiPL-E lines are not code at all (mbpp-cs writes `new List<object()}` for Python's `{}`); they
    never compiled. They are kept as checks without args/expected: the expected program carries the original
    line in its compile-time checks, so the task fails for every sample, as it does in MultiPL-E.
    """
    end = tests.find("\n", pos)
    end = len(tests) if end < 0 else end
    line = tests[pos:end].rstrip()
    if not line.endswith(");"):
        return None
    try:
        inner_end = _scan(line, len(shape.assert_call) + 1, language)
    except SplitError:
        return line, end  # unbalanced
    if line[inner_end:] == ");":
        return None  # balanced: a genuinely unknown form, refuse it
    return line, end


def split_tests(language: str, tests: str) -> Split:
    """Parse MultiPL-E test code; every statement after the entry point must be a check (or SplitError)."""
    lang = find_language(language)
    if lang is None or lang.values is None:
        raise SplitError(f"no test splitter for language {language!r}")
    shape = lang.values.tests  # the test shape: the language's row in jacode.languages
    m = re.search(rf"^[ \t]*{shape.entry}[ \t]*$", tests, re.M)
    if not m:
        raise SplitError(f"no test entry point ({shape.entry}) in the tests")
    head, pos = tests[: m.start()], m.end()
    alias = function = None
    if shape.alias:
        a = re.compile(rf"\s*{shape.alias}[ \t]*(?=\n|$)").match(tests, pos)
        if not a:
            raise SplitError(f"expected the alias line ({shape.alias}) after the entry point, got: "
                             f"{_line_of(tests, pos + 1)!r}")
        alias, function, pos = "candidate", a.group(1), a.end()
    checks: list[Check] = []
    tail: list[str] = []
    while True:
        while pos < len(tests) and tests[pos] in " \t\r\n":
            pos += 1
        if pos >= len(tests):
            break
        if tail or not tests.startswith(shape.assert_call + "(", pos):
            end = tests.find("\n", pos)
            end = len(tests) if end < 0 else end
            tail.append(tests[pos:end].strip())
            pos = end
            continue
        try:
            parsed = _statement(tests, pos, shape, language, alias)
        except SplitError as e:
            malformed = _malformed(tests, pos, shape, language)
            if malformed is None:
                raise SplitError(f"{e}: {_line_of(tests, pos)!r}") from None
            if alias is None:  # Java/C#: the called name still reads off the line
                m = re.match(rf"{re.escape(shape.assert_call)}\(\s*(\w+)\(", malformed[0])
                if not m:
                    raise SplitError(f"{e}: {_line_of(tests, pos)!r}") from None
                alias = function = m.group(1)
            checks.append(Check(len(checks), "", "", "==", malformed[0], wellformed=False))
            pos = malformed[1]
            continue
        args, expected, op, name, statement, pos = parsed
        if alias is None:
            alias = function = name
        elif name != alias:
            raise SplitError(f"the checks call both {alias} and {name}: {_line_of(tests, pos)!r}")
        checks.append(Check(len(checks), args, expected, op, statement))
    if tuple(tail) != shape.tail:
        raise SplitError(f"unexpected text after the checks: {' / '.join(tail)!r} (expected "
                         f"{' / '.join(shape.tail)!r})")
    if not checks:
        raise SplitError("no checks in the tests")
    assert function is not None and alias is not None
    return Split(language, function, alias, head, tuple(checks))


# ---- programs ---------------------------------------------------------------------------------------------------
@cache
def serializer(language: str) -> str:
    return (SERIALIZERS / get_language(language).values.serializer).read_text(encoding="utf-8")


def problem_split(problem: dict[str, Any]) -> Split:
    return split_tests(problem["language"], problem["tests"])


def candidate_files(problem: dict[str, Any], completion: str) -> dict[str, str]:
    """The candidate's program: it evaluates candidate(ARGS) check by check and writes each value (or the
    exception) to fd 3. It contains no assert and no EXPECTED text."""
    sp = problem_split(problem)
    lang = sp.language
    prompt = problem["prompt"]
    if lang == "cpp":
        unions = _cpp_unions(prompt)
        for u in unions:  # the Union_* types record their active member (see _Union)
            prompt = prompt.replace(u.text, u.tagged(), 1)
    body = prompt + completion + "\n" + sp.head
    if lang == "cpp":
        # As in MultiPL-E, the checks call the function through `auto candidate = NAME;`. One lambda holds every
        # check's call, chosen by `jacode_i`, so that jacode::check is instantiated once, not once per check:
        # a lambda per check cost g++ ~0.05 s per program (its try/catch and record code compiled N times),
        # a seventh of the whole compile with the PCH. Each call is still its own `return candidate(ARGS);`,
        # evaluated in test order, each check's exception caught on its own.
        cases = [f"        case {c.index}: return candidate({c.args});" for c in sp.checks if c.wellformed]
        lines = [f"    auto candidate = {sp.function};", "    int jacode_i = 0;  // the check jacode_call evaluates",
                 "    auto jacode_call = [&] {", "        switch (jacode_i) {", *cases, "        }",
                 "        throw 0;  // never reached: every index given to jacode::check has its case", "    };"]
        for c in sp.checks:
            lines.append(f"    jacode_i = {c.index}; jacode::check({c.index}, jacode_call);" if c.wellformed
                         else f'    jacode::write_error({c.index}, "{_MALFORMED}");')
        return {"program.cpp": body + "\n" + serializer(lang) + "".join(u.emitter() for u in unions)
                + _main("int main() {", lines, "    return 0;\n}\n")}
    if lang == "java":
        lines = [f"        try {{ JacodeOut.result({c.index}, {sp.function}({c.args})); }} "
                 f"catch (Throwable e) {{ JacodeOut.error({c.index}, e); }}" if c.wellformed
                 else f'        JacodeOut.error({c.index}, new Error("{_MALFORMED}"));' for c in sp.checks]
        return {"Problem.java": body + _main("    public static void main(String[] args) {", lines, "    }\n}\n"),
                "JacodeOut.java": serializer(lang)}
    if lang == "cs":
        lines = ["        JacodeOut.Start();  // a failed Debug.Assert in the completion fails its check"]
        lines += [f"        try {{ JacodeOut.Begin({c.index}); JacodeOut.Result({c.index}, {sp.function}({c.args})); }}"
                  f" catch (Exception e) {{ JacodeOut.Error({c.index}, e); }}" if c.wellformed
                  else f'        JacodeOut.Error({c.index}, new Exception("{_MALFORMED}"));' for c in sp.checks]
        return {"Program.cs": body + _main("    public static void Main(string[] args) {", lines, "    }\n}\n"),
                "JacodeOut.cs": serializer(lang)}
    if lang == "js":
        lines = [f"  let candidate = {sp.function};"]
        lines += [f"  try {{ __jacode_out.result({c.index}, candidate({c.args})); }} "
                  f"catch (e) {{ __jacode_out.error({c.index}, e); }}" if c.wellformed
                  else f'  __jacode_out.error({c.index}, new Error("{_MALFORMED}"));' for c in sp.checks]
        return {"program.js": body + serializer(lang)
                + _main("function __jacode_main() {", lines, "}\n__jacode_main();\n")}
    raise SplitError(f"no candidate program for language {lang!r}")


def expected_files(problem: dict[str, Any]) -> dict[str, str]:
    """The trusted program (benchmark data only): writes each EXPECTED value to fd 3, and holds every
    original comparison in dead code, so that it compiles only if MultiPL-E's own test compiles."""
    sp = problem_split(problem)
    lang = sp.language
    prompt = problem["prompt"]
    originals = [f"{' ' * (8 if lang == 'cpp' else 12)}{c.line}" for c in sp.checks]
    if lang == "cpp":
        # The function only declared: `candidate` is a null pointer of its type, never called.
        decl = prompt.rstrip()
        if not decl.endswith("{"):
            raise SplitError("the C++ prompt does not end with the function's opening brace")
        unions = _cpp_unions(prompt)
        lines = [f"    decltype(&{sp.function}) candidate = nullptr;  // only its type is used",
                 f"    using jacode_result = jacode::result_of<decltype(&{sp.function})>::type;",
                 "    if (false) {  // MultiPL-E's comparisons: this program compiles only if they do",
                 *originals, "    }"]
        lines += [f"    jacode::expected<jacode_result>({c.index}, ({c.expected}));" for c in sp.checks if c.wellformed]
        return {"program.cpp": decl[:-1].rstrip() + ";\n" + serializer(lang)
                + "".join(u.probe() for u in unions) + _main("int main() {", lines, "    return 0;\n}\n")}
    if lang in ("java", "cs"):
        stub = ('        throw new UnsupportedOperationException("jacode: the expected-values program never calls '
                'this");\n' if lang == "java" else
                '        throw new NotSupportedException("jacode: the expected-values program never calls this");\n')
        emit = "JacodeOut.result" if lang == "java" else "JacodeOut.Result"
        entry = ("    public static void main(String[] args) {" if lang == "java"
                 else "    public static void Main(string[] args) {")
        lines = ["        if (false) {  // MultiPL-E's comparisons: this program compiles only if they do",
                 *originals, "        }"]
        lines += [f"        {emit}({c.index}, ({c.expected}));" for c in sp.checks if c.wellformed]
        name, out = ("Problem.java", "JacodeOut.java") if lang == "java" else ("Program.cs", "JacodeOut.cs")
        return {name: prompt + stub + sp.head + _main(entry, lines, "    }\n}\n"), out: serializer(lang)}
    if lang == "js":
        lines = ["  let candidate = null;", *[f"  {c.line}" for c in sp.checks]]
        emits = [f"try {{ __jacode_out.result({c.index}, ({c.expected})); }} "
                 f"catch (e) {{ __jacode_out.error({c.index}, e); }}" for c in sp.checks if c.wellformed]
        return {"program.js": sp.head + serializer(lang)
                + _main("// Never called: MultiPL-E's own lines must parse, as they had to.\n"
                        "function __jacode_syntax_check() {", lines, "}\n") + "\n".join(emits) + "\n"}
    raise SplitError(f"no expected program for language {lang!r}")


_MALFORMED = "this test line is not valid code (its brackets do not balance)"


def _main(first: str, lines: list[str], last: str) -> str:
    return "\n" + first + "\n" + "\n".join(lines) + "\n" + last


# ---- C++: MultiPL-E's Union_* types ----------------------------------------------------------------------------
# MultiPL-E writes a C++ `union` per Python Union type, with one constructor and one operator== per member
# and no record of which member is active. In the candidate program the union becomes a struct holding the
# same members in an anonymous union (same layout, same deleted copy, same UB on reading the wrong member)
# plus the index of the member its constructor set, so that its value can be written. In the expected program
# the union stays as written; a probe with the same operator== overloads finds, at compile time, which
# member's operator== the test's comparison picks, and EXPECTED is written as that alternative.
_UNION = re.compile(r"^union (\w+)\{\n(.*?)^\};\n", re.M | re.S)


@dataclass(frozen=True)
class _Union:
    name: str
    text: str  # the whole definition as in the prompt
    rest: str  # the definition after the members: constructors, destructor, operator==
    types: tuple[str, ...]

    def tagged(self) -> str:
        rest = self.rest
        for k in range(len(self.types)):
            ctor = f"{self.name}({self.types[k]} _f{k}) : f{k}(_f{k}) {{}}"
            rest = rest.replace(ctor, f"{self.name}({self.types[k]} _f{k}) : f{k}(_f{k}), jacode_active({k}) {{}}")
        members = "".join(f"        {t} f{k};\n" for k, t in enumerate(self.types))
        return f"struct {self.name}{{\n    union {{\n{members}    }};\n    int jacode_active;\n    {rest.lstrip()}}};\n"

    def emitter(self) -> str:
        cases = "".join(f"            case {k}: put_alternative(o, {k}, u.f{k}); break;\n"
                        for k in range(len(self.types)))
        return (f"namespace jacode {{\ntemplate <> struct Emit<{self.name}> {{\n"
                f"    static void put(std::string& o, const {self.name}& u) {{\n"
                f"        switch (u.jacode_active) {{\n{cases}"
                f'            default: put_unknown(o, "{self.name} without an active member");\n'
                f"        }}\n    }}\n}};\n}}  // namespace jacode\n")

    def probe(self) -> str:
        ops = "".join(f"    std::integral_constant<int, {k}> operator==({t} f);\n" for k, t in enumerate(self.types))
        return (f"struct jacode_probe_{self.name} {{\n{ops}}};\n"
                f"namespace jacode {{\ntemplate <> struct ExpectedAs<{self.name}> {{\n"
                f"    template <class E> static void put(std::string& o, const E& e) {{\n"
                f"        constexpr int k = decltype(std::declval<jacode_probe_{self.name}&>() == e)::value;\n"
                f"        using T = std::tuple_element_t<k, std::tuple<{', '.join(self.types)}>>;\n"
                f"        put_alternative(o, k, T(e));\n    }}\n}};\n}}  // namespace jacode\n")


def _cpp_unions(prompt: str) -> list[_Union]:
    """The prompt's Union_* definitions in MultiPL-E's exact layout; any other is left alone (and untagged)."""
    out = []
    for m in _UNION.finditer(prompt):
        name, body = m.group(1), m.group(2)
        cut = body.find(f"{name}(")
        if cut < 0:
            continue
        members_text, rest = body[:cut], body[cut:]
        decls = [d.strip() for d in members_text.split(";") if d.strip()]
        types = []
        for k, d in enumerate(decls):
            dm = re.fullmatch(rf"(.+?)\s+f{k}", d, re.S)
            if not dm:
                break
            types.append(dm.group(1).strip())
        if len(types) != len(decls) or not types:
            continue
        if any(f"{name}({t} _f{k}) : f{k}(_f{k}) {{}}" not in rest for k, t in enumerate(types)):
            continue
        out.append(_Union(name, m.group(0), rest, tuple(types)))
    return out


# ---- verdicts ---------------------------------------------------------------------------------------------------
class ExpectedValuesError(ValueError):
    """The expected program's output is not one value per check: the task's expected values are unusable."""


def expected_values(checks: tuple[Check, ...] | list[Check], stream: bytes) -> list[values.Value]:
    decoded = values.decode_stream(stream)
    if decoded.problem:
        raise ExpectedValuesError(f"expected-values stream: {decoded.problem}")
    wanted = [c.index for c in checks if c.wellformed]
    got = [r.index for r in decoded.records]
    if got != wanted or any(r.kind != "R" for r in decoded.records):
        bad = next((r for r in decoded.records if r.kind != "R"), None)
        raise ExpectedValuesError(f"expected-values stream has records {got[:20]}, wanted {wanted[:20]}"
                                  + (f"; check {bad.index} threw: {bad.error}" if bad else ""))
    by_index = {r.index: r.value for r in decoded.records}
    return [by_index.get(c.index) for c in checks]  # type: ignore[misc]


def compare(language: str, checks: tuple[Check, ...] | list[Check], expected_stream: bytes,
            actual_stream: bytes, value_chars: int = 300) -> tuple[bool, str, str]:
    """(passed, status, detail) for one candidate run: "pass", or the first check (in test order) that has
    no equal value: "fail" (a different value, or no valid value), "error" (it threw), "exit" (the program
    ended before writing it). A stream with anything but one well-formed record per check never passes."""
    exp = expected_values(checks, expected_stream)
    decoded = values.decode_stream(actual_stream)
    per_index: dict[int, list[values.Record]] = {}
    unknown = []
    for r in decoded.records:
        if 0 <= r.index < len(checks):
            per_index.setdefault(r.index, []).append(r)
        else:
            unknown.append(r.index)
    for c, e in zip(checks, exp):
        where = f"check {c.index + 1}/{len(checks)}: {c.line}"
        recs = per_index.get(c.index, [])
        if len(recs) > 1:
            return False, "fail", f"{where}\nmore than one result record for this check"
        if not recs:
            if decoded.problem and not decoded.truncated:
                return False, "fail", f"{where}\nno valid result ({decoded.problem})"
            return False, "exit", f"{where}\nthe program ended before this check returned"
        rec = recs[0]
        if rec.kind == "E":
            return False, "error", f"{where}\nthrew {rec.error}"
        if not c.wellformed or e is None:
            return False, "fail", f"{where}\n{_MALFORMED}"
        if not values.equal(language, c.op, rec.value, e):  # type: ignore[arg-type]
            return False, "fail", (f"{where}\nexpected: {values.render(e, value_chars)}\n"
                                   f"     got: {values.render(rec.value, value_chars)}")
    if unknown:
        return False, "fail", f"result records for checks that do not exist: {sorted(set(unknown))[:10]}"
    if decoded.problem:
        return False, "fail", f"results stream: {decoded.problem}"
    return True, "pass", ""
