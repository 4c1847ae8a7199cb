"""`jacode train sft`: supervised fine-tuning on TRL's SFTTrainer, full or LoRA (PEFT).

Loss on assistant tokens only, for any chat template: each conversation is rendered with the model's own
template, and the assistant spans are found by rendering growing prefixes of the conversation (the text up
to the assistant turn with the generation prompt, and up to the end of that turn); templates for which these
are not prefixes of the whole are refused with a clear error. The tokenized rows (input_ids +
assistant_masks) go to TRL, which packs them. FIM-formatted raw documents can be mixed in at a ratio, so that
a chat model keeps stopping correctly in FIM mode.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from jacode.data_policy import refuse_eval_only
from jacode.errors import JacodeError
from jacode.io import read_jsonl
from jacode.threads import configure_torch
from jacode.tokenizer.plain import PlainEncoder
from jacode.train.fim import FimConfig, Sentinels, permute
from jacode.train.settings import FineTuneConfig, logging_steps, require_one_job, require_tracker


@dataclass
class SFTRunConfig(FineTuneConfig):
    """Supervised fine-tuning (TRL), full or LoRA, loss on assistant tokens only."""

    data: Annotated[list[str], "JSONL: TRL messages or prompt/completion, alpaca, or ShareGPT (detected)"]
    packing: Annotated[bool, "pack examples into full-length rows"] = True
    fim_data: Annotated[list[str], "JSONL `text` documents for FIM examples mixed in"] = field(default_factory=list)
    fim_ratio: Annotated[float, "FIM examples per chat example"] = 0.0


def render(tokenizer, messages: list[dict], generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)


def _content_spans(tokenizer, messages: list[dict], full: str) -> list[tuple[int, int]]:
    """Where each message's content lies in the rendered conversation. Rendering with a placeholder in place of
    each content shows the template's own text; the real rendering must equal it with the contents put back
    (verbatim, or stripped for templates that `trim` them), else the template rewrites content and is refused."""
    marks = [f"\ue000{i}\ue001" for i in range(len(messages))]
    skeleton = render(tokenizer, [{**m, "content": k} for m, k in zip(messages, marks)])
    for strip in (False, True):
        spans, out, pos = [], [], 0
        for m, k in zip(messages, marks):
            at = skeleton.find(k, pos)
            if at < 0:
                break
            content = m["content"].strip() if strip else m["content"]
            out.append(skeleton[pos:at])
            start = sum(map(len, out))
            out.append(content)
            spans.append((start, start + len(content)))
            pos = at + len(k)
        else:
            if "".join(out) + skeleton[pos:] == full:
                return spans
    raise JacodeError("the chat template changes message contents (beyond trimming them), so the contents cannot "
                      "be tokenized as plain text apart from the template's markers; use a template that inserts "
                      "each message's content as it is")


def tokenize_conversation(tokenizer, messages: list[dict], max_length: int,
                          encoder: PlainEncoder | None = None) -> dict[str, list[int]]:
    """input_ids and assistant_masks (1 on tokens of assistant turns, end-of-turn marker included).

    Message contents are tokenized as plain text (a `<|end|>` typed by a user or scraped from a page is
    characters, not an end of turn); only the template's own text can produce control tokens."""
    encoder = encoder or PlainEncoder(tokenizer)
    full = render(tokenizer, messages)
    spans = []
    for i, m in enumerate(messages):
        if m.get("role") != "assistant":
            continue
        before = render(tokenizer, messages[:i], generation_prompt=True)
        upto = render(tokenizer, messages[: i + 1])
        if not (upto.startswith(before) and full.startswith(upto)):
            raise JacodeError("the chat template does not render conversations prefix by prefix, so assistant "
                              "tokens cannot be located; use a template whose turns are appended in order")
        spans.append((len(before), len(upto)))
    if not spans:
        raise JacodeError("a conversation has no assistant message: nothing to learn from it")
    ids: list[int] = []
    offsets: list[tuple[int, int]] = []
    pos = 0
    for lo, hi in [*_content_spans(tokenizer, messages, full), (len(full), len(full))]:
        for a, b, plain in ((pos, lo, False), (lo, hi, True)):  # template text, then the content
            piece_ids, piece_offsets = encoder.with_offsets(full[a:b], plain=plain)
            ids += piece_ids
            offsets += [(a + s, a + e) for s, e in piece_offsets]
        pos = hi
    ids, offsets = ids[:max_length], offsets[:max_length]
    mask = [int(any(lo <= start and end <= hi for lo, hi in spans) and end > start) for start, end in offsets]
    return {"input_ids": ids, "assistant_masks": mask}


def load_conversations(paths: list[str]) -> list[list[dict]]:
    """Conversations from JSONL/JSON in TRL's conversational `messages`, TRL's prompt-completion (standard or
    conversational), alpaca or ShareGPT format, detected per record (jacode.formats)."""
    from jacode.formats import conversations

    convs = []
    for p in paths:
        refuse_eval_only(p)
        convs += [msgs for _, msgs in conversations(p)]
    if not convs:
        raise JacodeError("SFT data: no conversations")
    return convs


def fim_rows(tokenizer, paths: list[str], n: int, max_length: int, seed: int) -> list[dict[str, list[int]]]:
    texts = []
    for p in paths:
        refuse_eval_only(p)
        texts += [r["text"] for r in read_jsonl(p) if "text" in r]
    if n and not texts:
        raise JacodeError("--fim-ratio > 0 needs --fim-data with 'text' records")
    rng = random.Random(seed)
    cfg = FimConfig(fim_rate=1.0, level="document")
    sentinels, encode = (Sentinels.of(tokenizer, cfg), PlainEncoder(tokenizer)) if n else (None, None)
    rows = []
    for _ in range(n):
        ids, _ = permute(rng.choice(texts), cfg, rng, encode, sentinels)
        ids = ids[: max_length - 1] + [tokenizer.eos_token_id]  # learning to stop after the middle is the point
        rows.append({"input_ids": ids, "assistant_masks": [1] * len(ids)})
    return rows


def check_lora_targets(model, targets: list[str]) -> None:
    names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    missing = [t for t in targets if t not in names]
    if missing:
        raise JacodeError(f"LoRA target module(s) {', '.join(missing)} match no module of this model; "
                          f"linear layers here include: {', '.join(sorted(n for n in names if 'proj' in n))}")


def sft(cfg: SFTRunConfig, out: str | Path) -> Path:
    require_tracker(cfg.report_to)  # before any work: an absent tracker must not fail silently
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from jacode.models.resolve import resolve_model

    out = Path(out)
    cfg.model = str(resolve_model(cfg.model))  # a directory, .gguf, adapter, known name or hub id
    tokenizer = AutoTokenizer.from_pretrained(cfg.model)
    if not tokenizer.chat_template:
        raise JacodeError(f"{cfg.model}: the tokenizer has no chat template")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    encoder = PlainEncoder(tokenizer)
    rows = [tokenize_conversation(tokenizer, c, cfg.max_length, encoder) for c in load_conversations(cfg.data)]
    rows += fim_rows(tokenizer, cfg.fim_data, int(round(cfg.fim_ratio * len(rows))), cfg.max_length, cfg.seed)
    # Explicit labels (-100 outside assistant turns): TRL uses a given labels column as it is, packing included.
    rows = [{"input_ids": r["input_ids"],
             "labels": [t if m else -100 for t, m in zip(r["input_ids"], r["assistant_masks"])]} for r in rows]
    model = AutoModelForCausalLM.from_pretrained(cfg.model)
    peft_config = None
    if cfg.lora:
        from peft import LoraConfig

        check_lora_targets(model, cfg.lora_targets)
        peft_config = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                 target_modules=cfg.lora_targets, task_type="CAUSAL_LM")
    args = SFTConfig(
        output_dir=str(out), packing=cfg.packing, max_length=cfg.max_length,
        num_train_epochs=cfg.epochs, max_steps=cfg.max_steps, per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum, learning_rate=cfg.lr or (2e-4 if cfg.lora else 2e-5),
        seed=cfg.seed, report_to=[] if cfg.report_to == "none" else [cfg.report_to],
        logging_steps=logging_steps(cfg.max_steps), save_strategy="epoch", use_cpu=not _cuda(), dataset_num_proc=None,
    )
    if not _cuda():
        configure_torch("training", processes=int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                         peft_config=peft_config)
    return train_and_save(trainer, tokenizer, out, merge=cfg.lora and cfg.merge_lora)


def train_and_save(trainer, tokenizer, out: Path, merge: bool) -> Path:
    """Train (resuming from the last checkpoint in `out`, if any) and write `out/final` as an HF model directory;
    with merge, LoRA adapters are folded into the weights (a full model), else the adapters are saved."""
    require_one_job(trainer.accelerator)
    log_lines(trainer)
    trainer.train(resume_from_checkpoint=_last_checkpoint(out))
    final = out / "final"
    # trainer.save_model gathers the weights where ranks hold shards (FSDP, ZeRO-3) and writes them from the main
    # process only: every rank calling save_pretrained writes partial or clashing files under those configs.
    if not merge:
        trainer.save_model(str(final))  # the full model, or the LoRA adapters
        if trainer.accelerator.is_main_process:
            tokenizer.save_pretrained(final)
        return final
    # LoRA merged: the adapters are saved the same way, then folded into the base on the main process, from disk
    # (the same on one rank or many, sharded or not).
    adapters = out / "adapters"
    trainer.save_model(str(adapters))
    if trainer.accelerator.is_main_process:
        from peft import AutoPeftModelForCausalLM

        AutoPeftModelForCausalLM.from_pretrained(adapters).merge_and_unload().save_pretrained(final)
        tokenizer.save_pretrained(final)
    trainer.accelerator.wait_for_everyone()
    return final


def log_lines(trainer) -> None:
    """Off a terminal, the trainer's progress as plain lines — step, loss, rate, ETA — instead of tqdm's carriage
    returns and the raw dicts transformers prints without it."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback, TrainerCallback

    from jacode.progress import LogProgress, on_terminal

    if on_terminal():
        return
    name = type(trainer).__name__.removesuffix("Trainer").lower() or "train"

    class Lines(TrainerCallback):
        bar: LogProgress | None = None

        def on_train_begin(self, args, state, control, **kwargs):
            self.bar = LogProgress(state.max_steps, name, "step", initial=state.global_step, every=0)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if self.bar is None or not logs or "loss" not in logs:
                return
            self.bar.n = state.global_step
            self.bar.set_postfix(**{k.replace("_", " "): f"{v:.4g}" for k, v in logs.items()
                                    if k in ("loss", "grad_norm", "learning_rate") and isinstance(v, (int, float))})
            self.bar.update(0)

    trainer.remove_callback(ProgressCallback)
    trainer.remove_callback(PrinterCallback)
    if trainer.is_world_process_zero():  # one rank reports (the logged loss is already reduced over ranks)
        trainer.add_callback(Lines())


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _last_checkpoint(out: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(out)) if out.exists() else None


def describe(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {"rows": len(rows), "tokens": sum(len(r["input_ids"]) for r in rows),
            "trained_tokens": sum(sum(r["assistant_masks"]) for r in rows)}
