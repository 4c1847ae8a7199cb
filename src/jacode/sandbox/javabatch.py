"""Batch compilation for Java: one sandboxed JVM compiles many programs (javac's start-up paid once).

The helper (java/JacodeBatchCompile.java, jacode's own code) is compiled once per JDK into jacode's tools
directory. Each program still gets its own directory and compilation; only the compiler process is shared; the
class files come back from the job. The programs are *run* one by one, each in its own sandbox job, exactly as
without batching.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from jacode.sandbox.isolation import Limits, Sandbox, Step, tools_dir

SOURCE = Path(__file__).parent / "java" / "JacodeBatchCompile.java"


@lru_cache(maxsize=1)
def helper_dir() -> Path | None:
    javac = shutil.which("javac")
    if javac is None:
        return None
    version = subprocess.run([javac, "-version"], capture_output=True, text=True)
    key = hashlib.sha256((version.stdout + version.stderr + SOURCE.read_text()).encode()).hexdigest()[:16]
    root = tools_dir() / "javac-batch" / key
    if (root / "JacodeBatchCompile.class").exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "JacodeBatchCompile.class").exists():
            tmp = root / f"build-{os.getpid()}"
            tmp.mkdir(exist_ok=True)
            proc = subprocess.run([javac, "-d", str(tmp), str(SOURCE)], capture_output=True)
            if proc.returncode != 0:
                return None
            for f in tmp.iterdir():
                os.chmod(f, 0o644)
                os.replace(f, root / f.name)
            tmp.rmdir()
    return root


def compile_batch(sandbox: Sandbox, file_sets: list[dict[str, str]], classpath: str,
                  limits: Limits) -> list[tuple[bool, dict[str, bytes] | str]] | None:
    """Compile each file set in its own directory; per set (True, class files) or (False, diagnostics).

    None when the batch could not run at all (no helper, the compiler crashed or timed out): the caller then
    compiles those programs one by one.
    """
    helper = helper_dir()
    if helper is None:
        return None
    files = {f"p{i}/{name}": text for i, fs in enumerate(file_sets) for name, text in fs.items()}
    argv = ["java", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData",
            "-cp", f"{sandbox.tools}/{helper.relative_to(tools_dir())}", "JacodeBatchCompile", classpath] + \
        [f"p{i}" for i in range(len(file_sets))]
    job = sandbox.run_steps(files, [Step(argv, limits)], collect=("p*/*.class", "p*/compile.ok", "p*/compile.err"))
    r = job.steps[0]
    if r.timed_out or r.returncode != 0:
        return None
    results: list[tuple[bool, dict[str, bytes] | str]] = []
    for i in range(len(file_sets)):
        mine = {name.split("/", 1)[1]: data for name, data in job.collected.items() if name.startswith(f"p{i}/")}
        if "compile.ok" in mine:
            results.append((True, {n: d for n, d in mine.items() if n.endswith(".class")}))
        elif "compile.err" in mine:
            results.append((False, mine["compile.err"].decode("utf-8", "replace")[-1500:]))
        else:
            return None
    return results
