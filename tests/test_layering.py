"""The package's layering: every import (module-level or inside a function) goes downwards, and there are no
import cycles between jacode's modules."""

from __future__ import annotations

import ast
from pathlib import Path

import jacode

ROOT = Path(jacode.__file__).parent

# A package may import itself and the packages listed for it; "base" modules are importable by everyone.
BASE = {"errors", "io", "languages", "config", "manifest", "data_policy", "cli_util", "threads", "formats", "progress",
        "__init__", "__main__"}
ALLOWED = {
    "sandbox": set(),
    "tokenizer": set(),
    "models": {"tokenizer"},
    "engines": {"models"},
    "data": set(),
    "train": {"tokenizer", "models", "data"},
    "surgery": {"models"},
    "evals": {"sandbox", "engines", "tokenizer", "models"},
    "synth": {"engines", "sandbox", "data", "evals", "models"},  # judges score synthetic pairs as they grade answers
    "arena": {"engines"},
}
TOP = None  # stages, recipe, manifest, report, watch, cli, demo, doctor...: may import anything


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        if "runtime" in rel.parts:  # runs inside the sandbox, stdlib only
            continue
        parts = [p for p in rel.parts if p != "__init__"] or ["__init__"]
        out["jacode." + ".".join(parts)] = path
    return out


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("jacode"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("jacode")}
    return found


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_imports_go_downwards():
    modules = _modules()
    bad = []
    for name, path in modules.items():
        pkg = _package(name)
        if pkg not in ALLOWED:
            continue  # base and top-level modules
        allowed = ALLOWED[pkg] | {pkg} | BASE
        for imp in _imports(path):
            target = _package(imp)
            if target not in allowed:
                bad.append(f"{name} imports {imp}")
    assert not bad, "\n".join(sorted(bad))


def test_base_modules_import_only_base_modules():
    bad = [f"jacode.{m} imports {imp}" for m in BASE - {"__init__", "__main__"}
           if (ROOT / f"{m}.py").exists() for imp in _imports(ROOT / f"{m}.py") if _package(imp) not in BASE]
    assert not bad, bad


def test_no_import_cycles():
    modules = _modules()
    graph = {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycles.append(" → ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [])
    # A package's __init__ re-exporting its own modules is not a cycle worth breaking.
    cycles = [c for c in cycles if not all(p.split(".")[:2] == c.split(" → ")[0].split(".")[:2]
                                           for p in c.split(" → ")) or ".__init__" in c]
    assert not cycles, "\n".join(cycles)
