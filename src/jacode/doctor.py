"""`jacode doctor`: which toolchains and sandbox capabilities this machine has, with the fix for each gap."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys


def _version(cmd: list[str]) -> str | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else ""


def checks() -> list[tuple[str, bool, str]]:
    """(what, ok, detail or fix)."""
    from jacode.languages import LANGUAGES
    from jacode.sandbox import cgroups
    from jacode.sandbox.isolation import bwrap_status, warm_supported
    from jacode.sandbox.runtime import seccomp

    rows: list[tuple[str, bool, str]] = []
    ok, why = bwrap_status()
    rows.append(("sandbox (bubblewrap)", ok, why if ok else f"{why}; without it code runs UNISOLATED"))
    warm = ok and warm_supported()
    rows.append(("sandbox: warm servers", warm, "one sandbox server per worker" if warm else
                 "needs root: every sample starts its own sandbox (same isolation, ~20 ms slower)"))
    cg_ok, cg_why = cgroups.available()
    rows.append(("sandbox: memory per sample (cgroup)", cg_ok, cg_why if cg_ok else
                 f"!!! NOT AVAILABLE ({cg_why}): --memory-mb limits each process only, so a sample's processes "
                 "together may use several times the limit. Run as root or in a delegated cgroup subtree !!!"))
    sc = seccomp.supported()
    rows.append(("sandbox: seccomp filter", sc, "no user namespaces, keyring, ptrace inside the sandbox" if sc else
                 f"!!! no filter for {os.uname().machine}: samples may create user namespaces !!!"))
    rows.append(("python", True, sys.version.split()[0]))
    for lang in LANGUAGES.values():
        for tool, fix in lang.tools:
            found = shutil.which(tool) if not tool.startswith("/") else (tool if os.path.exists(tool) else None)
            rows.append((f"{lang.name}: {os.path.basename(tool)}", found is not None, found or fix))
    try:
        import torch

        cuda = torch.cuda.is_available()
        rows.append(("torch", True, f"{torch.__version__}, CUDA {'available' if cuda else 'not available'}"))
    except ImportError:
        rows.append(("torch", False, "pip install torch==2.13.0 (CPU) or a CUDA build"))
    vllm = importlib.util.find_spec("vllm") is not None
    rows.append(("vllm (optional)", vllm, "installed" if vllm else "pip install 'jacode[vllm]' on a GPU machine"))
    return rows


def report() -> tuple[str, bool]:
    rows = checks()
    width = max(len(r[0]) for r in rows)
    lines = [f"{'ok ' if ok else 'MISSING'} {name:<{width}}  {detail}" for name, ok, detail in rows]
    essential_ok = rows[0][1]
    return "\n".join(lines), essential_ok
