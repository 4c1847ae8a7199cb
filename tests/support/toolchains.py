"""Compile and run split programs (jacode.sandbox.split) on the local toolchains, outside any sandbox.

For tests only: the programs run here are the expected-values programs (benchmark data) and jacode's own
reference completions, which are trusted. Each program gets a temporary directory and its results channel,
file descriptor 3, redirected to a file. C++ uses jacode's precompiled <bits/stdc++.h> (sandbox/pch.py);
Java compiles many programs in one JVM with jacode's batch compiler (sandbox/javabatch.py), so a test can
afford a few hundred programs. Commands are the language rows' (jacode.languages).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from jacode.languages import CPP_STD, JAVATUPLES, get_language
from jacode.sandbox import javabatch, pch

COMPILE_ERROR = -1000  # returncode reported for a program that did not compile
TIMEOUT = -1001
WORKERS = 2


def _write(files: dict[str, str], workdir: Path) -> None:
    for name, text in files.items():
        (workdir / name).write_text(text, encoding="utf-8")


def compile_program(language: str, workdir: Path) -> tuple[bool, str]:
    cmd = list(get_language(language).values.compile or ())
    if not cmd:
        return True, ""
    if language == "cpp":  # jacode's own precompiled header, as the sandbox runner uses it
        root = pch.pch_dir((CPP_STD,))
        source = (workdir / "program.cpp").read_text()
        if root is not None and pch.qualifies(source):
            cmd = [cmd[0], "-include", str(root / "jacode_pch.h"), *cmd[1:]]
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=120, cwd=workdir)
    return r.returncode == 0, (r.stdout + r.stderr)[-3000:]


def run_program(language: str, workdir: Path, timeout: float = 20) -> tuple[int, str, bytes]:
    """Run with fd 3 redirected to a file: (returncode, stdout + stderr, the results channel's bytes)."""
    results = workdir / "results.bin"
    cmd = ["/bin/sh", "-c", 'exec "$@" 3>"$JACODE_RESULTS"', "sh", *get_language(language).values.run]
    env = {**os.environ, "JACODE_RESULTS": str(results)}
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env, cwd=workdir)
        rc, out = r.returncode, (r.stdout + r.stderr).decode("utf-8", "replace")[-3000:]
    except subprocess.TimeoutExpired:
        rc, out = TIMEOUT, "timeout"
    return rc, out, results.read_bytes() if results.exists() else b""


def compile_and_run(language: str, files: dict[str, str], timeout: float = 20) -> tuple[int, str, bytes]:
    return run_many(language, [files], timeout)[0]


def run_many(language: str, file_sets: list[dict[str, str]], timeout: float = 20,
             workers: int = WORKERS) -> list[tuple[int, str, bytes]]:
    """Compile and run each file set in its own directory: [(returncode, output, results)], in order.
    A program that does not compile gets (COMPILE_ERROR, diagnostics, b"")."""
    with tempfile.TemporaryDirectory(prefix="jacode-split-") as tmp:
        dirs = []
        for i, files in enumerate(file_sets):
            d = Path(tmp) / f"p{i}"
            d.mkdir()
            _write(files, d)
            dirs.append(d)
        compiled: list[tuple[bool, str]]
        if language == "java" and shutil.which("java"):
            helper = javabatch.helper_dir()  # jacode's own batch compiler, run here without a sandbox
            subprocess.run(["java", "-Xshare:auto", "-XX:+UseSerialGC", "-cp", str(helper),
                            "JacodeBatchCompile", JAVATUPLES, *map(str, dirs)], capture_output=True, timeout=600)
            compiled = [((d / "compile.ok").exists(),
                         (d / "compile.err").read_text() if (d / "compile.err").exists() else "") for d in dirs]
        else:
            with ThreadPoolExecutor(workers) as ex:
                compiled = list(ex.map(lambda d: compile_program(language, d), dirs))

        def run(i: int) -> tuple[int, str, bytes]:
            ok, diagnostics = compiled[i]
            if not ok:
                return COMPILE_ERROR, diagnostics, b""
            return run_program(language, dirs[i], timeout)

        with ThreadPoolExecutor(workers) as ex:
            return list(ex.map(run, range(len(dirs))))
