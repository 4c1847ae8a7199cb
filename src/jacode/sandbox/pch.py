"""A precompiled header for C++ programs that include <bits/stdc++.h> (every MultiPL-E C++ prompt does), and the
value writer's helpers compiled once.

Parsing bits/stdc++.h is most of a small program's compile time. The header is precompiled once per
compiler version and flags, cached in jacode's tools directory (isolation.tools_dir(), read-only inside the
sandbox), and given to the compiler with `-include`. It is used only when the program's own first lines already include
<bits/stdc++.h> (and <assert.h>, or nothing else) before any other code, so that the set of declarations the
program sees, and hence its verdict, is the same as without it.

The value writer (serializers/jacode_out.hpp, appended to every values program after the candidate's code) has
helpers that are not templates and are the same in every program. `helpers_object` compiles them once into an
object in the same tools directory; a program linked with it is compiled with `-D__jacode_out_linked` and sees
their declarations only (~3% of g++'s work per program). A reserved name (two leading underscores): no
conforming program uses it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from jacode.sandbox.isolation import tools_dir

HEADER = "#include <assert.h>\n#include <bits/stdc++.h>\n"
_INCLUDE = re.compile(r"^\s*#\s*include\s*[<\"]([^>\"]+)[>\"]\s*$")


def qualifies(source: str) -> bool:
    """True when the program starts with includes only, among them bits/stdc++.h, none outside the PCH."""
    seen = set()
    for line in source.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("//"):
            continue
        m = _INCLUDE.match(line)
        if not m:
            break
        seen.add(m.group(1))
    return "bits/stdc++.h" in seen and seen <= {"bits/stdc++.h", "assert.h", "cassert"}


def _cached_build(kind: str, flags: tuple[str, ...], source: bytes, source_name: str, output: str,
                  mode: list[str]) -> Path | None:
    """g++ run once on `source` per compiler version, flags and source text, into tools_dir()/kind/<key>/output
    (one builder at a time across threads and processes); None when g++ is missing or fails, or the directory
    cannot be written: the programs then do without."""
    gxx = shutil.which("g++")
    if gxx is None:
        return None
    version = subprocess.run([gxx, "--version"], capture_output=True, text=True).stdout
    key = hashlib.sha256(version.encode() + "\0".join(flags).encode() + b"\0" + source).hexdigest()[:16]
    root = tools_dir() / kind / key
    out = root / output
    if out.exists():
        return out
    try:
        root.mkdir(parents=True, exist_ok=True)
        with open(root / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not out.exists():
                (root / source_name).write_bytes(source)
                tmp = root / f"{output}.{os.getpid()}"
                proc = subprocess.run([gxx, *flags, *mode, str(root / source_name), "-o", str(tmp)],
                                      capture_output=True)
                if proc.returncode != 0:
                    return None
                os.chmod(tmp, 0o644)
                os.replace(tmp, out)
    except OSError:
        return None
    return out


@lru_cache(maxsize=4)
def pch_dir(flags: tuple[str, ...]) -> Path | None:
    """Directory holding jacode_pch.h and its .gch for these flags, built on first use; None if impossible."""
    gch = _cached_build("pch", flags, HEADER.encode(), "jacode_pch.h", "jacode_pch.h.gch", ["-x", "c++-header"])
    return gch.parent if gch else None


SERIALIZER = Path(__file__).with_name("serializers") / "jacode_out.hpp"


@lru_cache(maxsize=4)
def helpers_object(flags: tuple[str, ...]) -> Path | None:
    """jacode_out.o: the value writer's non-template helpers compiled once for these flags; None if impossible."""
    return _cached_build("cpp-helpers", flags, SERIALIZER.read_bytes(), "jacode_out.hpp", "jacode_out.o",
                         ["-D__jacode_out_object", "-x", "c++", "-c"])


def helpers_args(flags: tuple[str, ...], tools_mount: str) -> tuple[list[str], list[str]]:
    """(before the source, after it): g++ arguments that link the prebuilt helpers, or ([], []) without them."""
    obj = helpers_object(flags)
    if obj is None:
        return [], []
    return ["-D__jacode_out_linked"], [f"{tools_mount}/{obj.relative_to(tools_dir())}"]


def include_args(program: str, flags: tuple[str, ...], tools_mount: str) -> list[str]:
    """g++ arguments that use the PCH for this program, or [] when it does not qualify or cannot be built."""
    if not qualifies(program):
        return []
    root = pch_dir(flags)
    if root is None:
        return []
    # -include before everything: the program's own #include lines then hit their guards.
    return ["-include", f"{tools_mount}/{root.relative_to(tools_dir())}/jacode_pch.h", "-Winvalid-pch"]
