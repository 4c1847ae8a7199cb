"""DRAFT for the integrator (rename to .py when the new sandbox lands): the whole red-team catalogue through jacode.

For each language: no attack passes, every neighbour keeps its verdict, and after each batch nothing outlives its
sample (no process with the marker in its command line), /dev/shm, SysV IPC, the kernel keyrings and the temporary
directory's filesystem did not grow, and no marker file was left on a host path.

Batches per language (see catalogue.py "Groups"): forgeries with 2 workers; the ungrouped escapes with 1 worker; each
sequential escape group (writer before reader) in a batch of its own with 1 worker, so that a writer and its reader
share whatever a worker reuses (a warm server) and nothing else ran there before them; concurrent groups with 2
workers. Neighbours run first and last in every batch.

test_synth_catalogue: `synth code-verified`'s check (solution + the model's own tests in another process) passes no
SYNTH_ATTACKS entry and keeps every SYNTH_NEIGHBOURS verdict.

Budget on the 2-core machine, measured against jacode at a625316 (all batches of a language): python ~26 s,
cpp ~29 s, java ~18 s, cs ~19 s, js ~13 s (the escapes dominate: 4 s waits, 256 MiB writes, compiles).
Against a625316 this test fails, listing every attack measured as fooling "jacode-0" plus "host keys grew" (the
keyring writer's key outlives its sample in the uid's persistent keyring).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from tests.sandbox.redteam.catalogue import (
    ATTACKS,
    BENCHMARKS,
    MARKER,
    NEIGHBOURS,
    NET_PORT,
    SYNTH_ATTACKS,
    SYNTH_NEIGHBOURS,
)

pytestmark = pytest.mark.slow

LEFTOVER_FILES = ["/var/tmp/jacode-redteam-outside", "/var/tmp/jacode-redteam-file", "/dev/shm/jacode-redteam-file",
                  "/tmp/jacode-redteam-file", "/tmp/random.py"]


def _host_state() -> dict:
    def ipcs(flag: str) -> int:
        out = subprocess.run(["ipcs", flag], capture_output=True, text=True).stdout
        return sum(1 for line in out.splitlines() if re.match(r"^0x[0-9a-f]+\s", line))

    shm = Path("/dev/shm")
    procs = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit() and int(p.name) != os.getpid():
            try:
                if MARKER.encode() in (p / "cmdline").read_bytes():
                    procs.append(p.name)
            except OSError:
                pass
    with open("/proc/keys") as f:
        keys = sum(MARKER in line for line in f)
    return {
        "shm": ipcs("-m"), "sem": ipcs("-s"), "msg": ipcs("-q"), "keys": keys, "marker_processes": procs,
        "dev_shm": sorted(x.name for x in shm.iterdir()),
        "dev_shm_bytes": sum(x.stat().st_size for x in shm.iterdir() if x.is_file()),
        "tmp_used": shutil.disk_usage(tempfile.gettempdir()).used,
        "leftover_files": [f for f in LEFTOVER_FILES if os.path.exists(f)],
    }


@pytest.fixture
def listener():
    """127.0.0.1:NET_PORT answering jacode-redteam-ok: the network attacks pass only if they reach it."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", NET_PORT))
    except OSError:  # another run's listener holds the port: it answers the same way
        sock.close()
        yield
        return
    sock.listen(16)
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"jacode-redteam-ok")

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield
    stop.set()
    t.join()
    sock.close()


def _batches(lang: str):
    mine = [a for a in ATTACKS if a.language == lang]
    nb = [n for n in NEIGHBOURS if n.language == lang]
    half = len(nb) // 2
    groups: dict[str, list] = {}
    for a in mine:
        if a.kind == "escape" and a.group and not a.group.startswith("concurrent:"):
            groups.setdefault(a.group, []).append(a)
    parts = [
        ("forgery", [a for a in mine if a.kind == "forgery"], 2),
        ("escape", [a for a in mine if a.kind == "escape" and not a.group], 1),
        *((f"group-{g}", members, 1) for g, members in groups.items()),
        ("concurrent", [a for a in mine if a.kind == "escape" and a.group.startswith("concurrent:")], 2),
    ]
    return [(name, nb[:half] + items + nb[half:], workers) for name, items, workers in parts if items]


@pytest.mark.parametrize("lang", ["python", "cpp", "java", "cs", "js"])
def test_red_team_catalogue(lang, tmp_path, bench_data, listener, bwrap):
    from jacode.evals.execute import ExecuteConfig, execute

    data = None if lang == "python" else str(bench_data / "multipl-e")
    failures = []
    for name, items, workers in _batches(lang):
        samples = tmp_path / f"{name}.jsonl"
        samples.write_text("".join(json.dumps({"task_id": x.task_id, "completion": x.completion}) + "\n"
                                   for x in items))
        before = _host_state()
        cfg = ExecuteConfig(benchmark=BENCHMARKS[lang], data=data, workers=workers, timeout_s=5.0, memory_mb=1024)
        results = execute(cfg, samples, tmp_path / f"out-{name}")
        after = _host_state()  # at once: nothing may outlive its sample, not even for the 4 s a daemon sleeps
        rows = [json.loads(line) for line in results.read_text().splitlines()]
        assert len(rows) == len(items)
        for x, row in zip(items, rows):
            if hasattr(x, "passes"):
                if bool(row["passed"]) != x.passes:
                    failures.append(f"{name}: neighbour {x.id} changed: {row['status']} {row['detail'][:200]}")
            elif row["passed"]:
                failures.append(f"{name}: attack {x.id} PASSED ({x.kind}: {x.idea})")
        for key in ("shm", "sem", "msg", "keys"):
            if after[key] > before[key]:
                failures.append(f"{name}: host {key} grew {before[key]} -> {after[key]}")
        if after["dev_shm_bytes"] - before["dev_shm_bytes"] > 2**20:
            failures.append(f"{name}: /dev/shm grew {before['dev_shm_bytes']} -> {after['dev_shm_bytes']} bytes")
        new_shm = {f for f in set(after["dev_shm"]) - set(before["dev_shm"]) if MARKER in f}
        if new_shm:  # (other programs on the machine, e.g. mono, come and go there too: only the marker counts)
            failures.append(f"{name}: new files in /dev/shm: {new_shm}")
        if after["marker_processes"]:
            failures.append(f"{name}: processes outlived their samples: {after['marker_processes']}")
        if after["tmp_used"] - before["tmp_used"] > 64 * 2**20:
            failures.append(f"{name}: the temp filesystem grew by {(after['tmp_used'] - before['tmp_used']) >> 20} MiB")
        if set(after["leftover_files"]) - set(before["leftover_files"]):
            failures.append(f"{name}: files left on the host: {after['leftover_files']}")
    assert not failures, "\n".join(failures)


def test_synth_catalogue(bwrap):
    from jacode.sandbox.checks import run_checks
    from jacode.sandbox.isolation import Limits, Sandbox
    from jacode.synth.verified_code import solution_check

    items = [*SYNTH_NEIGHBOURS[:3], *SYNTH_ATTACKS, *SYNTH_NEIGHBOURS[3:]]
    with Sandbox(Limits(timeout_s=10.0)) as sandbox:
        verdicts = run_checks([solution_check(x.solution, x.tests) for x in items], sandbox, workers=2, dedup=False)
    failures = []
    for i, x in enumerate(items):
        v = verdicts[i]
        if hasattr(x, "passes"):
            if v.passed != x.passes:
                failures.append(f"neighbour {x.id} changed: {v.status} {v.detail[:200]}")
        elif v.passed:
            failures.append(f"attack {x.id} PASSED: {x.idea}")
    assert not failures, "\n".join(failures)
