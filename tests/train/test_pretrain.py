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
from jacode.tokenizer.plain import PlainEncoder
from jacode.train.fim import FimConfig, Sentinels, permute, split_points
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


@pytest.fixture(scope="module")
def tok(tok_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tok_model[0])


def _sentinels(tok) -> Sentinels:
    return Sentinels.of(tok, FimConfig())


def _code_docs() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted((STDLIB / "json").glob("*.py"))]


@pytest.mark.parametrize("spm_rate", [0.0, 1.0])
def test_permute_layout_is_megatrons_with_parts_tokenized_alone(tok, spm_rate):
    enc, s = PlainEncoder(tok), _sentinels(tok)
    cfg = FimConfig(fim_rate=1.0, fim_spm_rate=spm_rate)
    rng = random.Random(0)
    for _ in range(30):
        for doc in DOCS:
            replay = random.Random()
            replay.setstate(rng.getstate())
            ids, order = permute(doc, cfg, rng, enc, s)
            replay.random()  # the Bernoulli draw
            a, b = split_points(len(doc), replay)
            pre, mid, suf = enc(doc[:a]), enc(doc[a:b]), enc(doc[b:])
            assert order == ("spm" if spm_rate else "psm")
            if order == "spm":
                assert ids == [s.prefix, s.suffix, *suf, s.middle, *pre, *mid]
            else:
                assert ids == [s.prefix, *pre, s.suffix, *suf, s.middle, *mid]


def test_fim_rates_are_honoured(tok):
    enc, s = PlainEncoder(tok), _sentinels(tok)
    cfg = FimConfig(fim_rate=0.3, fim_spm_rate=0.25)
    rng = random.Random(1)
    orders = [(permute("abcdefghij" * 5, cfg, rng, enc, s) or (None, None))[1] for _ in range(4000)]
    fim = [o for o in orders if o]
    # Binomial: 4000 * 0.3 = 1200 +- 29 (1 sigma); 1200 * 0.25 = 300 +- 15.
    assert abs(len(fim) - 1200) < 5 * 29
    assert abs(sum(o == "spm" for o in fim) / len(fim) - 0.25) < 5 * 0.0125
    assert all(permute("abc", FimConfig(fim_rate=0.0), rng, enc, s) is None for _ in range(100))


def test_spm_training_ids_match_the_inference_prompt(tok):
    """What the model is trained on up to the middle is what an SPM FIM prompt tokenizes to (per-part
    tokenization); tokenizing the whole rearranged text instead differs in many samples."""
    from jacode.tokenizer.fim import FimFormat

    enc, s = PlainEncoder(tok), _sentinels(tok)
    cfg, fmt = FimConfig(fim_rate=1.0, fim_spm_rate=1.0), FimFormat(order="spm")
    rng, docs = random.Random(7), _code_docs()
    whole_differs = 0
    for i in range(1000):
        doc = docs[i % len(docs)]
        replay = random.Random()
        replay.setstate(rng.getstate())
        ids, _ = permute(doc, cfg, rng, enc, s)
        replay.random()
        a, b = split_points(len(doc), replay)
        prompt = tok(fmt.prompt(doc[:a], doc[b:]), add_special_tokens=False)["input_ids"]
        assert ids[: len(prompt)] == prompt
        whole = tok(fmt.prompt(doc[:a], doc[b:]) + doc[a:b], add_special_tokens=False)["input_ids"]
        whole_differs += whole != ids
    assert whole_differs > 300  # the old way (one string) trained on other boundaries


def _megatron_fim_window(window: list[int], eos: int, pad: int, rng: random.Random, cfg: FimConfig, text_of,
                         enc, s: Sentinels) -> list[int]:
    """bigcode Megatron-LM's gpt_dataset FIM block (split the sample at EOD, permute each non-empty segment,
    truncate or pad to the sample length), with numpy's RNG replaced by the stream's random.Random and
    `tokenizer.detokenize` by the exact text of the tokens. jacode's two deliberate differences are marked."""
    out, start = [], 0
    breaks = [i for i, t in enumerate(window) if t == eos]
    for loc in breaks:
        if loc - start > 0:
            fim = permute(text_of(window[start:loc]), cfg, rng, enc, s)
            out += (fim[0] if fim else window[start:loc]) + [eos]
        else:
            out += [eos]  # jacode: keeps the EOS of an empty segment (Megatron drops it)
        start = loc + 1
    if start < len(window):  # jacode: no draw for an empty segment after a final EOD (Megatron permutes "")
        fim = permute(text_of(window[start:]), cfg, rng, enc, s)
        out += fim[0] if fim else window[start:]
    return out[: len(window)] + [pad] * (len(window) - len(out))


def test_context_fim_is_megatrons_per_window_fim(tok, corpus):
    """Context-level FIM equals the reference algorithm applied to the plain (FIM-free) windows — the same
    tokens, the same windows, the same draws."""
    files, L, seed = [corpus / "code.jsonl"], 64, 5
    cfg = FimConfig(fim_rate=0.5, fim_spm_rate=0.5)
    plain = list(PackedStream(files, tok, L, fim=None, loop=False))
    fimmed = list(PackedStream(files, tok, L, fim=cfg, seed=seed, loop=False))
    assert len(plain) == len(fimmed) > 100
    rng, enc, s = random.Random(seed), PlainEncoder(tok), _sentinels(tok)
    eos = tok.eos_token_id
    for p, f in zip(plain, fimmed):
        # ASCII code: every token slice decodes to its exact text, as Megatron's detokenize assumes
        ref = _megatron_fim_window(p["input_ids"], eos, tok.pad_token_id, rng, cfg, tok.decode, enc, s)
        assert f["input_ids"] == ref
        assert f["length"] == L - (f["input_ids"][-1] == tok.pad_token_id) * (ref.count(tok.pad_token_id))
    assert sum(s.prefix in f["input_ids"] for f in fimmed) > 50


def test_context_fim_cuts_the_exact_text_of_each_fragment(tok, corpus, monkeypatch):
    """Fragments cut out of multi-byte characters, emoji and byte-fallback pieces still give back exactly the
    documents: the texts FIM is applied to partition the corpus."""
    from jacode.train import packing

    seen = []

    def spy(text, *args):
        seen.append(text)
        return permute(text, *args)

    monkeypatch.setattr(packing, "permute", spy)
    docs = [json.loads(line)["text"] for line in (corpus / "ja.jsonl").read_text(encoding="utf-8").splitlines()]
    docs = (docs + DOCS) * 2
    (corpus / "mixed.jsonl").write_text("".join(json.dumps({"text": d}, ensure_ascii=False) + "\n" for d in docs),
                                        encoding="utf-8")
    windows = list(PackedStream([corpus / "mixed.jsonl"], tok, 37, fim=FimConfig(fim_rate=1.0), loop=False))
    assert len(windows) > 20
    joined = "".join(seen)
    assert "".join(docs).startswith(joined) and len("".join(docs)) - len(joined) < 37 * 8
    s = _sentinels(tok)
    for w in windows:  # every middle is trained beside its prefix and suffix
        ids = w["input_ids"][: w["length"]]
        assert ids.count(s.middle) <= ids.count(s.prefix)


def test_context_fim_without_draws_is_the_plain_stream(tok, corpus):
    files = [corpus / "code.jsonl", corpus / "ja.jsonl"]
    plain = list(PackedStream(files, tok, 64, fim=None, loop=False))
    never = list(PackedStream(files, tok, 64, fim=FimConfig(fim_rate=1e-12), loop=False))
    assert plain == never


def test_shortened_windows_are_padded_and_marked(tok, corpus, monkeypatch):
    from jacode.train import packing

    s = _sentinels(tok)
    monkeypatch.setattr(packing, "permute", lambda *a: ([s.prefix, s.suffix, s.middle], "psm"))
    w = next(iter(PackedStream([corpus / "code.jsonl"], tok, 64, fim=FimConfig(fim_rate=1.0), loop=False)))
    assert w["length"] == 3 and w["input_ids"] == [s.prefix, s.suffix, s.middle] + [tok.pad_token_id] * 61
    assert w["doc_starts"] == [0, 3]  # the padding is a block of its own


def test_document_level_fim_is_an_option(tok, corpus):
    s = _sentinels(tok)
    doc_level = list(PackedStream([corpus / "code.jsonl"], tok, 256, fim=FimConfig(fim_rate=1.0, level="document"),
                                  loop=False))
    n_docs = len(_code_docs())
    flat = [t for w in doc_level for t in w["input_ids"]]
    assert flat.count(s.prefix) in (n_docs, n_docs - 1)  # one per document (the last may be cut off)
    with pytest.raises(JacodeError, match="fim_level"):
        FimConfig(level="window")


def test_special_strings_in_documents_are_plain_text(tok, corpus):
    """A document that contains every special-token string of the tokenizer yields no control id: only EOS
    between documents and the FIM wrapping's own sentinels."""
    own = {t.content for t in tok.added_tokens_decoder.values() if t.special}
    specials = sorted(own | set(sp.SPECIAL + sp.CONTROL))
    assert len(specials) >= 12
    control = {tok.convert_tokens_to_ids(t) for t in specials}
    docs = [f"page {i}: " + " ".join(specials) + f" end {i}" for i in range(6)] + ["".join(specials)]
    write_jsonl(corpus / "inject.jsonl", [{"text": d} for d in docs])
    windows = list(PackedStream([corpus / "inject.jsonl"], tok, 32, fim=None, loop=False))
    flat = [t for w in windows for t in w["input_ids"]]
    for w in windows:  # EOS only where a document ends
        eos_at = [i for i, t in enumerate(w["input_ids"]) if t == tok.eos_token_id]
        assert eos_at == [i - 1 for i in w["doc_starts"] if i] + ([31] if 31 in eos_at else [])
    assert not (set(flat) & control) - {tok.eos_token_id}
    # The same text tokenized by the tokenizer itself would have injected them.
    assert set(tok(docs[0], add_special_tokens=False)["input_ids"]) & (control - {tok.eos_token_id})
    s = _sentinels(tok)
    for w in PackedStream([corpus / "inject.jsonl"], tok, 32, fim=FimConfig(fim_rate=1.0), loop=False):
        ids = w["input_ids"][: w["length"]]
        frags = len(w["doc_starts"])
        n_pre, n_suf, n_mid = ids.count(s.prefix), ids.count(s.suffix), ids.count(s.middle)
        assert n_mid <= n_suf <= n_pre <= frags and n_pre - n_mid <= 1  # only the last fragment may be cut short


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


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_training_inputs_isolate_documents_without_a_dense_mask(tok_model, attention):
    """What the training loop feeds the model (position ids restarting per document, no mask, no cache) gives the
    logits of jacode's dense block-diagonal mask and of each document alone; with a KV cache transformers would
    not look for packed documents and they would see each other."""
    import torch
    from transformers import AutoModelForCausalLM

    from jacode.train.pretrain import PretrainConfig, model_inputs

    model = AutoModelForCausalLM.from_pretrained(tok_model[1], attn_implementation=attention)
    batch = [{"input_ids": torch.randint(20, 500, (32,)).tolist(), "doc_starts": starts, "length": 32}
             for starts in ([0, 9, 20], [0, 30])]
    cfg = PretrainConfig(model="m", data=[], seq_len=32, cross_document_attention=False)
    ids, labels, kwargs = model_inputs(batch, cfg, "cpu")
    assert "attention_mask" not in kwargs and kwargs["use_cache"] is False
    fed = model(input_ids=ids, **kwargs).logits
    dense = model(input_ids=ids, attention_mask=block_causal_mask([b["doc_starts"] for b in batch], 32),
                  position_ids=kwargs["position_ids"]).logits
    assert torch.allclose(fed, dense, atol=1e-5)
    assert torch.allclose(fed[0, 9:20], model(input_ids=ids[:1, 9:20]).logits[0], atol=1e-5)
    cached = model(input_ids=ids, position_ids=kwargs["position_ids"], use_cache=True).logits
    assert not torch.allclose(cached, dense, atol=1e-3)  # the trap the loop avoids


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


def test_activation_checkpointing_recomputes_each_layer_and_trains_the_same(tok_model, corpus, tmp_path,
                                                                           monkeypatch):
    """With activation checkpointing each decoder layer runs twice per micro-step (forward, then again in the
    backward pass instead of keeping its activations); the losses and weights are those of a plain run."""
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.models.llama import modeling_llama

    from jacode.train.pretrain import PretrainConfig, pretrain

    calls = {"n": 0}
    forward = modeling_llama.LlamaMLP.forward  # inside each layer (the layer's own forward is the checkpointing)

    def counted(self, *args, **kwargs):
        calls["n"] += 1
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(modeling_llama.LlamaMLP, "forward", counted)
    runs = {}
    for on in (False, True):
        calls["n"] = 0
        cfg = PretrainConfig(model=str(tok_model[1]), data=[str(corpus)], seq_len=32, batch_size=2, max_steps=3,
                             fim_rate=0.0, save_every=1000, log_every=1, activation_checkpointing=on)
        final = pretrain(cfg, tmp_path / str(on))
        losses = [json.loads(x)["loss"] for x in (tmp_path / str(on) / "metrics.jsonl").read_text().splitlines()]
        runs[on] = calls["n"], losses, AutoModelForCausalLM.from_pretrained(final).state_dict()
    layers = AutoModelForCausalLM.from_pretrained(tok_model[1]).config.num_hidden_layers
    assert runs[False][0] == 3 * layers and runs[True][0] == 2 * 3 * layers
    assert runs[True][1] == pytest.approx(runs[False][1], rel=1e-5)
    for k, v in runs[False][2].items():
        assert torch.allclose(v, runs[True][2][k], atol=1e-6), k


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
