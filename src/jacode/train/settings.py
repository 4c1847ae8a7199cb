"""Settings shared by the trainers: what every fine-tuning run takes (SFT, DPO), and the tracker check.

Declared once here so that `jacode train sft`, `jacode train dpo` and recipe stages accept the same options with
the same defaults (they drifted when written out per command).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from typing import Annotated, Literal

from jacode.config import STRICT
from jacode.errors import JacodeError

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
Tracker = Literal["none", "tensorboard", "wandb"]
TRACKER_PACKAGES = {"tensorboard": "tensorboard", "wandb": "wandb"}


def tracker_problem(report_to: str) -> str | None:
    """Why this tracker cannot be used here, or None. Checked before any work: a tracker that is not installed
    would otherwise log nothing, silently, for hours."""
    package = TRACKER_PACKAGES.get(report_to)
    if package and importlib.util.find_spec(package) is None:
        return (f"{report_to!r} needs the {package} package, which is not installed: pip install "
                f"'jacode[tracking]' (or {package}), or report_to none")
    return None


def require_tracker(report_to: str) -> None:
    problem = tracker_problem(report_to)
    if problem:
        raise JacodeError(f"report_to {problem}")


@dataclass
class FineTuneConfig:
    __pydantic_config__ = STRICT
    model: Annotated[str, "HF model directory"]
    data: Annotated[list[str], "JSONL files in TRL's format"]
    lora: Annotated[bool, "train LoRA adapters (PEFT) instead of all weights"] = False
    lora_r: Annotated[int, "LoRA rank"] = 16
    lora_alpha: Annotated[int, "LoRA alpha"] = 32
    lora_dropout: Annotated[float, "LoRA dropout"] = 0.0
    lora_targets: Annotated[list[str], "module names that get adapters (a,b,c or repeated)", "comma"] = \
        field(default_factory=lambda: list(LORA_TARGETS))
    merge_lora: Annotated[bool, "with lora: write a full model with the adapters merged"] = False
    max_length: Annotated[int, "tokens per example"] = 1024
    epochs: Annotated[float, "passes over the data"] = 1.0
    max_steps: Annotated[int, "optimizer steps (-1: by epochs)"] = -1
    lr: Annotated[float | None, "learning rate (default: the trainer's, full vs LoRA)"] = None
    batch_size: Annotated[int, "examples per device per micro-step"] = 4
    grad_accum: Annotated[int, "micro-steps per optimizer step"] = 1
    seed: Annotated[int, "random seed"] = 0
    report_to: Annotated[Tracker, "experiment tracker"] = "none"

    def environment(self) -> list[tuple[str, str]]:
        """What this machine must have (checked before work, skipped when validating for another machine)."""
        problem = tracker_problem(self.report_to)
        return [("report_to", problem)] if problem else []


def logging_steps(max_steps: int) -> int:
    """Every 10 steps, but at least ~10 points on a short run (a 6-step LoRA run still has a loss curve)."""
    return max(1, min(10, max_steps // 10)) if max_steps and max_steps > 0 else 10


def require_one_job(accelerator) -> None:
    """Processes started together that are not one job would each train alone and overwrite each other's
    checkpoints: `accelerate launch --multi_gpu` on a machine without GPUs does that unless ACCELERATE_USE_CPU=1."""
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched > 1 and accelerator.num_processes != launched:
        raise JacodeError(f"{launched} processes were launched but accelerate sees {accelerator.num_processes}: they "
                          "are not one training job. On CPU launch with ACCELERATE_USE_CPU=1 accelerate launch "
                          "--multi_gpu --num_processes N (gloo), or torchrun with ACCELERATE_USE_CPU=1.")
    # A launch config that asks for FSDP or DeepSpeed must get it: accelerate (1.15) forms a plain DDP job on CPU
    # (MULTI_CPU) and drops the FSDP plugin without a word, so a "sharded" run would quietly be something else.
    for env, kind in (("ACCELERATE_USE_FSDP", "FSDP"), ("ACCELERATE_USE_DEEPSPEED", "DEEPSPEED")):
        got = accelerator.distributed_type.name
        if os.environ.get(env, "false").lower() == "true" and got != kind:
            why = ("on CPU accelerate shards only on GPUs and other accelerators: use ddp.yaml or --multi_gpu"
                   if accelerator.device.type == "cpu" else "check `accelerate env`")
            raise JacodeError(f"the launch config asks for {kind} but accelerate runs {got} ({why})")
