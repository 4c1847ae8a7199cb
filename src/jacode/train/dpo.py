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
from jacode.threads import configure_torch
from jacode.train.settings import FineTuneConfig, logging_steps, require_tracker
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
    """TRL preference pairs (prompt?, chosen, rejected; standard or conversational), an implicit prompt extracted
    as TRL does (jacode.formats)."""
    from jacode.formats import preference_pairs

    rows = []
    for p in paths:
        refuse_eval_only(p)
        rows += [pair for _, pair in preference_pairs(p)]
    if not rows:
        raise JacodeError("DPO data: no preference pairs")
    return rows


def dpo(cfg: DPORunConfig, out: str | Path) -> Path:
    require_tracker(cfg.report_to)  # before any work: an absent tracker must not fail silently
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    from jacode.models.resolve import resolve_model

    out = Path(out)
    cfg.model = str(resolve_model(cfg.model))  # a directory, .gguf, adapter, known name or hub id
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
        learning_rate=cfg.lr or (5e-6 if cfg.lora else 5e-7), seed=cfg.seed, logging_steps=logging_steps(cfg.max_steps),
        report_to=[] if cfg.report_to == "none" else [cfg.report_to], save_strategy="epoch", use_cpu=not _cuda(),
    )
    if not _cuda():
        configure_torch("training", processes=int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    trainer = DPOTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                         peft_config=peft_config)
    return train_and_save(trainer, tokenizer, out, merge=cfg.lora and cfg.merge_lora)
