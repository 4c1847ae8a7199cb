"""Batch compilation for Java: one sandboxed JVM compiles many programs (javac's start-up paid once).

The helper (java/JacodeBatchCompile.java, jacode's own code) is compiled once per JDK and cached. Each
program still gets its own directory and compilation; only the compiler process is shared. The programs
are *run* one by one, each in its own sandbox, exactly as without batching.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from jacode.evals.code.sandbox import WORKDIR, Limits, Sandbox

SOURCE = Path(__file__).parent / "java" / "JacodeBatchCompile.java"
MOUNT = "/run/jacode-javac"


@lru_cache(maxsize=1)
def helper_dir() -> Path | None:
    javac = shutil.which("javac")
    if javac is None:
        return None
    version = subprocess.run([javac, "-version"], capture_output=True, text=True)
    key = hashlib.sha256((version.stdout + version.stderr + SOURCE.read_text()).encode()).hexdigest()[:16]
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jacode" / "javac-batch" / key
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
    with sandbox.workspace(files) as ws:
        argv = ["java", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData",
                "-cp", MOUNT, "JacodeBatchCompile", classpath] + [f"{WORKDIR}/p{i}" for i in range(len(file_sets))]
        r = ws.exec(argv, limits=limits, ro_binds={str(helper): MOUNT})
        if r.timed_out or r.returncode != 0:
            return None
        results: list[tuple[bool, dict[str, bytes] | str]] = []
        for i in range(len(file_sets)):
            d = ws.work / f"p{i}"
            if (d / "compile.ok").exists():
                results.append((True, {f.name: f.read_bytes() for f in d.glob("*.class")}))
            elif (d / "compile.err").exists():
                results.append((False, (d / "compile.err").read_text(errors="replace")[-1500:]))
            else:
                return None
    return results
