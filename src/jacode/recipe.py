"""`jacode run RECIPE.yaml`: the stages of a recipe, in order, each a directory with a manifest.

A recipe:

    name: tiny
    run_dir: runs/tiny                 # default: runs/<name>, relative to the current directory
    stages:
      - name: tok                      # unique; later stages refer to its output as ${tok}
        kind: tokenizer                # data | tokenizer | model | pretrain | merge | synth | sft | dpo |
        config: {inputs: ["${data}"], vocab_size: 2000}   # upcycle | eval | report
      - ...

Values may use ${STAGE} (an earlier stage's output path), ${run} (the run directory), ${shipped} (data shipped
with jacode), ${stdlib} (this Python's standard library) and ${benchmark_data} ($JACODE_BENCHMARK_DATA, default
../shared/benchmarks). The runner validates everything before running
(errors name the key and its line), then runs each stage in its own process with its log in STAGE/stage.log. A
stage's manifest.json holds its resolved config, a fingerprint of its inputs (upstream fingerprints and external
files), versions, timings and status; a stage whose manifest is `done` with the same fingerprint is skipped, and
an interrupted one is run again — every stage command resumes its own work (checkpoints, appended records).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import time
import uuid
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from jacode.errors import JacodeError
from jacode.io import atomic_write_text

KINDS = ("data", "tokenizer", "model", "pretrain", "merge", "synth", "sft", "dpo", "upcycle", "eval", "report")
VAR = re.compile(r"\$\{([A-Za-z_][\w-]*)\}")
BUILTIN_VARS = ("run", "shipped", "stdlib", "benchmark_data")


@dataclass
class Stage:
    name: str
    kind: str
    config: dict[str, Any]
    line: int
    depends: list[str] = field(default_factory=list)
    launch: str | None = None  # e.g. "accelerate launch --config_file ... --num_processes 8" for multi-GPU


@dataclass
class Recipe:
    name: str
    path: Path
    run_dir: Path
    stages: list[Stage]
    raw: str


def shipped_dir() -> Path:
    return Path(str(resources.files("jacode").joinpath("resources")))


def recipes_dir() -> Path:
    return Path(str(resources.files("jacode").joinpath("recipes")))


def _line(node, *keys) -> int:
    """1-based line of the YAML node reached by keys (mapping keys / sequence indices), as far as it exists."""
    for k in keys:
        if isinstance(node, yaml.MappingNode):
            nxt = next(((kn, vn) for kn, vn in node.value if kn.value == k), None)
            if nxt is None:
                break
            node = nxt[1] if k != keys[-1] else nxt[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(k, int) and k < len(node.value):
            node = node.value[k]
        else:
            break
    return node.start_mark.line + 1


def load_recipe(path: str | Path | None = None) -> Recipe:
    path = Path(path) if path else recipes_dir() / "tiny.yaml"
    try:
        raw = path.read_text("utf-8")
        node = yaml.compose(raw)
        data = yaml.safe_load(raw)
    except OSError as e:
        raise JacodeError(f"{path}: cannot read the recipe: {e}") from e
    except yaml.YAMLError as e:
        raise JacodeError(f"{path}: not valid YAML: {e}") from e

    def fail(msg: str, *keys) -> JacodeError:
        return JacodeError(f"{path}:{_line(node, *keys)}: {msg}")

    if not isinstance(data, dict):
        raise JacodeError(f"{path}: a recipe is a mapping with `name` and `stages`")
    unknown = set(data) - {"name", "run_dir", "stages", "description"}
    if unknown:
        key = sorted(unknown)[0]
        raise fail(f"unknown key {key!r} (known: name, run_dir, stages, description)", key)
    if not isinstance(data.get("name"), str) or not data["name"]:
        raise fail("`name` must be a non-empty string", "name")
    if not isinstance(data.get("stages"), list) or not data["stages"]:
        raise fail("`stages` must be a non-empty list", "stages")
    stages: list[Stage] = []
    for i, s in enumerate(data["stages"]):
        if not isinstance(s, dict):
            raise fail("each stage is a mapping with name, kind and config", "stages", i)
        bad = set(s) - {"name", "kind", "config", "launch"}
        if bad:
            k = sorted(bad)[0]
            raise fail(f"stage {s.get('name', i)!r}: unknown key {k!r} (name, kind, config, launch)", "stages", i, k)
        if s.get("launch") is not None and not isinstance(s["launch"], str):
            raise fail("`launch` is a command prefix string, e.g. 'accelerate launch --num_processes 8'",
                       "stages", i, "launch")
        name, kind = s.get("name"), s.get("kind")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][\w-]*", name):
            raise fail(f"stage {i}: `name` must be an identifier (letters, digits, _ and -)", "stages", i, "name")
        if name in {x.name for x in stages} or name in BUILTIN_VARS:
            raise fail(f"stage name {name!r} is used twice or reserved", "stages", i, "name")
        if kind not in KINDS:
            raise fail(f"stage {name!r}: unknown kind {kind!r} (known: {', '.join(KINDS)})", "stages", i, "kind")
        config = s.get("config") or {}
        if not isinstance(config, dict):
            raise fail(f"stage {name!r}: `config` must be a mapping", "stages", i, "config")
        refs = sorted(set(VAR.findall(json.dumps(config))) - set(BUILTIN_VARS))
        earlier = {x.name for x in stages}
        for r in refs:
            if r not in earlier:
                raise fail(f"stage {name!r} refers to ${{{r}}}, which is not an earlier stage", "stages", i,
                           "config")
        from jacode.stages import check_config

        problem = check_config(kind, config)
        if problem:
            key = problem[0]
            raise fail(f"stage {name!r} ({kind}): {problem[1]}", "stages", i, "config", *( [key] if key else []))
        if kind == "report":  # a report reads the whole run: it is out of date whenever any stage is
            refs = [x.name for x in stages]
        stages.append(Stage(name, kind, config, _line(node, "stages", i), refs, s.get("launch")))
    run_dir = Path(data.get("run_dir") or f"runs/{data['name']}")
    return Recipe(data["name"], path, run_dir, stages, raw)


def output_path(recipe: Recipe, stage: Stage) -> Path:
    """Where a stage's result is, known before it runs (so later stages can be planned)."""
    d = (recipe.run_dir / stage.name).resolve()
    return d / "final" if stage.kind in ("pretrain", "sft", "dpo") else d


def resolve(value, variables: dict[str, str]):
    if isinstance(value, str):
        return VAR.sub(lambda m: variables[m.group(1)], value)
    if isinstance(value, list):
        return [resolve(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, variables) for k, v in value.items()}
    return value


def _path_fingerprint(p: Path) -> str:
    h = hashlib.sha256()
    # Installed packages are not a recipe's input (${stdlib} contains site-packages): ignored, as are caches.
    skip = {"__pycache__", "site-packages", "dist-packages", ".git"}
    files = [p] if p.is_file() else sorted(x for x in p.rglob("*") if x.is_file() and not skip & set(x.parts))
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(p) if p.is_dir() else f.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("jacode", "torch", "transformers", "trl", "datatrove", "accelerate"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


@dataclass
class Plan:
    stage: Stage
    config: dict
    out: Path
    fingerprint: str
    action: str  # run | skip | resume


def plan(recipe: Recipe, only: str | None = None, start: str | None = None) -> list[Plan]:
    names = [s.name for s in recipe.stages]
    for opt, value in (("--only", only), ("--from", start)):
        if value is not None and value not in names:
            raise JacodeError(f"{opt} {value}: no such stage (stages: {', '.join(names)})")
    run_dir = recipe.run_dir.resolve()
    variables = {"run": str(run_dir), "shipped": str(shipped_dir()), "stdlib": sysconfig.get_paths()["stdlib"],
                 # Benchmark data never ships with jacode; stages that need it record "skipped" without it.
                 "benchmark_data": os.environ.get("JACODE_BENCHMARK_DATA", str(Path("../shared/benchmarks").resolve()))}
    fingerprints: dict[str, str] = {}
    plans = []
    actions: dict[str, str] = {}
    forced = set()
    if only:
        forced = {only}
    elif start:
        forced = set(names[names.index(start):])
    for s in recipe.stages:
        variables[s.name] = str(output_path(recipe, s))
        config = resolve(s.config, variables)
        external = {}
        for value in re.findall(r'"(/[^"]+)"', json.dumps(config, ensure_ascii=False)):
            p = Path(value)
            if p.exists() and run_dir not in p.parents and p != run_dir:
                external[value] = _path_fingerprint(p)
        payload = {"kind": s.kind, "config": config, "upstream": {d: fingerprints[d] for d in s.depends},
                   "external": external, "jacode": versions().get("jacode")}
        fp = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        fingerprints[s.name] = fp
        manifest = _read_manifest(run_dir / s.name)
        # Outputs, not only inputs: a stage is stale when an upstream stage ran again after it (its run id changed)
        # or is about to run again in this plan.
        upstream_runs = {d: _read_manifest(run_dir / d).get("run_id") for d in s.depends}
        upstream_moves = any(actions.get(d, "skip") != "skip" for d in s.depends)
        up_to_date = (manifest.get("status") == "done" and manifest.get("fingerprint") == fp
                      and manifest.get("upstream_runs", {}) == upstream_runs and not upstream_moves)
        if only and s.name != only:
            action = "skip"
        elif s.name in forced:
            action = "run"
        elif start:
            if not up_to_date:
                raise JacodeError(f"--from {start}: the earlier stage {s.name!r} is not done or its inputs changed; "
                                  "run without --from first")
            action = "skip"
        elif up_to_date:
            action = "skip"
        elif (manifest.get("status") in ("running", "failed") and manifest.get("fingerprint") == fp
              and manifest.get("upstream_runs", {}) == upstream_runs and not upstream_moves):
            action = "resume"
        else:
            action = "run"
        actions[s.name] = action
        plans.append(Plan(s, config, output_path(recipe, s), fp, action))
    return plans


def _read_manifest(stage_dir: Path) -> dict:
    try:
        return json.loads((stage_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}


def describe_plan(recipe: Recipe, plans: list[Plan]) -> str:
    lines = [f"recipe {recipe.name} ({recipe.path}) → {recipe.run_dir}"]
    for i, p in enumerate(plans, 1):
        lines.append(f"  [{i}/{len(plans)}] {p.stage.name:<14} {p.stage.kind:<10} {p.action:<7} → {p.out}")
        if p.stage.launch:
            job = recipe.run_dir.resolve() / p.stage.name / "stage.json"
            lines.append(f"        launch: {p.stage.launch} -m jacode.stages {job}")
    return "\n".join(lines)


def run_recipe(recipe: Recipe, only: str | None = None, start: str | None = None, echo=print) -> list[Plan]:
    plans = plan(recipe, only, start)
    run_dir = recipe.run_dir.resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "recipe.yaml", recipe.raw)
    total = len(plans)
    started = time.time()
    for i, p in enumerate(plans, 1):
        stage_dir = run_dir / p.stage.name
        if p.action == "skip":
            echo(f"[{i}/{total}] {p.stage.name}: up to date, skipped")
            continue
        if p.action == "run" and stage_dir.exists():
            # New inputs (or a forced re-run): start clean. Stage commands resume from whatever they find in
            # their directory (checkpoints, finished datatrove tasks, appended records), which is right only
            # for an interrupted run with the same inputs ("resume").
            shutil.rmtree(stage_dir)
        stage_dir.mkdir(parents=True, exist_ok=True)
        manifest = {"stage": p.stage.name, "kind": p.stage.kind, "config": p.config, "fingerprint": p.fingerprint,
                    "output": str(p.out), "versions": versions(), "status": "running", "started": time.time(),
                    "recipe": str(recipe.path), "run_id": uuid.uuid4().hex,
                    "upstream_runs": {d: _read_manifest(run_dir / d).get("run_id") for d in p.stage.depends}}
        atomic_write_text(stage_dir / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        job = stage_dir / "stage.json"
        atomic_write_text(job, json.dumps({"kind": p.stage.kind, "config": p.config, "out": str(stage_dir),
                                           "run_dir": str(run_dir)}, ensure_ascii=False))
        echo(f"[{i}/{total}] {p.stage.name} ({p.stage.kind}){' resuming' if p.action == 'resume' else ''} …")
        t = time.time()
        log = stage_dir / "stage.log"
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} {p.stage.name} ({p.stage.kind}) =====\n")
            f.flush()
            # A `launch` prefix (accelerate launch / deepspeed / torchrun) runs the stage on several processes;
            # accelerate's -m runs the module as `python -m` would.
            head = [*shlex.split(p.stage.launch), "-m"] if p.stage.launch else [sys.executable, "-m"]
            rc = subprocess.call([*head, "jacode.stages", str(job)], stdout=f, stderr=subprocess.STDOUT,
                                 env={**os.environ, "PYTHONUNBUFFERED": "1"})
        manifest.update(finished=time.time(), seconds=round(time.time() - t, 2), status="done" if rc == 0 else "failed",
                        returncode=rc)
        atomic_write_text(stage_dir / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        if rc != 0:
            tail = "".join(log.read_text("utf-8", errors="replace").splitlines(keepends=True)[-15:])
            raise JacodeError(f"stage {p.stage.name!r} ({p.stage.kind}) failed (exit {rc}); log: {log}\n{tail}")
        echo(f"[{i}/{total}] {p.stage.name}: done in {manifest['seconds']:.1f} s")
    echo(f"recipe {recipe.name}: finished in {time.time() - started:.1f} s → {run_dir}")
    return plans
