"""Multi-process training for real on CPU: `accelerate launch` with 2 processes (gloo), checkpoints written by one
rank from the gathered state, equal to single-process training on the same global batch, and a kill and resume
under 2 processes equal to a straight run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jacode.io import write_jsonl
from tests.support import FIXTURES
from tests.support.servers import free_port

pytestmark = pytest.mark.xdist_group("multiprocess")  # two ranks each: one such test at a time on 2 cores


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("mp")
    subprocess.run([sys.executable, "-m", "jacode", "model", "init", "--size", "tiny", "--out", str(base / "model")],
                   check=True, capture_output=True)
    code = [{"text": p.read_text(encoding="utf-8")} for p in sorted(Path(os.__file__).parent.joinpath("json")
                                                                      .glob("*.py"))]
    write_jsonl(base / "data.jsonl", code + [{"text": t} for t in (FIXTURES / "ja_corpus.jsonl").read_text(
        encoding="utf-8").splitlines()])
    return base / "model", base / "data.jsonl"


def _pretrain(model: Path, data: Path, out: Path, *, processes: int, batch: int, steps: int = 6, popen=False):
    """The same global batch (processes × batch) either way; FIM off so that every rank's sequences hold the same
    number of loss tokens (then the mean of the ranks' mean losses is the global batch's mean)."""
    args = ["-m", "jacode", "train", "pretrain", "--model", str(model), "--data", str(data), "--out", str(out),
            "--seq-len", "64", "--batch-size", str(batch), "--max-steps", str(steps), "--warmup-steps", "2",
            "--lr", "3e-3", "--log-every", "1", "--save-every", "3", "--fim-rate", "0", "--eval-data",
            str(FIXTURES / "ja_corpus.jsonl"), "--eval-sequences", "6"]
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes),
              "--main_process_port", str(free_port())] if processes > 1 else [sys.executable]
    env = {**os.environ, "ACCELERATE_USE_CPU": "1"}
    if popen:
        return subprocess.Popen([*launch, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
    proc = subprocess.run([*launch, *args], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _weights(path: Path) -> dict:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path).state_dict()  # reloaded as a user would


def test_two_processes_train_like_one_on_the_same_global_batch(setup, tmp_path):
    import json

    import torch

    model, data = setup
    _pretrain(model, data, tmp_path / "one", processes=1, batch=4)
    two = _pretrain(model, data, tmp_path / "two", processes=2, batch=2)
    assert two.stdout.count("pretrain: done") == 1  # one rank reports, one manifest
    a, b = _weights(tmp_path / "one" / "final"), _weights(tmp_path / "two" / "final")
    assert a.keys() == b.keys()
    # The same updates up to the order of floating-point sums (gloo's all-reduce vs one batch), which Adam turns
    # into differences of up to ~2e-5 in rarely-seen embedding rows here; a schedule or data-split error moves the
    # weights by ~5e-3 (the scheduler stepped once per rank did).
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-4), (k, (a[k] - b[k]).abs().max())
    one_all = [json.loads(x) for x in (tmp_path / "one" / "metrics.jsonl").read_text().splitlines()]
    two_all = [json.loads(x) for x in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()]
    # Held-out loss: each rank measures its share of the same sequences, the sums are reduced — equal to one rank.
    one_eval = [(r["step"], round(r["eval_loss"], 4)) for r in one_all if "eval_loss" in r]
    assert one_eval == [(r["step"], round(r["eval_loss"], 4)) for r in two_all if "eval_loss" in r]
    assert [s for s, _ in one_eval] == [3, 6] and one_eval[1][1] < one_eval[0][1]
    one_rows, two_rows = [r for r in one_all if "loss" in r], [r for r in two_all if "loss" in r]
    assert all(r["model_tflops_per_s"] > 0 for r in two_rows)
    # The schedule advances once per optimizer step on any number of ranks, and the logged loss is the global one.
    assert [r["lr"] for r in one_rows] == [r["lr"] for r in two_rows]
    assert [round(r["loss"], 4) for r in one_rows] == [round(r["loss"], 4) for r in two_rows]
    assert all(r["grad_norm"] > 0 for r in two_rows)


def test_kill_and_resume_under_two_processes_equals_a_straight_run(setup, tmp_path):
    import torch

    model, data = setup
    _pretrain(model, data, tmp_path / "straight", processes=2, batch=2)
    resumed = tmp_path / "resumed"
    proc = _pretrain(model, data, resumed, processes=2, batch=2, steps=6, popen=True)
    deadline = time.time() + 200
    while not (resumed / "checkpoint-3" / "trainer_state.json").exists() and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the launcher and both ranks
    proc.wait()
    assert (resumed / "checkpoint-3").exists() and not (resumed / "final").exists()
    _pretrain(model, data, resumed, processes=2, batch=2)
    a, b = _weights(tmp_path / "straight" / "final"), _weights(resumed / "final")
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6), k


def test_fsdp_on_cpu_is_refused_not_quietly_run_as_ddp(setup, tmp_path):
    """The shipped FSDP2 config on 2 CPU processes: accelerate 1.15 forms a plain DDP job on CPU and drops the FSDP
    plugin without a word (its checkpoints would not be sharded, its memory not saved) — refused, saying why."""
    import yaml

    import jacode.train

    shipped = yaml.safe_load((Path(jacode.train.__file__).parent / "accelerate_configs" / "fsdp2.yaml").read_text())
    assert shipped["distributed_type"] == "FSDP" and shipped["fsdp_config"]["fsdp_version"] == 2
    config = tmp_path / "fsdp2-cpu.yaml"
    config.write_text(yaml.safe_dump({**shipped, "mixed_precision": "no", "num_processes": 2}))
    model, data = setup
    proc = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config),
                           "--main_process_port", str(free_port()), "-m", "jacode", "train", "pretrain", "--model",
                           str(model), "--data", str(data), "--out", str(tmp_path / "x"), "--seq-len", "64",
                           "--max-steps", "2", "--fim-rate", "0"], env={**os.environ, "ACCELERATE_USE_CPU": "1"},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "asks for FSDP but accelerate runs MULTI_CPU" in proc.stdout + proc.stderr
    assert not (tmp_path / "x" / "final").exists()


def test_processes_that_are_not_one_job_are_refused(setup, tmp_path):
    """`accelerate launch --multi_gpu` without a GPU and without ACCELERATE_USE_CPU starts independent processes
    that would overwrite each other's checkpoints: refused, with how to launch on CPU."""
    model, data = setup
    env = {k: v for k, v in os.environ.items() if k != "ACCELERATE_USE_CPU"}
    proc = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                           "--main_process_port", str(free_port()), "-m", "jacode", "train", "pretrain", "--model",
                           str(model), "--data", str(data), "--out", str(tmp_path / "x"), "--seq-len", "64",
                           "--max-steps", "2", "--fim-rate", "0"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "not one training job" in proc.stdout + proc.stderr
    assert not list((tmp_path / "x").glob("checkpoint-*"))
    write_jsonl(tmp_path / "sft.jsonl", [{"messages": [{"role": "user", "content": "1+1は？"},
                                                       {"role": "assistant", "content": "2です。"}]}] * 4)
    proc = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                           "--main_process_port", str(free_port()), "-m", "jacode", "train", "sft", "--model",
                           str(model), "--data", str(tmp_path / "sft.jsonl"), "--out", str(tmp_path / "s"),
                           "--max-steps", "1"], env=env, capture_output=True, text=True, timeout=300)
    # TRL's trainers are told use_cpu on a machine without GPUs, which makes accelerate form one gloo job from
    # the same launch: it trains, and one rank reports (the check guards them too, should that ever differ).
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("sft: done") == 1 and (tmp_path / "s" / "final").exists()


def _sft(model: Path, data: Path, out: Path, *, processes: int, batch: int) -> subprocess.CompletedProcess:
    args = ["-m", "jacode", "train", "sft", "--model", str(model), "--data", str(data), "--out", str(out),
            "--batch-size", str(batch), "--max-steps", "4", "--lr", "1e-3", "--max-length", "128", "--lora",
            "--lora-r", "4", "--merge-lora"]
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes),
              "--main_process_port", str(free_port())] if processes > 1 else [sys.executable]
    proc = subprocess.run([*launch, *args], env={**os.environ, "ACCELERATE_USE_CPU": "1"}, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_lora_sft_on_two_processes_logs_the_same_steps_and_saves_one_merged_model(setup, tmp_path):
    """TRL's SFT under 2 ranks: the same global batches (losses and gradient norms equal to single-process training
    at every step), the merged model written once by the main process from the saved adapters, and loadable.
    Weights are not compared element by element: Adam turns float-noise gradients of opposite sign into full
    opposite steps (2 × lr), so single- and multi-process weights differ by up to that in a few entries."""
    import json

    from transformers import AutoModelForCausalLM

    model, _ = setup
    data = tmp_path / "sft.jsonl"
    write_jsonl(data, [{"messages": [{"role": "user", "content": f"質問{i}: {i}+{i}は？"},
                                     {"role": "assistant", "content": f"答えは{2 * i}です。" * (1 + i % 3)}]}
                       for i in range(32)])
    _sft(model, data, tmp_path / "one", processes=1, batch=4)
    two = _sft(model, data, tmp_path / "two", processes=2, batch=2)
    assert two.stdout.count("sft: done") == 1 and two.stderr.count("sft: 4/4 steps") == 1  # one rank reports

    def steps(run: Path) -> list[float]:
        state = json.loads(next(run.glob("checkpoint-*/trainer_state.json")).read_text())
        return [x for r in state["log_history"] if "loss" in r for x in (r["step"], r["loss"], r["grad_norm"])]

    one, two_steps = steps(tmp_path / "one"), steps(tmp_path / "two")
    assert len(two_steps) == 12 and two_steps == pytest.approx(one, rel=1e-3)
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "two" / "final")
    assert not any("lora" in k for k in merged.state_dict())  # folded in, a plain model
    assert (tmp_path / "two" / "adapters" / "adapter_config.json").exists()
