"""How many threads torch gets on CPU, so that generation, training and sandbox workers do not oversubscribe cores.

torch starts one intra-op thread per core it sees, and its OpenMP threads spin while they wait for each other. On a
machine whose cores are already busy (a CI runner, a shared box, sandbox workers executing tests, other ranks of
`accelerate launch`) those threads fight for the same cores: on a busy 2-core machine generation ran about 10x
slower with torch's default than with one thread. jacode therefore gives torch the cores that are free:

    threads = max(1, min(usable cores // processes sharing them - reserved, usable cores - load of others))

usable cores: the CPU affinity mask and a cgroup CPU quota, not the machine's count; processes: the ranks of a
multi-process CPU launch on this node; reserved: cores other jacode work needs at the same time; load of others:
the tasks runnable right now (sampled from /proc/loadavg) besides this process. `JACODE_TORCH_THREADS` overrides
the choice. The choice and its reasons are logged once per process. GPU work is not touched.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ENV = "JACODE_TORCH_THREADS"
_logged: set[str] = set()


def usable_cpus() -> int:
    """Cores this process may run on: its affinity mask, capped by a cgroup (v2 or v1) CPU quota."""
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = None
    try:
        q, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        quota = None if q == "max" else int(q) / int(period)
    except (OSError, ValueError):
        try:
            q = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
            period = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
            quota = q / period if q > 0 else None
        except (OSError, ValueError):
            pass
    if quota:
        n = min(n, max(1, int(quota)))
    return max(1, n)


def _runnable() -> list[int]:
    """Runnable tasks on the machine right now (this process included), a few samples 10 ms apart: the 4th field of
    /proc/loadavg. Instantaneous, unlike the 1-minute load average, which still counts a stage that just ended
    (a recipe's previous stage made jacode's own next stage look busy)."""
    samples = []
    for i in range(5):
        if i:
            time.sleep(0.01)
        try:
            samples.append(int(Path("/proc/loadavg").read_text().split()[3].split("/")[0]))
        except (OSError, ValueError, IndexError):
            return [round(os.getloadavg()[0]) + 1] if hasattr(os, "getloadavg") else [1]
    return samples


def _load_of_others() -> float:
    return max(0.0, statistics.median(_runnable()) - 1)  # this process is one of the runnable tasks


def torch_threads(processes: int = 1, reserve: int = 0) -> tuple[int, str]:
    """(intra-op threads for one torch process, why)."""
    if os.environ.get(ENV):
        return max(1, int(os.environ[ENV])), f"{ENV}={os.environ[ENV]}"
    cpus, others = usable_cpus(), _load_of_others()
    n = max(1, min(cpus // max(1, processes) - reserve, cpus - round(others)))
    why = f"{cpus} usable core(s)"
    if processes > 1:
        why += f", {processes} processes on this node"
    if reserve:
        why += f", {reserve} reserved"
    why += f", load of other processes {others:.1f}; override with {ENV}"
    return n, why


def configure_torch(role: str, processes: int = 1, reserve: int = 0) -> int:
    """Set torch's CPU thread count for `role` ("generation", "training", ...), log it once, return it.
    Tokenizers' own thread pool follows: off when torch gets one thread (the cores are taken)."""
    import torch

    n, why = torch_threads(processes, reserve)
    torch.set_num_threads(n)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true" if n > 1 else "false")
    if role not in _logged:
        _logged.add(role)
        print(f"jacode: {role} on CPU uses {n} torch thread(s) ({why})", file=sys.stderr, flush=True)
    return n
