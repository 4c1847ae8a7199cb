"""The data pipeline's stages on a Ray cluster: one Ray task per datatrove rank, run in the Ray worker itself.

Why not datatrove's own `RayPipelineExecutor` as it is: its actor runs the ranks in a fork-based `multiprocess`
pool inside the (multithreaded) Ray worker. With ray 2.60 / datatrove 0.10.1 a local-cluster run of jacode's
pipeline hung intermittently after a stage's last rank: the forked pool child waited for work while the actor
waited in the pool's teardown, and the SIGTERM that `Pool.terminate` sends did not end a child forked from a Ray
worker (it inherits Ray's signal handling). A rank here is a plain Ray task: no fork, no pool, nothing to tear
down. And where datatrove only logs "Only k/n tasks completed", a failed rank here fails the stage, naming the
rank, its error and its log.

What is kept from datatrove: its rank body (`_run_for_rank`: logs, stats, the completion marker that makes a
re-run skip finished ranks), its per-stage stats file, and `depends` chaining.
"""

from __future__ import annotations

import json
import os
import socket
import sys

from datatrove.executor.ray import RayPipelineExecutor
from datatrove.utils.stats import PipelineStats
from loguru import logger

from jacode.errors import JacodeError
from jacode.progress import progress

# Ray retries a task whose worker process died (killed, out of memory, node lost) this many times; an exception
# raised by the pipeline itself is not retried (it would fail the same way again).
SYSTEM_RETRIES = 3


def connect(address: str | None, output: str) -> None:
    """Joins the cluster at `address` (or $RAY_ADDRESS), or starts a local one for this process."""
    try:
        import ray
    except ImportError as e:
        raise JacodeError("--executor ray needs Ray: pip install 'jacode[ray]'") from e
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address and address != "auto":
        _reachable(address)
    try:
        # The driver's log lines are datatrove's own (each rank's log is copied to the stage's logs/ folder);
        # Ray forwarding every worker's stderr as well would print each line twice.
        ray.init(address=address, log_to_driver=False, include_dashboard=False)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise JacodeError(f"cannot join the Ray cluster at {address}: {e}" if address
                          else f"cannot start a local Ray cluster: {e}") from e
    if len(ray.nodes()) > 1:
        print(f"Ray cluster of {len(ray.nodes())} nodes: every node must see {output} at the same path (a shared "
              "filesystem): the ranks write there and the next stage reads it", file=sys.stderr, flush=True)


def _reachable(address: str, timeout_s: float = 5.0) -> None:
    # ray.init retries an unreachable head for minutes, printing a warning every few seconds: fail fast instead.
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except (OSError, ValueError) as e:
        raise JacodeError(f"cannot reach the Ray cluster at {address} (expected host:port of its head node): "
                          f"{e}") from e


def _run_rank(executor: RayPipelineExecutor, rank: int) -> None:
    # local_rank 1: datatrove sends a rank's log to the console only for local rank 0; it goes to its file here.
    executor._run_for_rank(rank, 1)


def _last_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[-1][:500] if lines else ""


class RayExecutor(RayPipelineExecutor):
    """datatrove's Ray executor with ranks as plain Ray tasks (see the module docstring)."""

    def __init__(self, *args, memory_gb: float | None = None, **kwargs):
        # datatrove warns once per executor (eight per run) that a local logging folder must be shared by every
        # node; `connect` says that once, and only for a cluster of several machines.
        logger.disable("datatrove.executor.ray")
        try:
            super().__init__(*args, **kwargs)
        finally:
            logger.enable("datatrove.executor.ray")
        self.memory_gb = memory_gb

    def run(self) -> None:
        import ray

        if self.depends is not None and not self.depends._launched:
            self.depends.run()
        if self.depends is not None and (left := self.depends.get_incomplete_ranks(skip_completed=True)):
            raise JacodeError(f"{self.depends.logging_dir.path}: {len(left)} ranks did not complete")
        self._launched = True
        ranks = self.get_incomplete_ranks(range(self.world_size))
        if not ranks:
            return
        self.save_executor_as_json()
        me = ray.put(self)
        options = {"num_cpus": self.cpus_per_task, "max_retries": SYSTEM_RETRIES}
        if self.memory_gb:
            options["memory"] = int(self.memory_gb * 1024 ** 3)
        task = ray.remote(_run_rank).options(**options)
        queue, running, failures = list(ranks), {}, []
        stage = os.path.basename(self.logging_dir.path.rstrip("/"))
        with progress(self.world_size, f"{stage} (ray)", "task", initial=self.world_size - len(ranks)) as bar:
            while queue or running:
                while queue and len(running) < self.workers:
                    rank = queue.pop(0)
                    running[task.remote(me, rank)] = rank
                done, _ = ray.wait(list(running), num_returns=1)
                for ref in done:
                    rank = running.pop(ref)
                    try:
                        ray.get(ref)
                    except Exception as e:  # the rank's own error (a RayTaskError wraps it) or a lost worker
                        failures.append((rank, e))
                    bar.update(1)
        if failures:
            rank, error = failures[0]
            cause = getattr(error, "cause", None) or error
            raise JacodeError(f"{len(failures)} of {len(ranks)} Ray tasks failed in {self.logging_dir.path}; rank "
                              f"{rank}: {type(cause).__name__}: {_last_line(cause)} "
                              f"(log: {self.logging_dir.path}/logs/task_{rank:05d}.log)")
        total = PipelineStats()
        for rank in range(self.world_size):
            with self.logging_dir.open(f"stats/{rank:05d}.json", "r") as f:
                total += PipelineStats.from_json(json.load(f))
        with self.logging_dir.open("stats.json", "wt") as f:
            total.save_to_disk(f)
