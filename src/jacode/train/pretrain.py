"""`jacode train pretrain`: (continual) pretraining of a causal LM with FIM and packing, on accelerate.

A readable loop rather than a Trainer subclass (torchtune-style): stream -> batch -> forward -> backward ->
step, with accelerate providing devices, DDP/DeepSpeed/FSDP (`accelerate launch -m jacode train pretrain ...`)
and checkpoint state. Each checkpoint is a normal Hugging Face model directory (evaluated as it is) plus the
optimizer, scheduler, RNG and *data stream* state, so a resumed run continues exactly where it stopped.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from jacode.config import STRICT
from jacode.errors import JacodeError
from jacode.io import JsonlAppender, appended_records, write_json, write_jsonl
from jacode.progress import progress
from jacode.threads import configure_torch
from jacode.train.fim import FimConfig
from jacode.train.packing import PackedStream, data_files, position_ids_for
from jacode.train.settings import require_one_job, require_tracker, tracker_problem


@dataclass
class PretrainConfig:
    """Continual pretraining: FIM per document, packing, resumable (the same command resumes)."""

    __pydantic_config__ = STRICT
    model: Annotated[str, "HF model directory to start from (e.g. from `jacode model init`)"]
    data: Annotated[list[str], "JSONL(.gz)/Parquet files or directories with a `text` field"]
    tokenizer: Annotated[str | None, "tokenizer directory (default: the model's)"] = None
    seq_len: Annotated[int, "tokens per packed sequence"] = 512
    batch_size: Annotated[int, "sequences per device per micro-step"] = 8
    grad_accum: Annotated[int, "micro-steps per optimizer step"] = 1
    max_steps: Annotated[int, "optimizer steps"] = 1000
    lr: Annotated[float, "peak learning rate"] = 3e-4
    min_lr_ratio: Annotated[float, "final learning rate as a share of the peak (cosine decay)"] = 0.1
    warmup_steps: Annotated[int, "linear warm-up steps"] = 50
    weight_decay: Annotated[float, "AdamW weight decay"] = 0.1
    grad_clip: Annotated[float, "gradient-norm clipping"] = 1.0
    fim_rate: Annotated[float, "share of documents (fragments) turned into fill-in-the-middle examples"] = 0.5
    fim_spm_rate: Annotated[float, "share of FIM examples in suffix-prefix-middle order"] = 0.5
    fim_level: Annotated[Literal["context", "document"], "FIM per document fragment inside each training window "
                         "(Megatron/StarCoder) or per whole document before packing"] = "context"
    cross_document_attention: Annotated[bool, "packed documents see each other (off: block-diagonal attention, "
                                              "positions restart per document)"] = True
    save_every: Annotated[int, "steps between checkpoints"] = 200
    keep_checkpoints: Annotated[int, "checkpoints kept on disk"] = 3
    log_every: Annotated[int, "steps between metric lines"] = 10
    seed: Annotated[int, "random seed (data order, FIM, initialisation of new parts)"] = 0
    report_to: Annotated[Literal["none", "tensorboard", "wandb"], "experiment tracker"] = "none"
    text_field: Annotated[str, "the documents' text field"] = "text"
    dtype: Annotated[Literal["float32", "bfloat16"], "training precision"] = "float32"
    eval_data: Annotated[list[str], "held-out JSONL/Parquet files: their loss is logged (eval_loss)"] = \
        field(default_factory=list)
    eval_every: Annotated[int, "steps between eval-loss measurements (0: at every checkpoint)"] = 0
    eval_sequences: Annotated[int, "packed held-out sequences the eval loss is measured on"] = 64
    attention: Annotated[Literal["sdpa", "eager", "flash_attention_2"], "attention kernel (flash_attention_2: GPU, "
                                                                         "the flash-attn package)"] = "sdpa"
    activation_checkpointing: Annotated[bool, "recompute activations in the backward pass (less memory, ~30% "
                                              "more compute)"] = False
    extra: Annotated[dict, "further settings for the model config (rarely needed)"] = field(default_factory=dict)

    def environment(self) -> list[tuple[str, str]]:
        """What this machine must have (checked before work, skipped when validating for another machine)."""
        problem = tracker_problem(self.report_to)
        return [("report_to", problem)] if problem else []


def lr_lambda(cfg: PretrainConfig):
    def f(step: int) -> float:
        if step < cfg.warmup_steps:
            return (step + 1) / max(1, cfg.warmup_steps)
        progress = min(1.0, (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps))
        return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return f


def model_inputs(batch: list[dict], cfg: PretrainConfig, device) -> tuple:
    """input_ids, labels and the attention inputs of packed sequences. Documents blocked from each other get a
    block-diagonal mask and positions restarting per document."""
    import torch

    input_ids = torch.tensor([b["input_ids"] for b in batch], device=device)
    # No KV cache in training: with one, transformers skips its packed-sequence detection below.
    kwargs: dict = {"use_cache": False}
    if not cfg.cross_document_attention:
        # Positions restarting per document and no attention mask: transformers finds the packed documents from
        # the position ids — a block-diagonal mask for sdpa/eager (equal to jacode's block_causal_mask, tested),
        # variable-length kernels for flash_attention_2 — instead of a dense seq_len² mask built here.
        kwargs["position_ids"] = position_ids_for([b["doc_starts"] for b in batch], cfg.seq_len).to(device)
    labels = input_ids.clone()
    for b, seq in enumerate(batch):  # context-level FIM pads a window it shortened: no loss there
        labels[b, seq["length"]:] = -100
    return input_ids, labels, kwargs


def eval_batches(cfg: PretrainConfig, tokenizer, rank: int, world: int) -> list[list[dict]]:
    """This rank's share of the first `eval_sequences` packed held-out sequences (no FIM: the plain next-token
    loss), in batches; the same sequences at every measurement."""
    if not cfg.eval_data:
        return []
    stream = iter(PackedStream(data_files(cfg.eval_data), tokenizer, cfg.seq_len, text_field=cfg.text_field,
                               seed=cfg.seed))
    mine = [seq for i, seq in zip(range(cfg.eval_sequences), stream) if i % world == rank]
    return [mine[i:i + cfg.batch_size] for i in range(0, len(mine), cfg.batch_size)]


def eval_loss(model, batches: list[list[dict]], cfg: PretrainConfig, accelerator) -> float:
    """The mean next-token loss over every rank's held-out tokens (summed over ranks, then divided)."""
    import torch

    total = torch.zeros(2, device=accelerator.device, dtype=torch.float64)  # loss × tokens, tokens
    model.eval()
    with torch.no_grad():
        for batch in batches:
            input_ids, labels, kwargs = model_inputs(batch, cfg, accelerator.device)
            tokens = (labels[:, 1:] != -100).sum()
            total += torch.stack([model(input_ids=input_ids, labels=labels, **kwargs).loss.double() * tokens,
                                  tokens.double()])
    model.train()
    total = accelerator.reduce(total, reduction="sum")
    return float(total[0] / total[1])


# bf16 dense peak TFLOP/s of GPUs jacode knows (vendor data sheets); elsewhere JACODE_PEAK_TFLOPS gives the peak.
PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A6000": 155.0}


def throughput(tokens_per_s: float, n_params: int, accelerator) -> dict:
    """Model FLOP/s (6 × parameters × tokens/s: forward and backward, attention's own FLOPs left out) and, where
    the device's peak is known, model FLOPs utilisation per device (MFU)."""
    import torch

    tflops = 6 * n_params * tokens_per_s / 1e12
    row = {"model_tflops_per_s": tflops}
    peak = float(os.environ.get("JACODE_PEAK_TFLOPS", 0)) or None
    if peak is None and accelerator.device.type == "cuda":
        name = torch.cuda.get_device_name(accelerator.device)
        peak = next((v for k, v in PEAK_TFLOPS.items() if k in name), None)
    if peak:
        row["mfu"] = tflops / (peak * accelerator.num_processes)
    return row


def latest_checkpoint(out: Path) -> Path | None:
    ckpts = sorted(out.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    done = [c for c in ckpts if (c / "trainer_state.json").exists()]
    return done[-1] if done else None


def pretrain(cfg: PretrainConfig, out: str | Path, stop_after: int | None = None) -> Path:
    require_tracker(cfg.report_to)  # before any work: an absent tracker must not fail silently
    import torch
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from jacode.models.resolve import resolve_model

    out = Path(out)
    cfg.model = str(resolve_model(cfg.model))  # a directory, .gguf, adapter, known name or hub id
    files = data_files(cfg.data)
    tokenizer = AutoTokenizer.from_pretrained(cfg.tokenizer or cfg.model)
    fim = FimConfig(cfg.fim_rate, cfg.fim_spm_rate, cfg.fim_level) if cfg.fim_rate > 0 else None
    stream = PackedStream(files, tokenizer, cfg.seq_len, fim=fim, text_field=cfg.text_field, seed=cfg.seed)

    accelerator = Accelerator(gradient_accumulation_steps=cfg.grad_accum,
                              log_with=None if cfg.report_to == "none" else cfg.report_to, project_dir=str(out))
    require_one_job(accelerator)
    set_seed(cfg.seed)
    if accelerator.device.type == "cpu":  # ranks of a CPU launch share this node's cores
        configure_torch("training", processes=int(os.environ.get("LOCAL_WORLD_SIZE", accelerator.num_processes)))
    model = AutoModelForCausalLM.from_pretrained(cfg.model, dtype=getattr(torch, cfg.dtype),
                                                 attn_implementation=cfg.attention)
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        raise JacodeError(f"tokenizer has {len(tokenizer)} tokens, the model's embedding only "
                          f"{model.get_input_embeddings().num_embeddings}; use a matching tokenizer")
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))
    if cfg.activation_checkpointing:
        model.activation_checkpointing_enable()
        model.config.use_cache = False
    # The schedule is in optimizer steps and stepped here once per step. Not prepared: accelerate's wrapper steps a
    # scheduler once per process (a schedule in single-process batches), which on 2 ranks ran the warm-up and the
    # decay twice as fast as on one. Registered, so that it is still saved and restored with the checkpoint.
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(cfg))
    model, optimizer = accelerator.prepare(model, optimizer)
    accelerator.register_for_checkpointing(scheduler)

    step = 0
    out.mkdir(parents=True, exist_ok=True)
    resume = latest_checkpoint(out)
    if resume is not None:
        accelerator.load_state(str(resume / "accelerate"))
        state = json.loads((resume / "trainer_state.json").read_text())
        stream.load_state_dict(state["stream"])
        step = state["step"]
        accelerator.print(f"resuming from {resume} at step {step}")
    elif accelerator.is_main_process:
        write_json(out / "pretrain_config.json", asdict(cfg))
    if cfg.report_to != "none":
        accelerator.init_trackers("jacode-pretrain", config=asdict(cfg))

    rank, world = accelerator.process_index, accelerator.num_processes
    sequences = iter(stream)
    held_out = eval_batches(cfg, tokenizer, rank, world)
    n_params = sum(p.numel() for p in accelerator.unwrap_model(model).parameters())
    if accelerator.is_main_process and (out / "metrics.jsonl").exists():
        # Rows logged after the checkpoint we resume from describe steps that are about to be trained again.
        write_jsonl(out / "metrics.jsonl", [r for r in appended_records(out / "metrics.jsonl") if r["step"] <= step])
    metrics = JsonlAppender(out / "metrics.jsonl") if accelerator.is_main_process else None
    bar = progress(cfg.max_steps, "pretrain", "step", initial=step, disable=not accelerator.is_local_main_process)
    # Losses are summed on the device and read once per log line: `.item()` every micro-step is a device sync.
    zero = torch.zeros((), device=accelerator.device)
    tokens_seen, t0, loss_acc, aux_acc, n_acc, grad_norm = 0, time.perf_counter(), zero.clone(), zero.clone(), 0, None
    model.train()
    while step < cfg.max_steps:
        # Every process walks the same stream and keeps its own share of the sequences.
        batch = []
        while len(batch) < cfg.batch_size:
            for i in range(world):
                try:
                    seq = next(sequences)
                except StopIteration:
                    raise JacodeError("the training data ran out (it is looped: is it empty?)") from None
                if i == rank:
                    batch.append(seq)
        input_ids, labels, kwargs = model_inputs(batch, cfg, accelerator.device)
        with accelerator.accumulate(model):
            output = model(input_ids=input_ids, labels=labels, **kwargs)
            loss = output.loss  # MoE models with output_router_logits include the load-balancing loss here
            accelerator.backward(loss)
            if accelerator.sync_gradients:  # the norm before clipping (inf: measured, never clipped)
                grad_norm = accelerator.clip_grad_norm_(model.parameters(), cfg.grad_clip or float("inf"))
            optimizer.step()
            optimizer.zero_grad()
        tokens_seen += input_ids.numel() * world
        loss_acc += loss.detach()
        if getattr(output, "aux_loss", None) is not None:
            aux_acc += output.aux_loss.detach()
        n_acc += 1
        if not accelerator.sync_gradients:
            continue
        scheduler.step()
        step += 1
        bar.update(1)
        if step % cfg.log_every == 0 or step == cfg.max_steps:
            # Every rank's mean loss, averaged: the loss of the global batch (rank 0's alone is a quarter of it
            # on 4 ranks). One reduction per log line.
            losses = accelerator.reduce(torch.stack([loss_acc, aux_acc]) / n_acc, reduction="mean").tolist()
            elapsed = time.perf_counter() - t0
            row = {"step": step, "loss": losses[0], "lr": scheduler.get_last_lr()[0],
                   "grad_norm": float(grad_norm) if grad_norm is not None else None,
                   "tokens_per_s": tokens_seen / elapsed, "tokens": tokens_seen,
                   **throughput(tokens_seen / elapsed, n_params, accelerator)}
            if losses[1]:
                row["router_aux_loss"] = losses[1]
            bar.set_postfix(loss=f"{row['loss']:.3f}", tok_s=f"{row['tokens_per_s']:.0f}")
            if metrics:
                metrics.write(row)
            accelerator.log(row, step=step)
            tokens_seen, t0, loss_acc, aux_acc, n_acc = 0, time.perf_counter(), zero.clone(), zero.clone(), 0
        if held_out and (step % (cfg.eval_every or cfg.save_every) == 0 or step == cfg.max_steps):
            row = {"step": step, "eval_loss": eval_loss(model, held_out, cfg, accelerator)}
            bar.set_postfix(eval_loss=f"{row['eval_loss']:.3f}")
            if metrics:
                metrics.write(row)
            accelerator.log(row, step=step)
        if step % cfg.save_every == 0 or step == cfg.max_steps:
            save_checkpoint(accelerator, model, tokenizer, stream, out, step, cfg)
        if stop_after is not None and step >= stop_after:
            break
    bar.close()
    if metrics:
        metrics.close()
    accelerator.end_training()
    final = out / "final"
    if step >= cfg.max_steps and accelerator.is_main_process:
        last = out / f"checkpoint-{step}"
        shutil.rmtree(final, ignore_errors=True)
        shutil.copytree(last, final, ignore=shutil.ignore_patterns("accelerate", "trainer_state.json"))
    return final


def save_checkpoint(accelerator, model, tokenizer, stream, out: Path, step: int, cfg: PretrainConfig) -> None:
    ckpt = out / f"checkpoint-{step}"
    accelerator.wait_for_everyone()
    accelerator.save_state(str(ckpt / "accelerate"))
    # Gathered on every rank (under FSDP or ZeRO-3 each holds a shard), written by one: the full weights.
    state_dict = accelerator.get_state_dict(model)
    if accelerator.is_main_process:
        accelerator.unwrap_model(model).save_pretrained(ckpt, state_dict=state_dict, safe_serialization=True)
        tokenizer.save_pretrained(ckpt)
        # Written last: a checkpoint without it is incomplete and ignored on resume.
        write_json(ckpt / "trainer_state.json", {"step": step, "stream": stream.state_dict()})
        old = sorted(out.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))[:-cfg.keep_checkpoints]
        for p in old:
            shutil.rmtree(p, ignore_errors=True)
    accelerator.wait_for_everyone()
