"""Every programming language jacode knows: one row each, read by the data filters, the benchmarks, the
sandbox's runners, the judge and the tests. A new language is one row here (plus its tests).

Names are jacode's (`cs`, `js`: MultiPL-E's spelling, which the benchmarks use); other spellings a data set may
carry ("C#", "javascript") are aliases. Rows without `run` facts are only for data work (reading, syntax and
complexity screens); jacode does not execute those languages.
"""

from __future__ import annotations

from dataclasses import dataclass

from jacode.errors import JacodeError


@dataclass(frozen=True)
class Judge:
    """How a whole program is built and run on stdin/stdout (AtCoder-style judging). Paths are relative to the
    job's working directory; "{python}" is the sandbox's interpreter."""

    label: str  # what a contest site calls it ("C++17"): the language named in the judge's instruction
    source: str
    compile: tuple[str, ...] | None
    run: tuple[str, ...]


@dataclass(frozen=True)
class CheckShape:
    """How MultiPL-E's test code looks in the language (jacode.sandbox.split parses it by this)."""

    entry: str  # regex for the line that starts the tests' main
    alias: str | None  # regex for `auto candidate = NAME;` (group 1: NAME), where the tests use one
    assert_call: str  # the statement's call: "assert", "Debug.Assert", "assert.deepEqual"
    tail: tuple[str, ...]  # the lines after the last check, whitespace-stripped, blank lines ignored


@dataclass(frozen=True)
class ValueRun:
    """How a MultiPL-E check program (jacode.sandbox.split) is built and run. Both the candidate's program and
    the trusted expected-value program use it; they report values on fd 3. Paths are relative to the program's
    working directory."""

    files: tuple[str, ...]  # the program's files in its working directory
    serializer: str  # the value writer (jacode/sandbox/serializers/), a file of its own or inlined
    compile: tuple[str, ...] | None
    run: tuple[str, ...]
    stop: tuple[str, ...]  # MultiPL-E's stop sequences for base-mode completion
    tests: CheckShape


@dataclass(frozen=True)
class Language:
    name: str
    display: str
    extensions: tuple[str, ...]  # source files (without the dot), for reading source trees
    fence: str = ""  # Markdown code-fence tag in prompts and answers
    comment: str = ""  # line comment
    tree_sitter: str | None = None  # grammar name in tree-sitter-language-pack (syntax screen)
    lizard: bool = False  # lizard measures its complexity (it treats unknown files as C, so only these)
    content_type: str | None = None  # when mimetypes does not know the extension
    aliases: tuple[str, ...] = ()
    memory_kind: str = "as"  # sandbox memory limit: "as" (address space) or "data" (JVM, V8, Mono reserve much)
    tools: tuple[tuple[str, str], ...] = ()  # (executable or file it needs, how to install it)
    judge: Judge | None = None
    values: ValueRun | None = None


JAVATUPLES = "/usr/share/java/javatuples.jar"
CPP_STD = "-std=c++17"  # MultiPL-E's; never -DNDEBUG

LANGUAGES: dict[str, Language] = {lang.name: lang for lang in [
    Language("python", "Python", ("py", "pyi"), fence="python", comment="#", tree_sitter="python", lizard=True,
             content_type="text/x-python", aliases=("py", "python3"),
             judge=Judge("Python 3", "main.py", None, ("{python}", "-I", "-S", "main.py"))),
    Language("cpp", "C++", ("cc", "cpp", "cxx", "hpp", "hh"), fence="cpp", comment="//", tree_sitter="cpp",
             lizard=True, aliases=("c++",), tools=(("g++", "apt-get install g++"),),
             judge=Judge("C++17", "main.cpp", ("g++", CPP_STD, "-O2", "-o", "main", "main.cpp"), ("./main",)),
             values=ValueRun(("program.cpp",), "jacode_out.hpp", ("g++", CPP_STD, "-o", "program", "program.cpp"),
                             ("./program",), ("\n}",),
                             CheckShape(r"int main\(\) \{", r"auto candidate = (\w+);", "assert", ("}",)))),
    Language("java", "Java", ("java",), fence="java", comment="//", tree_sitter="java", lizard=True,
             memory_kind="data",
             tools=(("javac", "apt-get install openjdk-17-jdk-headless"),
                    ("java", "apt-get install openjdk-17-jdk-headless"),
                    (JAVATUPLES, "apt-get install libjavatuples-java")),
             values=ValueRun(
                 ("Problem.java", "JacodeOut.java"), "JacodeOut.java",
                 ("javac", "-J-Xshare:auto", "-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC", "-nowarn", "-cp",
                  JAVATUPLES, "-d", ".", "Problem.java", "JacodeOut.java"),
                 # -ea: a completion's own asserts stay live (a failing one fails its check, as in MultiPL-E)
                 ("java", "-ea", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData",
                  "-cp", f"{JAVATUPLES}:.", "Problem"),
                 ("\n    }\n",),
                 CheckShape(r"public static void main\(String\[\] args\) \{", None, "assert", ("}", "}")))),
    Language("cs", "C#", ("cs",), fence="csharp", comment="//", tree_sitter="csharp", lizard=True,
             content_type="text/x-csharp", aliases=("csharp", "c#"), memory_kind="data",
             tools=(("mcs", "apt-get install mono-mcs"), ("mono", "apt-get install mono-runtime")),
             # -d:DEBUG keeps a completion's Debug.Assert live; 162: the expected program's unreachable checks
             values=ValueRun(("Program.cs", "JacodeOut.cs"), "JacodeOut.cs",
                             ("mcs", "-d:DEBUG", "-nowarn:162,168,219,414", "-r:System.Numerics.dll",
                              "-out:program.exe", "Program.cs", "JacodeOut.cs"),
                             ("mono", "program.exe"), ("\n    }\n",),
                             CheckShape(r"public static void Main\(string\[\] args\) \{", None, "Debug.Assert",
                                       ("}", "}")))),
    Language("js", "JavaScript", ("js", "mjs", "cjs"), fence="javascript", comment="//", tree_sitter="javascript",
             lizard=True, aliases=("javascript", "node"), memory_kind="data",
             tools=(("node", "apt-get install nodejs"),),
             values=ValueRun(("program.js",), "jacode_out.js", None, ("node", "program.js"),
                             ("\nfunction ", "\n/*", "\n//", "\nconsole.log"),
                             CheckShape(r"function test\(\) \{", r"let candidate = (\w+);", "assert.deepEqual",
                                       ("}", "test();")))),
    Language("c", "C", ("c", "h"), fence="c", comment="//", tree_sitter="c", lizard=True),
    Language("typescript", "TypeScript", ("ts",), fence="typescript", comment="//", tree_sitter="typescript",
             lizard=True, content_type="text/x-typescript", aliases=("ts",)),
    Language("go", "Go", ("go",), fence="go", comment="//", tree_sitter="go", lizard=True, content_type="text/x-go"),
    Language("rust", "Rust", ("rs",), fence="rust", comment="//", tree_sitter="rust", lizard=True,
             content_type="text/x-rust", aliases=("rs",)),
    Language("ruby", "Ruby", ("rb",), fence="ruby", comment="#", lizard=True, aliases=("rb",)),
    Language("php", "PHP", ("php",), fence="php", comment="//", lizard=True),
    Language("swift", "Swift", ("swift",), fence="swift", comment="//", lizard=True),
    Language("kotlin", "Kotlin", ("kt",), fence="kotlin", comment="//", lizard=True),
    Language("scala", "Scala", ("scala",), fence="scala", comment="//", lizard=True),
    Language("shell", "Shell", ("sh",), fence="bash", comment="#", aliases=("bash", "sh")),
    Language("sql", "SQL", ("sql",), fence="sql", comment="--"),
    Language("html", "HTML", ("html",), fence="html"),
    Language("css", "CSS", ("css",), fence="css"),
    Language("json", "JSON", ("json",), fence="json"),
    Language("yaml", "YAML", ("yaml", "yml"), fence="yaml", comment="#"),
    Language("toml", "TOML", ("toml",), fence="toml", comment="#"),
    Language("xml", "XML", ("xml",), fence="xml"),
]}

_BY_ALIAS = {alias.lower(): lang for lang in LANGUAGES.values() for alias in (lang.name, *lang.aliases)}
_BY_EXTENSION = {ext: lang for lang in LANGUAGES.values() for ext in lang.extensions}


def find_language(name: str | None) -> Language | None:
    """The row for a name or alias (any case), or None."""
    return _BY_ALIAS.get(name.lower()) if name else None


def get_language(name: str) -> Language:
    lang = find_language(name)
    if lang is None:
        raise JacodeError(f"unknown language {name!r}; known: {', '.join(LANGUAGES)}")
    return lang


def language_of_extension(ext: str) -> Language | None:
    return _BY_EXTENSION.get(ext.lower().lstrip("."))


def executable() -> list[Language]:
    """Languages whose samples jacode can run (judged programs or value checks), Python first."""
    return [lang for lang in LANGUAGES.values() if lang.name == "python" or lang.values or lang.judge]
