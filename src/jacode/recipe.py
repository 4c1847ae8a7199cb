"""`jacode run RECIPE.yaml`: the stages of a recipe, in order, each a directory with a manifest.

A recipe:

    name: tiny
    run_dir: runs/tiny                 # default: runs/<name>, relative to the current directory
    stages:
      - name: tok                      # unique; later stages refer to its output as ${tok}
        kind: tokenizer                # a kind of jacode.stages.KINDS
        config: {inputs: ["${data}/data"], vocab_size: 2000}
      - ...

Values may use ${STAGE} (an earlier stage's output path), ${run} (the run directory), ${shipped} (data shipped
with jacode), ${stdlib} (this Python's standard library) and ${benchmark_data} ($JACODE_BENCHMARK_DATA, default
../shared/benchmarks).

Everything is checked before the first stage starts (`--dry-run` checks and stops there): each stage's settings
against its kind's config (types, enums, required keys, unknown keys with a did-you-mean), references to stages
(known, earlier), benchmark names, and inputs that must already exist; every problem is reported with
file:line:key. Then each stage runs in a process of its own with its log in STAGE/stage.log and writes its
manifest (jacode.manifest). A stage whose manifest is `done` with the same fingerprint is skipped; an interrupted
one resumes (every stage command resumes its own work: checkpoints, appended records). A stage that fails ends
the run with the stage named and the end of its log.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from jacode import manifest as mf
from jacode.config import ConfigError, validate
from jacode.errors import JacodeError
from jacode.io import atomic_write_text
from jacode.stages import KINDS, StageKind

VAR = re.compile(r"\$\{([A-Za-z_][\w-]*)\}")
BUILTIN_VARS = ("run", "shipped", "stdlib", "benchmark_data")
TOP_KEYS = ("name", "run_dir", "stages", "description")
STAGE_KEYS = ("name", "kind", "config", "launch")


@dataclass
class Stage:
    name: str
    kind: str
    config: dict[str, Any]
    line: int
    depends: list[str] = field(default_factory=list)
    launch: str | None = None  # e.g. "accelerate launch --config_file ... --num_processes 8" for multi-GPU

    @property
    def spec(self) -> StageKind:
        return KINDS[self.kind]


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


def builtin_variables(run_dir: Path) -> dict[str, str]:
    return {"run": str(run_dir.resolve()), "shipped": str(shipped_dir()), "stdlib": sysconfig.get_paths()["stdlib"],
            # Benchmark data never ships with jacode: a recipe that needs it names it (and fails if it is absent).
            "benchmark_data": os.environ.get("JACODE_BENCHMARK_DATA", str(Path("../shared/benchmarks").resolve()))}


def _line(node, *keys) -> int:
    """1-based line of the YAML node reached by keys (mapping keys / sequence indices), as far as it exists."""
    for k in keys:
        if isinstance(node, yaml.MappingNode):
            nxt = next(((kn, vn) for kn, vn in node.value if kn.value == str(k)), None)
            if nxt is None:
                break
            node = nxt[1] if k != keys[-1] else nxt[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(k, int) and k < len(node.value):
            node = node.value[k]
        else:
            break
    return node.start_mark.line + 1


def _did_you_mean(word: str, options) -> str:
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _walk(value: Any, spec: str) -> list[tuple[tuple, Any]]:
    """(location, value) of every item a path spec names: "data[]", "readers[].path", "models{}", "model"."""
    found = [((), value)]
    for part in re.findall(r"[^.\[\]{}]+|\[\]|\{\}", spec):
        nxt = []
        for loc, v in found:
            if part == "[]" and isinstance(v, list):
                nxt += [((*loc, i), x) for i, x in enumerate(v)]
            elif part == "{}" and isinstance(v, dict):
                nxt += [((*loc, k), x) for k, x in v.items()]
            elif isinstance(v, dict) and part in v:
                nxt.append(((*loc, part), v[part]))
        found = nxt
    return found


def load_recipe(path: str | Path | None = None, *, check_inputs: bool = True, run_dir: str | Path | None = None
                ) -> Recipe:
    """Parse and validate a recipe; JacodeError listing every problem as file:line: message."""
    path = Path(path) if path else recipes_dir() / "tiny.yaml"
    shipped = recipes_dir() / (path.name if path.suffix == ".yaml" else f"{path.name}.yaml")
    if not path.exists() and shipped.exists():  # a shipped recipe by name: `jacode run future-code-ja-8b`
        path = shipped
    try:
        raw = path.read_text("utf-8")
        node = yaml.compose(raw)
        data = yaml.safe_load(raw)
    except OSError as e:
        raise JacodeError(f"{path}: cannot read the recipe: {e}") from e
    except yaml.YAMLError as e:
        raise JacodeError(f"{path}: not valid YAML: {e}") from e
    problems: list[str] = []

    def problem(msg: str, *keys) -> None:
        problems.append(f"{path}:{_line(node, *keys) if node is not None else 1}: {msg}")

    if not isinstance(data, dict):
        raise JacodeError(f"{path}:1: a recipe is a mapping with `name` and `stages`")
    for key in sorted(set(data) - set(TOP_KEYS)):
        problem(f"unknown key {key!r}{_did_you_mean(key, TOP_KEYS)}", key)
    if not isinstance(data.get("name"), str) or not data["name"]:
        problem("`name` must be a non-empty string", "name")
    if not isinstance(data.get("stages"), list) or not data["stages"]:
        problem("`stages` must be a non-empty list", "stages")
        raise JacodeError("\n".join(problems))
    names = [s.get("name") for s in data["stages"] if isinstance(s, dict)]
    root = Path(run_dir or data.get("run_dir") or f"runs/{data.get('name')}")
    variables = builtin_variables(root)
    stages: list[Stage] = []
    for i, s in enumerate(data["stages"]):
        where = ("stages", i)
        if not isinstance(s, dict):
            problem("each stage is a mapping with name, kind and config", *where)
            continue
        for k in sorted(set(s) - set(STAGE_KEYS)):
            problem(f"stage {s.get('name', i)!r}: unknown key {k!r}{_did_you_mean(k, STAGE_KEYS)}", *where, k)
        name, kind = s.get("name"), s.get("kind")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][\w-]*", name):
            problem(f"stage {i + 1}: `name` must be an identifier (letters, digits, _ and -)", *where, "name")
            continue
        if name in {x.name for x in stages} or name in BUILTIN_VARS:
            problem(f"stage name {name!r} is used twice or reserved ({', '.join(BUILTIN_VARS)})", *where, "name")
        if kind not in KINDS:
            problem(f"stage {name!r}: unknown kind {kind!r}{_did_you_mean(kind, KINDS)} (known: "
                    f"{', '.join(KINDS)})", *where, "kind")
            continue
        if s.get("launch") is not None and not isinstance(s["launch"], str):
            problem("`launch` is a command prefix string, e.g. 'accelerate launch --num_processes 8'", *where,
                    "launch")
        config = s.get("config") or {}
        if not isinstance(config, dict):
            problem(f"stage {name!r}: `config` must be a mapping", *where, "config")
            continue
        earlier = [x.name for x in stages]
        refs = []
        for loc, value in _strings(config):
            for ref in VAR.findall(value):
                if ref in BUILTIN_VARS or ref in earlier:
                    refs.append(ref)
                elif ref == name:
                    problem(f"stage {name!r} refers to its own output ${{{ref}}}", *where, "config", *loc)
                elif ref in names:
                    problem(f"stage {name!r} refers to ${{{ref}}}, a later stage (stages run in the order written)",
                            *where, "config", *loc)
                else:
                    problem(f"stage {name!r} refers to ${{{ref}}}, which is no stage"
                            f"{_did_you_mean(ref, [*earlier, *BUILTIN_VARS])}", *where, "config", *loc)
        spec = KINDS[kind]
        try:
            cfg = validate(spec.config_class(), config)
        except ConfigError as e:
            for p in e.problems:
                problem(f"stage {name!r} ({kind}): {'.'.join(map(str, p.loc))}: {p.message}", *where, "config",
                        *p.loc)
            cfg = None
        if cfg is not None:
            checks = [getattr(cfg, "check", lambda: [])]
            if check_inputs:  # what this machine must have: trackers (inputs are checked below)
                checks.append(getattr(cfg, "environment", lambda: []))
            for key, msg in (x for c in checks for x in c()):
                problem(f"stage {name!r} ({kind}): {key}: {msg}", *where, "config", key)
            problems += [f"{path}:{_line(node, *where, 'config', *loc)}: stage {name!r} ({kind}): {msg}"
                         for loc, msg in _semantic_problems(spec, config, variables, check_inputs)]
        depends = sorted({r for r in refs if r not in BUILTIN_VARS})
        if kind == "report":  # a report reads the whole run: it is out of date whenever any stage is
            depends = earlier
        stages.append(Stage(name, kind, config, _line(node, *where), depends, s.get("launch")))
    for st in stages:
        problems += [f"{path}:{st.line}: stage {st.name!r} ({st.kind}): launch: {msg}"
                     for msg in _launch_problems(st, {x.name: x for x in stages}, variables)]
    if problems:
        raise JacodeError(f"{len(problems)} problem(s) in the recipe:\n" + "\n".join(problems))
    return Recipe(data["name"], path, root, stages, raw)


def architecture(stage: Stage, by_name: dict[str, Stage], variables: dict[str, str]) -> str | None:
    """The model class a stage trains or writes: its kind's own (upcycle → Mixtral), else that of its `model` —
    an earlier stage's output (followed back) or a directory's config.json. None where unknown here (a hub id, a
    path on another machine)."""
    if KINDS[stage.kind].architecture:
        return KINDS[stage.kind].architecture
    model = stage.config.get("model")
    if not isinstance(model, str):
        return None
    ref = VAR.fullmatch(model.split("/")[0]) if model.startswith("${") else None
    if ref and ref.group(1) in by_name:
        return architecture(by_name[ref.group(1)], by_name, variables)
    if VAR.search(model) and not all(v in variables for v in VAR.findall(model)):
        return None
    config = Path(resolve(model, variables)) / "config.json"
    try:
        return (json.loads(config.read_text()).get("architectures") or [None])[0]
    except (OSError, ValueError):
        return None


def _launch_problems(stage: Stage, by_name: dict[str, Stage], variables: dict[str, str]) -> list[str]:
    """FSDP wrap classes named in a launch's accelerate config must be layers of the model the stage trains (an
    upcycled model has MixtralDecoderLayer, not LlamaDecoderLayer: accelerate raises on the cluster). Unnamed,
    accelerate wraps the model's own `_no_split_modules` — what jacode's shipped configs do."""
    if not isinstance(stage.launch, str):  # absent, or not a string (reported as such)
        return []
    words = shlex.split(stage.launch)
    config = next((words[i + 1] for i, w in enumerate(words[:-1]) if w == "--config_file"), None)
    try:
        cfg = yaml.safe_load(Path(config).read_text()) if config else None
    except (OSError, yaml.YAMLError):  # a path on the cluster (relative to where it runs): checked there
        return []
    named = ((cfg or {}).get("fsdp_config") or {}).get("fsdp_transformer_layer_cls_to_wrap")
    arch = architecture(stage, by_name, variables) if named else None
    if not arch:
        return []
    import transformers

    layers = list(getattr(getattr(transformers, arch, None), "_no_split_modules", None) or [])
    wrong = [c.strip() for c in str(named).split(",") if layers and c.strip() not in layers]
    return [f"{config} wraps {', '.join(wrong)}, but the model ({arch}) has {', '.join(layers)}; leave "
            "fsdp_transformer_layer_cls_to_wrap unset and accelerate wraps the model's own layers"] if wrong else []


def _strings(value: Any, loc: tuple = ()) -> list[tuple[tuple, str]]:
    if isinstance(value, str):
        return [(loc, value)]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in _strings(v, (*loc, i))]
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in _strings(v, (*loc, k))]
    return []


def _semantic_problems(spec: StageKind, config: dict, variables: dict[str, str], check_inputs: bool
                       ) -> list[tuple[tuple, str]]:
    """Benchmark names, and inputs that must already exist (those not made by an earlier stage)."""
    out = []
    for bspec in spec.benchmarks:
        from jacode.evals.registry import BENCHMARKS

        for loc, name in _walk(config, bspec):
            if isinstance(name, str) and name not in BENCHMARKS:
                out.append((loc, f"unknown benchmark {name!r}{_did_you_mean(name, BENCHMARKS)}"))
    if not check_inputs:
        return out
    for pspec in spec.paths:
        for loc, value in _walk(config, pspec):
            if not isinstance(value, str) or any(v not in BUILTIN_VARS for v in VAR.findall(value)):
                continue  # made by an earlier stage: it exists when this one runs
            resolved = VAR.sub(lambda m: variables[m.group(1)], value)
            if not Path(resolved).exists() and not _fetched_at_run_time(resolved, pspec):
                hint = " (set JACODE_BENCHMARK_DATA to where the benchmark data is)" \
                    if "${benchmark_data}" in value else ""
                out.append((loc, f"{resolved}: no such file or directory{hint}"))
    return out


# Settings that name a model: a known name or a hub id there is resolved by the stage (jacode.models.resolve).
MODEL_SETTINGS = ("model", "judge_model", "reward_model", "base", "target", "instruct", "template_from", "models")


def _fetched_at_run_time(value: str, pspec: str) -> bool:
    """A known model name or a hub id in a model setting: the stage resolves it (and fails at once, offline, saying
    how to get it). Data paths are not: `data/train.jsonl` is a missing file there, not a hub id."""
    from jacode.models.get import KNOWN_MODELS
    from jacode.models.hub import looks_like_hub_id

    if pspec.split(".")[-1].rstrip("[]{}") not in MODEL_SETTINGS:
        return False
    return value in KNOWN_MODELS or looks_like_hub_id(value)


def output_path(recipe: Recipe, stage: Stage) -> Path:
    """Where a stage's result is, known before it runs (so later stages can be planned)."""
    d = (recipe.run_dir / stage.name).resolve()
    return d / stage.spec.output if stage.spec.output else d


def resolve(value, variables: dict[str, str]):
    if isinstance(value, str):
        return VAR.sub(lambda m: variables[m.group(1)], value)
    if isinstance(value, list):
        return [resolve(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, variables) for k, v in value.items()}
    return value


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
            raise JacodeError(f"{opt} {value}: no such stage{_did_you_mean(value, names)} (stages: {', '.join(names)})")
    run_dir = recipe.run_dir.resolve()
    variables = builtin_variables(recipe.run_dir)
    fingerprints: dict[str, str] = {}
    plans: list[Plan] = []
    actions: dict[str, str] = {}
    forced = {only} if only else set(names[names.index(start):]) if start else set()
    for s in recipe.stages:
        variables[s.name] = str(output_path(recipe, s))
        config = resolve(s.config, variables)
        external = {}
        for value in set(re.findall(r'"(/[^"]+)"', json.dumps(config, ensure_ascii=False))):
            p = Path(value)
            if p.exists() and run_dir not in p.parents and p != run_dir:
                external[value] = mf.content_fingerprint(p)
        # Paths inside the run are written relative to it: a copied run directory has the same fingerprints.
        payload = {"kind": s.kind, "config": mf.relative(config, run_dir),
                   "upstream": {d: fingerprints[d] for d in s.depends}, "external": external,
                   "jacode": mf.versions().get("jacode")}
        fp = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        fingerprints[s.name] = fp
        manifest = mf.read(run_dir / s.name)
        # Outputs, not only inputs: a stage is stale when an upstream stage ran again after it (its run id changed)
        # or is about to run again in this plan.
        upstream_runs = {d: mf.read(run_dir / d).get("run_id") for d in s.depends}
        upstream_moves = any(actions.get(d, "skip") != "skip" for d in s.depends)
        same = (manifest.get("fingerprint") == fp and manifest.get("upstream_runs", {}) == upstream_runs
                and not upstream_moves)
        up_to_date = manifest.get("status") in ("done", "partial") and same
        if forced and s.name not in forced:
            action = "skip"
        elif s.name in forced:
            action = "run"
        elif up_to_date:
            action = "skip"
        elif manifest.get("status") in ("running", "failed") and same:
            action = "resume"
        else:
            action = "run"
        actions[s.name] = action
        plans.append(Plan(s, config, output_path(recipe, s), fp, action))
    mf.save_hash_cache()
    for p in plans:  # --only / --from: what the chosen stages read must be there already
        if p.stage.name not in forced or p.stage.kind == "report":
            continue
        for d in p.stage.depends:
            if d not in forced and mf.read(run_dir / d).get("status") not in ("done", "partial"):
                option = f"--only {only}" if only else f"--from {start}"
                raise JacodeError(f"{option}: stage {p.stage.name!r} reads the output of stage {d!r}, which has not "
                                  f"run here: run `jacode run {recipe.path} --only {d}` first (or the whole recipe)")
    return plans


def describe_plan(recipe: Recipe, plans: list[Plan]) -> str:
    lines = [f"recipe {recipe.name} ({recipe.path}) → {recipe.run_dir}"]
    for i, p in enumerate(plans, 1):
        what = {"skip": "up to date", "run": "will run", "resume": "will resume"}[p.action]
        lines.append(f"  [{i}/{len(plans)}] {p.stage.name:<14} {p.stage.kind:<10} {what:<12} → {p.out}")
        if p.stage.launch:
            job = recipe.run_dir.resolve() / p.stage.name / "stage.json"
            lines.append(f"        launch: {p.stage.launch} -m jacode.stages {job}")
    return "\n".join(lines)


# Seconds between "still running" lines when the output is not a terminal (a terminal gets a refreshed line).
PROGRESS_EVERY_S = 30.0


def last_line(log: Path, size: int = 8192) -> str:
    """The stage's latest output line: the last non-empty piece after a newline or a progress bar's \\r."""
    try:
        with open(log, "rb") as f:
            f.seek(max(0, log.stat().st_size - size))
            tail = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return next((x.strip() for x in reversed(re.split(r"[\r\n]", tail)) if x.strip()), "")


def follow(proc: subprocess.Popen, log: Path, name: str, echo=print) -> int:
    """Wait for a stage's process, showing what it is doing: on a terminal, its latest log line refreshed in
    place; elsewhere, a line every PROGRESS_EVERY_S seconds. Returns its exit status."""
    tty = sys.stderr.isatty()
    started = last = time.monotonic()
    width = shutil.get_terminal_size((100, 20)).columns
    while True:
        try:
            return_code = proc.wait(timeout=0.5 if tty else min(PROGRESS_EVERY_S, 5.0))
        except subprocess.TimeoutExpired:
            return_code = None
        if return_code is not None:
            if tty:
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()
            return return_code
        now = time.monotonic()
        line = f"  {name} {now - started:.0f} s: {last_line(log)}"
        if tty:
            sys.stderr.write("\r\x1b[K" + line[: width - 1])
            sys.stderr.flush()
        elif now - last >= PROGRESS_EVERY_S:
            echo(line)
            last = now


def run_recipe(recipe: Recipe, only: str | None = None, start: str | None = None, echo=print) -> list[Plan]:
    plans = plan(recipe, only, start)
    run_dir = recipe.run_dir.resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "recipe.yaml", recipe.raw)
    total = len(plans)
    started = time.time()
    partial = []
    for i, p in enumerate(plans, 1):
        stage_dir = run_dir / p.stage.name
        if p.action == "skip":
            echo(f"[{i}/{total}] {p.stage.name}: {'not asked for' if only or start else 'up to date'}, skipped")
            continue
        if p.action == "run" and stage_dir.exists():
            # New inputs (or a forced re-run): start clean. Stage commands resume from whatever they find in
            # their directory (checkpoints, finished datatrove tasks, appended records), which is right only
            # for an interrupted run with the same inputs ("resume").
            shutil.rmtree(stage_dir)
        stage_dir.mkdir(parents=True, exist_ok=True)
        job = stage_dir / "stage.json"
        atomic_write_text(job, json.dumps({
            "name": p.stage.name, "kind": p.stage.kind, "config": p.config, "raw_config": p.stage.config,
            "out": str(stage_dir), "run_dir": str(run_dir), "fingerprint": p.fingerprint,
            "upstream_runs": {d: mf.read(run_dir / d).get("run_id") for d in p.stage.depends}}, ensure_ascii=False))
        log = stage_dir / "stage.log"
        echo(f"[{i}/{total}] {p.stage.name} ({p.stage.kind}){' resuming' if p.action == 'resume' else ''} … "
             f"log: {log}")
        t = time.time()
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} {p.stage.name} ({p.stage.kind}) =====\n")
            f.flush()
            # A `launch` prefix (accelerate launch / deepspeed / torchrun) runs the stage on several processes;
            # accelerate's -m runs the module as `python -m` would.
            head = [*shlex.split(p.stage.launch), "-m"] if p.stage.launch else [sys.executable, "-m"]
            proc = subprocess.Popen([*head, "jacode.stages", str(job)], stdout=f, stderr=subprocess.STDOUT,
                                    env={**os.environ, "PYTHONUNBUFFERED": "1"})
            try:
                rc = follow(proc, log, p.stage.name, echo)
            except BaseException:  # Ctrl-C or a kill of the runner: the stage goes too (as subprocess.call did)
                proc.kill()
                proc.wait()
                raise
        m = mf.read(stage_dir)
        if rc != 0 or m.get("status") not in ("done", "partial"):
            tail = "".join(log.read_text("utf-8", errors="replace").splitlines(keepends=True)[-15:])
            if m.get("status") == "running" or not m:  # killed before it could say so
                m.update(status="failed", error=f"exit {rc}")
                mf.write(stage_dir, m)
            raise JacodeError(f"stage {p.stage.name!r} ({p.stage.kind}) failed (exit {rc}): "
                              f"{m.get('error', 'see its log')}\nlog: {log}\n{tail}")
        if m["status"] == "partial":
            partial.append(p.stage.name)
        echo(f"[{i}/{total}] {p.stage.name}: {m['status']} in {time.time() - t:.1f} s"
             + (f" — {m['summary']['text']}" if m.get("summary", {}).get("text") else ""))
    echo(f"recipe {recipe.name}: finished in {time.time() - started:.1f} s → {run_dir}"
         + (f" (partial results, allowed: {', '.join(partial)})" if partial else ""))
    return plans
