"""torch's CPU threads are chosen so that generation, training and sandbox workers do not oversubscribe cores."""

from __future__ import annotations

import pytest

from jacode import threads


@pytest.fixture
def machine(monkeypatch):
    def set_(cpus: int, load: float):
        monkeypatch.setattr(threads, "usable_cpus", lambda: cpus)
        monkeypatch.setattr(threads, "_runnable", lambda: [round(load)] * 5)
        monkeypatch.delenv(threads.ENV, raising=False)

    return set_


def test_a_quiet_machine_gives_torch_every_core(machine):
    machine(cpus=8, load=1.0)  # the load is this process
    assert threads.torch_threads()[0] == 8


def test_a_busy_machine_leaves_the_taken_cores(machine):
    machine(cpus=2, load=3.0)  # two other runnable tasks on two cores
    n, why = threads.torch_threads()
    assert n == 1 and "load of other processes 2.0" in why
    machine(cpus=16, load=5.0)
    assert threads.torch_threads()[0] == 12


def test_ranks_of_a_cpu_launch_share_the_cores(machine):
    machine(cpus=8, load=1.0)
    assert threads.torch_threads(processes=4)[0] == 2
    assert threads.torch_threads(processes=16)[0] == 1  # never zero
    assert threads.torch_threads(processes=2, reserve=1)[0] == 3


def test_the_environment_overrides_and_the_choice_is_logged_once(machine, monkeypatch, capsys):
    import torch

    machine(cpus=2, load=9.0)
    monkeypatch.setenv(threads.ENV, "3")
    monkeypatch.setattr(threads, "_logged", set())
    before = torch.get_num_threads()
    try:
        assert threads.configure_torch("generation") == 3 and torch.get_num_threads() == 3
        threads.configure_torch("generation")
    finally:
        torch.set_num_threads(before)
    err = capsys.readouterr().err
    assert err.count("generation on CPU uses 3 torch thread(s) (JACODE_TORCH_THREADS=3)") == 1


def test_usable_cpus_honours_the_affinity_mask():
    import os

    assert 1 <= threads.usable_cpus() <= len(os.sched_getaffinity(0))


def test_runnable_tasks_are_sampled_now():
    samples = threads._runnable()
    assert len(samples) >= 1 and all(n >= 1 for n in samples)  # at least this process is running
