"""A GGUF file (llama.cpp's format) as a model input: converted once into a normal Hugging Face directory.

transformers reads GGUF through the `gguf` package and dequantizes the weights, but a model loaded that way
refuses `save_pretrained`, and every engine, trainer and eval here wants a plain directory anyway. So the
dequantized state dict goes into a plain model built from the same config, which saves as safetensors; the
tokenizer (vocabulary, merges, chat template and special tokens are all in the GGUF metadata) saves as usual.

The result is cached under `<models cache>/gguf/<sha256 of the file>`: the same bytes under another name or
path are converted once, and a changed file gets a new directory. Weights stay float32: that is what the
dequantization gives, exactly, and what CPUs run well (bf16 would round the dequantized values again).
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
import time
from pathlib import Path

from jacode.errors import JacodeError
from jacode.models.cache import building, locked, memo_sha256, models_cache, say
from jacode.models.checks import check_model_dir

GGUF_MAGIC = b"GGUF"
SOURCE_FILE = "jacode-source.json"  # what the directory was made from, for a person looking at the cache


def gguf_dir(path: str | Path, cache_dir: str | Path | None = None) -> Path:
    """Where `convert_gguf(path)` puts (or has put) the converted model: keyed by the file's content."""
    path = _check_gguf(Path(path))
    root = models_cache(cache_dir) / "gguf"
    return root / memo_sha256(path, root)


def convert_gguf(path: str | Path, cache_dir: str | Path | None = None) -> Path:
    """The Hugging Face model directory for a .gguf file, converting it on the first call."""
    path = _check_gguf(Path(path))
    out = gguf_dir(path, cache_dir)
    if not out.is_dir():
        with locked(out):
            if not out.is_dir():  # another process may have finished it while we waited
                say(f"converting {path.name} into {out}")
                t0 = time.monotonic()
                with building(out) as tmp:
                    _convert_into(path, tmp, sha256=out.name)
                say(f"converted in {time.monotonic() - t0:.0f} s")
    say(f"model from {path.name}: {out} (cache: {out.parent}; set JACODE_CACHE to move it)")
    return out


def _check_gguf(path: Path) -> Path:
    if not path.is_file():
        raise JacodeError(f"GGUF file {path}: no such file")
    with open(path, "rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise JacodeError(f"{path}: not a GGUF file (it does not start with the bytes 'GGUF')")
    return path


@contextlib.contextmanager
def _quiet_bars():
    """transformers' bars only in a terminal, like ours (a CI log full of carriage returns helps nobody)."""
    import transformers.modeling_gguf_pytorch_utils as gguf_utils
    from transformers.utils import logging as tlog

    if sys.stderr.isatty():
        yield
        return
    # Its GGUF reader calls tqdm directly, outside transformers' own switch (which only covers saving).
    was_enabled, bar = tlog.is_progress_bar_enabled(), getattr(gguf_utils, "tqdm", None)
    tlog.disable_progress_bar()
    if bar is not None:
        gguf_utils.tqdm = functools.partial(bar, disable=True)
    try:
        yield
    finally:
        if was_enabled:
            tlog.enable_progress_bar()
        if bar is not None:
            gguf_utils.tqdm = bar


def _convert_into(path: Path, out: Path, sha256: str) -> None:
    """Write the model and tokenizer of `path` into the empty directory `out`."""
    try:
        import gguf  # noqa: F401  (transformers needs it; a missing one gives a long error late)
    except ImportError:
        raise JacodeError("reading GGUF files needs the `gguf` package: pip install gguf") from None
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(path.parent), path.name
    with _quiet_bars():
        try:
            quantized = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
            tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        except (ValueError, KeyError, NotImplementedError) as e:
            # e.g. an architecture transformers cannot read from GGUF (its list: GGUF_SUPPORTED_ARCHITECTURES)
            raise JacodeError(f"{path}: transformers {transformers.__version__} cannot load this GGUF: "
                              f"{str(e).splitlines()[0]}") from None
        _save_plain(quantized, tok, out)
    (out / SOURCE_FILE).write_text(json.dumps({
        "gguf": name, "sha256": sha256, "transformers": transformers.__version__, "gguf_package": _version("gguf"),
    }, indent=1) + "\n")
    check_model_dir(out)


def _save_plain(quantized, tok, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    # The plain twin: same config without the GGUF quantization marker, same (dequantized) tensors.
    config = quantized.config
    config_dict = config.to_dict()
    config_dict.pop("quantization_config", None)
    plain_config = type(config).from_dict(config_dict)
    with torch.device("meta"):  # no second random init of the weights: they are all replaced just below
        model = AutoModelForCausalLM.from_config(plain_config, dtype=torch.float32)
    model.load_state_dict(quantized.state_dict(), strict=True, assign=True)
    model.tie_weights()
    model.generation_config = _generation_config(quantized.generation_config, tok)
    model.save_pretrained(out)

    if tok.model_max_length > 10**9:  # "unknown" in the GGUF: the model's own context is the honest limit
        tok.model_max_length = getattr(plain_config, "max_position_embeddings", tok.model_max_length)
    tok.save_pretrained(out)


def _generation_config(gen, tok):
    """The GGUF model's generation settings, stopping where the chat template ends a turn.

    A GGUF's EOS is what llama.cpp stops at; for chat models it is usually the end-of-turn token already
    (SmolLM2-Instruct: <|im_end|>). When the template closes turns with a different token than EOS, both stop."""
    eos = gen.eos_token_id if gen.eos_token_id is not None else tok.eos_token_id
    stops = list(eos) if isinstance(eos, list) else [eos] if eos is not None else []
    template = tok.chat_template if isinstance(tok.chat_template, str) else ""
    for end_of_turn in ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>"):
        if end_of_turn in template:
            tid = tok.convert_tokens_to_ids(end_of_turn)
            if isinstance(tid, int) and tid != tok.unk_token_id and tid not in stops:
                stops.append(tid)
    gen.eos_token_id = stops[0] if len(stops) == 1 else stops or None
    if gen.pad_token_id is None and tok.pad_token_id is not None:
        gen.pad_token_id = tok.pad_token_id
    return gen


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None
