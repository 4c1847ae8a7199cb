"""Continual pretraining: FIM, packing, cross-document masking, learning, exact resume, bad input."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from jacode.errors import JacodeError
from jacode.io import write_jsonl
from jacode.tokenizer import special_tokens as sp
from jacode.train.fim import FimConfig, apply_fim, undo_fim
from jacode.train.packing import PackedStream, block_causal_mask, position_ids_for
from tests.support import FIXTURES

DATA = FIXTURES
STDLIB = Path(sysconfig.get_paths()["stdlib"])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("corpus")
    files = sorted((STDLIB / "json").glob("*.py"))
    write_jsonl(d / "code.jsonl", [{"text": p.read_text(encoding="utf-8")} for p in files])
    (d / "ja.jsonl").write_bytes((DATA / "ja_corpus.jsonl").read_bytes())
    return d


@pytest.fixture(scope="module")
def tok_model(corpus, tmp_path_factory) -> tuple[Path, Path]:
    from jacode.models.init import init_model
    from jacode.tokenizer.train import TokenizerConfig, train_tokenizer

    base = tmp_path_factory.mktemp("tm")
    train_tokenizer(TokenizerConfig(inputs=[str(corpus)], vocab_size=1200), base / "tok")
    init_model(base / "model", "tiny", tokenizer=str(base / "tok"))
    return base / "tok", base / "model"


DOCS = ["def add(a, b):\n    return a + b\n", "日本語の文章です。😀 絵文字も含みます。", "", "x",
        "東京\n  インデント\n\tタブ"]


@pytest.mark.parametrize("spm_rate", [0.0, 1.0])
def test_fim_reassembles_both_orders(spm_rate):
    cfg = FimConfig(fim_rate=1.0, fim_spm_rate=spm_rate)
    rng = random.Random(0)
    for _ in range(50):
        for doc in DOCS:
            text, order = apply_fim(doc, cfg, rng)
            assert order == ("spm" if spm_rate else "psm")
            assert text.startswith(sp.FIM_PREFIX) and sp.FIM_MIDDLE in text
            assert undo_fim(text, cfg) == doc
            text.encode("utf-8")  # every piece is whole characters


def test_fim_rates_are_honoured():
    cfg = FimConfig(fim_rate=0.3, fim_spm_rate=0.25)
    rng = random.Random(1)
    orders = [apply_fim("abcdefghij" * 5, cfg, rng)[1] for _ in range(4000)]
    fim = [o for o in orders if o]
    # Binomial: 4000 * 0.3 = 1200 +- 29 (1 sigma); 1200 * 0.25 = 300 +- 15.
    assert abs(len(fim) - 1200) < 5 * 29
    assert abs(sum(o == "spm" for o in fim) / len(fim) - 0.25) < 5 * 0.0125
    assert all(apply_fim("abc", FimConfig(fim_rate=0.0), rng)[1] is None for _ in range(100))


def test_packing_is_lossless_and_pad_free(tok_model, corpus):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tok_model[0])
    stream = PackedStream([corpus / "ja.jsonl"], tok, seq_len=64, fim=None, loop=False)
    seqs = list(stream)
    assert seqs and all(len(s["input_ids"]) == 64 for s in seqs)
    flat = [t for s in seqs for t in s["input_ids"]]
    expected = []
    for rec in map(json.loads, (corpus / "ja.jsonl").read_text(encoding="utf-8").splitlines()):
        expected += tok(rec["text"], add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    assert flat == expected[: len(flat)] and len(expected) - len(flat) < 64
    assert tok.pad_token_id not in flat
    # Document starts match the EOS positions.
    for s in seqs:
        for start in s["doc_starts"][1:]:
            assert s["input_ids"][start - 1] == tok.eos_token_id


def test_stream_state_resumes_exactly(tok_model, corpus):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tok_model[0])
    files = [corpus / "code.jsonl", corpus / "ja.jsonl"]
    a = iter(PackedStream(files, tok, 48, fim=FimConfig(), seed=3))
    straight = [next(a)["input_ids"] for _ in range(40)]
    b_stream = PackedStream(files, tok, 48, fim=FimConfig(), seed=3)
    b = iter(b_stream)
    first = [next(b)["input_ids"] for _ in range(17)]
    state = json.loads(json.dumps(b_stream.state_dict()))  # as written to a checkpoint
    c_stream = PackedStream(files, tok, 48, fim=FimConfig(), seed=3)
    c_stream.load_state_dict(state)
    c = iter(c_stream)
    rest = [next(c)["input_ids"] for _ in range(23)]
    assert first + rest == straight


def test_block_mask_isolates_documents(tok_model):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tok_model[1])
    ids = torch.randint(20, 500, (1, 16))
    starts = [[0, 9]]
    packed = model(input_ids=ids, attention_mask=block_causal_mask(starts, 16),
                   position_ids=position_ids_for(starts, 16)).logits
    alone = model(input_ids=ids[:, 9:]).logits
    assert torch.allclose(packed[0, 9:], alone[0], atol=1e-5)
    first = model(input_ids=ids[:, :9]).logits
    assert torch.allclose(packed[0, :9], first[0], atol=1e-5)


def _pretrain_args(model, data, out, steps, **extra):
    args = [sys.executable, "-m", "jacode", "train", "pretrain", "--model", str(model), "--data", str(data),
            "--out", str(out), "--seq-len", "64", "--batch-size", "4", "--max-steps", str(steps),
            "--warmup-steps", "2", "--lr", "3e-3", "--log-every", "5"]
    for k, v in extra.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    return args


def test_resume_after_kill_gives_the_same_weights(tok_model, corpus, tmp_path):
    import torch
    from safetensors.torch import load_file

    _, model = tok_model
    straight = tmp_path / "straight"
    subprocess.run(_pretrain_args(model, corpus, straight, 12, save_every=6), check=True, capture_output=True)
    resumed = tmp_path / "resumed"
    proc = subprocess.Popen(_pretrain_args(model, corpus, resumed, 12, save_every=6), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (resumed / "checkpoint-6" / "trainer_state.json").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (resumed / "checkpoint-12").exists(), "the kill should land between the checkpoints"
    subprocess.run(_pretrain_args(model, corpus, resumed, 12, save_every=6), check=True, capture_output=True)
    a = load_file(straight / "final" / "model.safetensors")
    b = load_file(resumed / "final" / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6), k


def test_learns_and_memorizes(tok_model, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from jacode.train.pretrain import PretrainConfig, pretrain

    line = "def jacode_magic(x):\n    return x * 42 + 7\n"
    write_jsonl(tmp_path / "tiny.jsonl", [{"text": line}, {"text": "日本語のテスト文です。"}] * 20)
    cfg = PretrainConfig(model=str(tok_model[1]), data=[str(tmp_path / "tiny.jsonl")], seq_len=64, batch_size=8,
                         max_steps=150, lr=5e-3, warmup_steps=10, fim_rate=0.0, save_every=1000, log_every=50)
    final = pretrain(cfg, tmp_path / "run")
    losses = [json.loads(x)["loss"] for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert losses[-1] < 0.5 < losses[0], losses
    tok = AutoTokenizer.from_pretrained(final)
    model = AutoModelForCausalLM.from_pretrained(final)
    prompt = "def jacode_magic(x):\n"
    ids = tok(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=16, do_sample=False)
    text = tok.decode(out[0][ids["input_ids"].shape[1]:], skip_special_tokens=True)
    assert text.startswith("    return x * 42 + 7"), repr(text)


def test_bad_input_fails_before_training(tok_model, tmp_path, bench_data):
    from jacode.models.init import init_model
    from jacode.train.pretrain import PretrainConfig, pretrain

    write_jsonl(tmp_path / "wrong.jsonl", [{"content": "x"}])
    with pytest.raises(JacodeError, match="no 'text' field"):
        pretrain(PretrainConfig(model=str(tok_model[1]), data=[str(tmp_path / "wrong.jsonl")], seq_len=32,
                                max_steps=2), tmp_path / "o1")
    with pytest.raises(JacodeError, match="evaluation data"):
        pretrain(PretrainConfig(model=str(tok_model[1]), data=[str(bench_data / "multipl-e")], max_steps=2),
                 tmp_path / "o2")
    # A tokenizer without FIM sentinels (the byte-level one of a plain `model init`) with FIM on.
    plain = init_model(tmp_path / "plain", "tiny")
    write_jsonl(tmp_path / "ok.jsonl", [{"text": "hello"}])
    with pytest.raises(JacodeError, match="FIM is on but the tokenizer lacks"):
        pretrain(PretrainConfig(model=str(plain), data=[str(tmp_path / "ok.jsonl")], max_steps=2), tmp_path / "o3")
    assert not (tmp_path / "o3" / "checkpoint-2").exists()


def test_parquet_streams_like_jsonl(tok_model, corpus, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tok_model[0])
    texts = [json.loads(x)["text"] for x in (corpus / "ja.jsonl").read_text(encoding="utf-8").splitlines()]
    pq.write_table(pa.table({"text": texts}), tmp_path / "ja.parquet", row_group_size=7)
    a = [s["input_ids"] for s in PackedStream([corpus / "ja.jsonl"], tok, 32, loop=False)]
    b = [s["input_ids"] for s in PackedStream([tmp_path / "ja.parquet"], tok, 32, loop=False)]
    assert a == b and len(a) > 10
