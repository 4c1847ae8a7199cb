"""`jacode train dpo`: preference optimization on TRL's DPOTrainer (TRL's conversational format).

Records: {"prompt": [messages], "chosen": [assistant message], "rejected": [assistant message]}. beta and
the loss type are configurable; with LoRA the reference model is the base with adapters switched off (no
second copy in memory); with full training the reference log-probabilities can be precomputed once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from jacode.data_policy import refuse_eval_only
from jacode.errors import JacodeError
from jacode.io import read_jsonl
from jacode.threads import configure_torch
from jacode.train.settings import FineTuneConfig, require_tracker
from jacode.train.sft import _cuda, check_lora_targets, train_and_save


@dataclass
class DPORunConfig(FineTuneConfig):
    """Direct preference optimization (TRL), full or LoRA."""

    data: Annotated[list[str], "JSONL with prompt, chosen, rejected (TRL's format)"]
    beta: Annotated[float, "DPO temperature"] = 0.1
    loss_type: Annotated[str, "TRL loss type: sigmoid (DPO), ipo, hinge, ..."] = "sigmoid"
    precompute_ref_log_probs: Annotated[bool, "full training: reference log-probabilities computed once"] = False
    batch_size: Annotated[int, "pairs per device per micro-step"] = 2


def load_pairs(paths: list[str]) -> list[dict]:
    rows = []
    for p in paths:
        refuse_eval_only(p)
        for i, rec in enumerate(read_jsonl(p), 1):
            missing = [k for k in ("prompt", "chosen", "rejected") if k not in rec]
            if missing:
                raise JacodeError(f"{p}: record {i} lacks {', '.join(missing)} (TRL preference format: "
                                  "prompt, chosen, rejected)")
            rows.append({k: rec[k] for k in ("prompt", "chosen", "rejected")})
    if not rows:
        raise JacodeError("DPO data: no preference pairs")
    return rows


def dpo(cfg: DPORunConfig, out: str | Path) -> Path:
    require_tracker(cfg.report_to)  # before any work: an absent tracker must not fail silently
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    from jacode.models.checks import check_model_dir

    out = Path(out)
    check_model_dir(cfg.model)
    rows = load_pairs(cfg.data)
    tokenizer = AutoTokenizer.from_pretrained(cfg.model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(cfg.model)
    peft_config = None
    if cfg.lora:
        from peft import LoraConfig

        check_lora_targets(model, list(cfg.lora_targets))
        peft_config = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                 target_modules=list(cfg.lora_targets),
                                 task_type="CAUSAL_LM")
    args = DPOConfig(
        output_dir=str(out), beta=cfg.beta, loss_type=cfg.loss_type, max_length=cfg.max_length,
        precompute_ref_log_probs=cfg.precompute_ref_log_probs, num_train_epochs=cfg.epochs, max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size, gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.lr or (5e-6 if cfg.lora else 5e-7), seed=cfg.seed, logging_steps=10,
        report_to=[] if cfg.report_to == "none" else [cfg.report_to], save_strategy="epoch", use_cpu=not _cuda(),
    )
    if not _cuda():
        configure_torch("training", processes=int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    trainer = DPOTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                         peft_config=peft_config)
    return train_and_save(trainer, tokenizer, out, merge=cfg.lora and cfg.merge_lora)
