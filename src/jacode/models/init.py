"""Models from a config with random weights: no hub download, any size from `tiny` to the 8B shape.

The tokenizer for a fresh model is a byte-level BPE trained in a second on real code (a sample of the
Python standard library's own source, which every machine with Python has). A later stage replaces it by
the SentencePiece + MeCab tokenizer; this one exists so that a random model can be built anywhere.
"""

from __future__ import annotations

import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from jacode.config import STRICT
from jacode.errors import JacodeError
from jacode.models.checks import load_tokenizer

# Llama-style shapes. tiny/mini are for tests and the demo; 8b is Llama-3.1-8B's shape.
PRESETS: dict[str, dict] = {
    "tiny": dict(hidden_size=64, intermediate_size=172, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2),
    "mini": dict(hidden_size=256, intermediate_size=688, num_hidden_layers=4, num_attention_heads=8,
                 num_key_value_heads=4),
    "0.5b": dict(hidden_size=1024, intermediate_size=2816, num_hidden_layers=24, num_attention_heads=16,
                 num_key_value_heads=8),
    "8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
               num_key_value_heads=8, rope_theta=500000.0),
}

SPECIAL_TOKENS = ["<s>", "</s>", "<pad>", "<|user|>", "<|assistant|>", "<|system|>", "<|end|>"]

# ChatML-like template with the role markers above; generation prompt opens the assistant turn.
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def stdlib_corpus(max_files: int = 200) -> list[str]:
    root = Path(sysconfig.get_paths()["stdlib"])
    texts = []
    for path in sorted(root.glob("*.py"))[:max_files]:
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, OSError):
            continue
    return texts


def train_bytelevel_tokenizer(texts: list[str], vocab_size: int = 2048):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   chat_template=CHAT_TEMPLATE)


@dataclass
class ModelConfig:
    """A random-weight Llama model (and tokenizer) from a preset config."""

    __pydantic_config__ = STRICT
    size: Annotated[Literal["tiny", "mini", "0.5b", "8b"], "Llama shape preset"] = "tiny"
    tokenizer: Annotated[str | None, "HF tokenizer directory (default: train a small byte-level one)"] = None
    seed: Annotated[int, "random seed for the weights"] = 0
    vocab_size: Annotated[int, "vocabulary of the small tokenizer trained when none is given"] = 2048


def init_model(out: str | Path, size: str = "tiny", *, seed: int = 0, vocab_size: int = 2048,
               tokenizer: str | None = None) -> Path:
    """Write a random-weight Llama model and its tokenizer to `out` (a normal HF model directory)."""
    if size not in PRESETS:
        raise JacodeError(f"unknown model size {size!r}; known: {', '.join(PRESETS)}")
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out = Path(out)
    tok = load_tokenizer(tokenizer) if tokenizer else train_bytelevel_tokenizer(
        stdlib_corpus(), vocab_size)
    config = LlamaConfig(vocab_size=len(tok), max_position_embeddings=4096,
                         tie_word_embeddings=size in ("tiny", "mini"), bos_token_id=tok.bos_token_id,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, **PRESETS[size])
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tok.pad_token_id
    end_of_turn = tok.convert_tokens_to_ids("<|end|>")
    if end_of_turn not in (None, tok.unk_token_id):
        # Chat turns end with <|end|>: generation stops there as well as at EOS.
        model.generation_config.eos_token_id = [tok.eos_token_id, end_of_turn]
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out
