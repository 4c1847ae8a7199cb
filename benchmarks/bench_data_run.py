"""`jacode data run` with the code filters on the Python standard library, as whole processes on one core.

Rows (each a fresh process, wall time from spawn to exit and CPU time of the whole process tree, median of N
interleaved runs, pinned to one CPU with `taskset`-like affinity that the parser workers inherit):

  reference   a bare tree-sitter parse of every file: `python -c` that imports tree_sitter_language_pack, reads and
              parses each .py file of the tree, exits
  filters     `jacode data run` (one task, one worker): source_tree reader → PII → language check → code heuristics
              → syntax (tree-sitter worker) → complexity (screen, lizard when needed) → shards → stats → jsonl.gz
  + dedup     the same with exact and MinHash dedup on

The tree: every .py file of `sysconfig.get_paths()["stdlib"]` outside site-packages that the reader would take
(UTF-8, ≤ 1 MB, no NUL byte), copied to a temporary folder so that the reader and the reference see the same files.

Where the time goes: process start-up + imports (`python -X importtime` of the same command is not needed: the
command with an empty tree measures it), and per step, datatrove's own stats.json (time per step, summed over the
documents; the filters' time includes their exclusion writers). The rest of a stage's wall time is datatrove's
executor (logging, completion markers, stats merging) and the report.

    python benchmarks/bench_data_run.py [--runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

JACODE = [sys.executable, "-m", "jacode"]

REFERENCE = r"""
import sys
from pathlib import Path
from tree_sitter_language_pack import get_parser
parser = get_parser("python")
n = 0
for p in sorted(Path(sys.argv[1]).rglob("*.py")):
    parser.parse(p.read_bytes())
    n += 1
print(n)
"""


def make_tree(dest: Path) -> tuple[int, int]:
    root = Path(sysconfig.get_paths()["stdlib"])
    n = size = 0
    for p in sorted(root.rglob("*.py")):
        rel = p.relative_to(root)
        if "site-packages" in rel.parts or not p.is_file():
            continue
        raw = p.read_bytes()
        if len(raw) > 1_000_000 or b"\0" in raw[:8192]:
            continue
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(raw)
        n, size = n + 1, size + len(raw)
    return n, size


def write_config(path: Path, tree: Path, output: Path, dedup: bool) -> None:
    import yaml

    cfg = {"output": str(output), "tasks": 1, "readers": [{"type": "source_tree", "path": str(tree)}],
           "text": {"japanese": None, "english": None},
           "dedup": {"exact": True, "minhash": {}} if dedup else {"exact": False, "minhash": None}}
    path.write_text(yaml.safe_dump(cfg))


def timed(cmd: list[str], cpu: int, env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system of the process and every process it started)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                   preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def step_times(output: Path) -> list[tuple[str, str, float]]:
    """(stage, step, seconds) from datatrove's merged stats.json of each stage."""
    rows = []
    for stage_dir in sorted((output / "logs").iterdir(), key=lambda p: p.stat().st_mtime):
        path = stage_dir / "stats.json"
        if not path.exists():
            continue
        for step in json.loads(path.read_text()):
            t = step.get("time_stats")
            seconds = t.get("total", 0.0) if isinstance(t, dict) else float(t or 0.0)
            rows.append((stage_dir.name, step["name"], seconds))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = ap.parse_args()
    cpu = sorted(os.sched_getaffinity(0))[0]
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_data_run_"))
    work.mkdir(parents=True, exist_ok=True)
    tree, empty = work / "stdlib", work / "empty"
    shutil.rmtree(tree, ignore_errors=True)
    n, size = make_tree(tree)
    empty.mkdir(exist_ok=True)
    (empty / "a.py").write_text("x = 1\ny = 2\nz = 3\n")
    print(f"{n} files, {size / 1e6:.1f} MB; Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} cores, every process pinned to CPU {cpu}")

    configs = {}
    for name, dedup, src in (("filters", False, tree), ("filters+dedup", True, tree),
                             ("start-up (1 file)", False, empty)):
        cfg = work / f"{name.replace(' ', '_').replace('(', '').replace(')', '')}.yaml"
        write_config(cfg, src, work / f"out_{cfg.stem}", dedup)
        configs[name] = cfg

    def run_jacode(cfg: Path) -> tuple[float, float]:
        out = Path(__import__("yaml").safe_load(cfg.read_text())["output"])
        shutil.rmtree(out, ignore_errors=True)
        return timed([*JACODE, "data", "run", str(cfg), "--workers", "1"], cpu)

    rows: dict[str, list[tuple[float, float]]] = {"reference": [], **{k: [] for k in configs}}
    rows["python -c pass"] = []
    rows["import tree_sitter_language_pack"] = []
    for _ in range(args.runs):  # interleaved, so that a slow moment of a shared machine hits every row
        rows["python -c pass"].append(timed([sys.executable, "-c", "pass"], cpu))
        rows["import tree_sitter_language_pack"].append(
            timed([sys.executable, "-c", "import tree_sitter_language_pack"], cpu))
        rows["reference"].append(timed([sys.executable, "-c", REFERENCE, str(tree)], cpu))
        for name, cfg in configs.items():
            rows[name].append(run_jacode(cfg))
    # CPU time (user + system of the whole process tree) is what one core can give; on a shared machine the wall
    # time also holds the time other processes had that core, and it varies much more.
    wall = {k: statistics.median(w for w, _ in v) for k, v in rows.items()}
    cpu_s = {k: statistics.median(c for _, c in v) for k, v in rows.items()}
    ref, ref_cpu = wall["reference"], cpu_s["reference"]
    print(f"\n| process | wall time (median of {args.runs}) | vs reference | CPU time (median) | vs reference |\n"
          "|---|---:|---:|---:|---:|")
    for k in ("reference", "filters", "filters+dedup", "start-up (1 file)", "python -c pass",
              "import tree_sitter_language_pack"):
        print(f"| {k} | {wall[k]:.2f} s | {wall[k] / ref:.2f}x | {cpu_s[k]:.2f} s | {cpu_s[k] / ref_cpu:.2f}x |")
    print("\nall runs (wall, CPU):", {k: [(round(w, 2), round(c, 2)) for w, c in v] for k, v in rows.items()})

    for name in ("filters", "filters+dedup"):
        out = Path(__import__("yaml").safe_load(configs[name].read_text())["output"])
        print(f"\n{name}: datatrove step times (last run)")
        total = 0.0
        for stage, step, seconds in step_times(out):
            total += seconds
            print(f"  {stage:<20} {step:<45} {seconds:7.2f} s")
        print(f"  {'sum of steps':<66} {total:7.2f} s   (process wall {wall[name]:.2f} s)")


if __name__ == "__main__":
    main()
