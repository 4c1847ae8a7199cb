"""Language runners: each a small declarative description, all executed in the same sandbox.

A runner says which files a program becomes (the program plus a small entry-point wrapper), how to compile
them, how to run them, which toolchain it needs and how memory is limited. Every wrapper reads this run's
random token from an inherited file descriptor *before* the program's code runs and prints it only after the
program's own entry point returned normally, so a program that exits early (exit(0), System.exit(0),
process.exit(0), Environment.Exit(0)) cannot pass. Assertions are never compiled out: no -DNDEBUG for C++,
`java -ea`, `mcs -d:DEBUG` with a trace listener that makes a failed Debug.Assert fatal (Mono otherwise
prints nothing and exits 0).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from jacode.evals.code.sandbox import WORKDIR

JAVATUPLES = "/usr/share/java/javatuples.jar"
CPP_FLAGS = ["-std=c++17"]  # MultiPL-E's; never -DNDEBUG (it would compile every assert out)

CPP_WRAPPER = r"""
// ---- jacode entry point: read the run token first, report only after the tests' main returned ----
// Its return value is not used: MultiPL-E's test mains have no return statement, which is fine for main
// but undefined for any other function; failures are assert() aborts.
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
int main(int argc, char** argv) {
    char jacode_token[80] = {0};
    int jacode_fd = argc > 1 ? atoi(argv[1]) : -1;
    if (jacode_fd < 0 || read(jacode_fd, jacode_token, 64) <= 0) return 97;
    close(jacode_fd);
    jacode_user_main();
    fflush(stdout);
    dprintf(1, "\n%s ('pass', '')\n", jacode_token);
    return 0;
}
"""

JAVA_WRAPPER = """\
public class JacodeMain {
    public static void main(String[] args) throws Exception {
        java.nio.file.Path fd = java.nio.file.Paths.get("/proc/self/fd/" + args[0]);
        String token = new String(java.nio.file.Files.readAllBytes(fd));
        Problem.main(new String[0]);
        System.out.flush();
        System.out.print("\\n" + token + " ('pass', '')\\n");
        System.out.flush();
    }
}
"""

CS_WRAPPER = """\
using System;
using System.Collections;
using System.Diagnostics;
using System.IO;

// Mono writes a failed Debug.Assert nowhere and carries on; this listener makes it fatal.
class JacodeFailFast : TraceListener {
    public override void Write(string m) {}
    public override void WriteLine(string m) {}
    public override void Fail(string m) { Fail(m, null); }
    public override void Fail(string m, string d) {
        Console.Out.Flush();
        Console.Error.WriteLine("Debug.Assert failed: " + m + " " + d);
        Console.Error.Flush();
        Environment.Exit(1);
    }
}

// Structural equality for the tests' .Equals(...) on collections (MultiPL-E issue 71: List.Equals is
// reference equality in .NET, so correct solutions could never pass). Applied only where jacode rewrote
// the test code, which is recorded per problem.
static class JacodeEquality {
    public static bool JacodeEquals(this object a, object b) {
        if (a == null || b == null) return a == null && b == null;
        if (a is string || b is string) return a.Equals(b);
        var da = a as IDictionary; var db = b as IDictionary;
        if (da != null || db != null) {
            if (da == null || db == null || da.Count != db.Count) return false;
            foreach (DictionaryEntry e in da) {
                if (!db.Contains(e.Key) || !JacodeEquals(e.Value, db[e.Key])) return false;
            }
            return true;
        }
        var ea = a as IEnumerable; var eb = b as IEnumerable;
        if (ea != null || eb != null) {
            if (ea == null || eb == null) return false;
            var ia = ea.GetEnumerator(); var ib = eb.GetEnumerator();
            while (true) {
                bool ma = ia.MoveNext(), mb = ib.MoveNext();
                if (ma != mb) return false;
                if (!ma) return true;
                if (!JacodeEquals(ia.Current, ib.Current)) return false;
            }
        }
        var ta = a as System.Runtime.CompilerServices.ITuple; var tb = b as System.Runtime.CompilerServices.ITuple;
        if (ta != null && tb != null) {
            if (ta.Length != tb.Length) return false;
            for (int i = 0; i < ta.Length; i++) if (!JacodeEquals(ta[i], tb[i])) return false;
            return true;
        }
        return a.Equals(b);
    }
}

class JacodeMain {
    static int Main(string[] args) {
        string token = File.ReadAllText("/proc/self/fd/" + args[0]);
        Trace.Listeners.Clear();
        Trace.Listeners.Add(new JacodeFailFast());
        Problem.Main(new string[0]);
        Console.Out.Flush();
        Console.Out.Write("\\n" + token + " ('pass', '')\\n");
        Console.Out.Flush();
        return 0;
    }
}
"""

JS_PRELUDE = ('const __jacode_token = require("fs").readFileSync(Number(process.argv[2]), "utf8"); '
              'require("fs").closeSync(Number(process.argv[2]));\n')
JS_EPILOGUE = '\n;process.stdout.write("\\n" + __jacode_token + " (\'pass\', \'\')\\n");\n'


def _cpp_files(program: str) -> dict[str, str]:
    # The tests' `int main()` becomes a function our main calls (the last definition is the tests' one).
    idx = program.rfind("int main(")
    if idx < 0:
        return {"program.cpp": program + "\nint jacode_user_main() { return 0; }\n" + CPP_WRAPPER}
    renamed = program[:idx] + "int jacode_user_main(" + program[idx + len("int main("):]
    return {"program.cpp": renamed + "\n" + CPP_WRAPPER}


def _java_files(program: str) -> dict[str, str]:
    return {"Problem.java": program, "JacodeMain.java": JAVA_WRAPPER}


def _cs_files(program: str) -> dict[str, str]:
    return {"Program.cs": program, "Jacode.cs": CS_WRAPPER}


def _js_files(program: str) -> dict[str, str]:
    return {"program.js": JS_PRELUDE + program + JS_EPILOGUE}


@dataclass(frozen=True)
class Language:
    name: str
    files: Callable[[str], dict[str, str]]  # program -> files in the working directory
    compile: tuple[str, ...] | None  # argv, run in the working directory; None for interpreted languages
    run: tuple[str, ...]  # argv; "{fd}" becomes the token's file descriptor
    tools: tuple[tuple[str, str], ...]  # (executable, how to install it)
    memory_kind: str = "as"  # see Limits.memory_kind
    extensions: tuple[str, ...] = field(default=())

    def run_argv(self, fd: int) -> list[str]:
        return [a.replace("{fd}", str(fd)) for a in self.run]


LANGUAGES: dict[str, Language] = {
    "cpp": Language(
        name="cpp", files=_cpp_files,
        compile=("g++", *CPP_FLAGS, "-o", f"{WORKDIR}/program", f"{WORKDIR}/program.cpp"),
        run=(f"{WORKDIR}/program", "{fd}"),
        tools=(("g++", "apt-get install g++"),), extensions=(".cpp", ".cc"),
    ),
    "java": Language(
        name="java", files=_java_files,
        compile=("javac", "-J-Xshare:auto", "-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC", "-nowarn",
                 "-cp", JAVATUPLES, "-d", WORKDIR, f"{WORKDIR}/Problem.java", f"{WORKDIR}/JacodeMain.java"),
        # -ea, always: without it every assert is skipped and every sample passes.
        run=("java", "-ea", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData",
             "-cp", f"{JAVATUPLES}:{WORKDIR}", "JacodeMain", "{fd}"),
        tools=(("javac", "apt-get install openjdk-17-jdk-headless"),
               ("java", "apt-get install openjdk-17-jre-headless"),
               (JAVATUPLES, "apt-get install libjavatuples-java")),
        memory_kind="data", extensions=(".java",),
    ),
    "cs": Language(
        name="cs", files=_cs_files,
        compile=("mcs", "-d:DEBUG", "-nowarn:162,168,219,414", "-r:System.Numerics.dll", "-main:JacodeMain",
                 f"-out:{WORKDIR}/program.exe", f"{WORKDIR}/Program.cs", f"{WORKDIR}/Jacode.cs"),
        run=("mono", f"{WORKDIR}/program.exe", "{fd}"),
        tools=(("mcs", "apt-get install mono-mcs"), ("mono", "apt-get install mono-runtime")),
        memory_kind="data", extensions=(".cs",),
    ),
    "js": Language(
        name="js", files=_js_files, compile=None,
        run=("node", f"{WORKDIR}/program.js", "{fd}"),
        tools=(("node", "apt-get install nodejs"),), memory_kind="data", extensions=(".js",),
    ),
}

# Test code that compares collections by reference in C# (MultiPL-E issue 71) gets structural equality.
_CS_EQUALS = re.compile(r"\.Equals\(")


def fix_cs_tests(tests: str) -> tuple[str, bool]:
    fixed = _CS_EQUALS.sub(".JacodeEquals(", tests)
    return fixed, fixed != tests


def get_language(name: str) -> Language:
    if name not in LANGUAGES:
        raise KeyError(f"unknown language {name!r}; known: python, {', '.join(LANGUAGES)}")
    return LANGUAGES[name]
