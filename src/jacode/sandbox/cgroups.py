"""A memory cgroup per sandbox server, so that a sample's memory limit covers all its processes together.

RLIMIT_AS limits one process: four children could each take most of it. A cgroup limits them all, and also
counts what they keep in the job's tmpfs and in the kernel (inodes, pipes). Each sandbox server (one per worker)
gets its own cgroup, `<this process's memory cgroup>/jacode-<pid>-<n>`; the server and the job it runs live
there (a server runs one job at a time), and the server sets the limit to the sample's memory plus its own
small footprint before each job. A job's processes are the OOM killer's first choice (oom_score_adj 1000,
which needs no privilege), so they die, not the server.

cgroup v2 (memory in the unified hierarchy) and cgroup v1 (a `memory` hierarchy) are both used where this
process may create cgroups (root, or a delegated subtree). Elsewhere `available()` says why not, the per-process
limit is all there is, and `jacode doctor` says so loudly.
"""

from __future__ import annotations

import itertools
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_counter = itertools.count()
_lock = threading.Lock()


@dataclass(frozen=True)
class Hierarchy:
    version: int  # 1 or 2
    base: Path  # this process's memory cgroup: where jacode creates its own


def _mounts() -> list[tuple[str, str, str]]:
    """(mount point, fstype, super options) from /proc/self/mountinfo."""
    out = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, rest = left.split(), right.split()
        if len(fields) >= 5 and len(rest) >= 3:
            out.append((fields[4].replace("\\040", " "), rest[0], rest[2]))
    return out


def _own_cgroups() -> dict[str, str]:
    """controller (or "" for v2) -> this process's cgroup path."""
    out = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            out[c] = path
    return out


@lru_cache(maxsize=1)
def hierarchy() -> tuple[Hierarchy | None, str]:
    """(where to make memory cgroups, explanation); (None, why not) when this process cannot."""
    try:
        mounts, own = _mounts(), _own_cgroups()
    except OSError as e:
        return None, f"cannot read /proc: {e}"
    reasons = []
    for point, fstype, _opts in mounts:
        if fstype == "cgroup2" and "" in own:
            base = Path(point) / own[""].lstrip("/")
            controllers = (base / "cgroup.controllers").read_text().split() if (base / "cgroup.controllers").exists() \
                else []
            if "memory" in controllers:
                if os.access(base, os.W_OK):
                    return Hierarchy(2, base), f"cgroup v2 at {base}"
                reasons.append(f"cgroup v2 at {base} is not writable by this user")
            else:
                reasons.append(f"cgroup v2 at {point} has no memory controller here")
    for point, fstype, opts in mounts:
        if fstype == "cgroup" and "memory" in opts.split(",") and "memory" in own:
            base = Path(point) / own["memory"].lstrip("/")
            if base.is_dir() and os.access(base, os.W_OK):
                return Hierarchy(1, base), f"cgroup v1 memory at {base}"
            reasons.append(f"cgroup v1 memory at {base} is not writable by this user")
    return None, "; ".join(reasons) or "no memory cgroup hierarchy is mounted"


def available() -> tuple[bool, str]:
    h, why = hierarchy()
    return h is not None, why


class ServerCgroup:
    """One server's cgroup. `procs` is where the server's launcher writes its pid; `path` is bound into the
    sandbox read-write (the server sets the limit and reads the OOM count there)."""

    def __init__(self) -> None:
        h, why = hierarchy()
        if h is None:
            raise OSError(why)
        with _lock:
            n = next(_counter)
        self.version = h.version
        self.path = h.base / f"jacode-{os.getpid()}-{n}"
        self.path.mkdir()
        if h.version == 2:
            try:  # children need the controller enabled below the parent; the parent may refuse (processes)
                (h.base / "cgroup.subtree_control").write_text("+memory")
            except OSError:
                pass
            if not (self.path / "memory.max").exists():
                self.path.rmdir()
                raise OSError(f"cannot enable the memory controller below {h.base}")

    @property
    def procs(self) -> Path:
        return self.path / "cgroup.procs"

    def remove(self) -> None:
        """Remove the cgroup (after its processes are gone); retried briefly, as the kernel frees it lazily."""
        import time

        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.02)
