"""resolve_model / resolve_dataset without the network: GGUF caching (with a stand-in converter, the real one is in
test_smollm2.py), PEFT adapters merged for real on the tiny random model, hub ids offline, bad paths."""

from __future__ import annotations

import json
import shutil
import socket
import time
from pathlib import Path

import pytest
import torch

from jacode.errors import JacodeError
from jacode.models import gguf as gguf_mod
from jacode.models.checks import ModelDirError, check_model_dir
from jacode.models.hub import HubUnreachable
from jacode.models.resolve import resolve_dataset, resolve_model


# ---- GGUF: the cache (the conversion itself is stood in for: it is slow and tested on a real file elsewhere) ----
@pytest.fixture
def fake_convert(monkeypatch, tiny_model):
    """Replace the real conversion by a copy of the tiny model; count the calls."""
    calls = []

    def convert(path, out, sha256):
        calls.append(path)
        for f in tiny_model.iterdir():
            shutil.copy(f, out / f.name)

    monkeypatch.setattr(gguf_mod, "_convert_into", convert)
    return calls


def _gguf(path: Path, payload: bytes = b"weights") -> Path:
    path.write_bytes(gguf_mod.GGUF_MAGIC + payload)
    return path


def test_gguf_is_converted_once_and_keyed_by_content(tmp_path, fake_convert):
    cache = tmp_path / "cache"
    a = _gguf(tmp_path / "a.gguf")
    out = resolve_model(a, cache_dir=cache)
    assert check_model_dir(out) == out and out.parent == cache / "gguf"
    assert resolve_model(a, cache_dir=cache) == out and len(fake_convert) == 1  # second call: no work

    twin = _gguf(tmp_path / "same-bytes-other-name.gguf")
    assert resolve_model(twin, cache_dir=cache) == out and len(fake_convert) == 1

    time.sleep(0.01)  # a new mtime even on coarse clocks
    _gguf(a, b"other weights")  # the same path, changed: hashed again, a new directory
    changed = resolve_model(a, cache_dir=cache)
    assert changed != out and len(fake_convert) == 2
    assert {p.name for p in (cache / "gguf").iterdir() if p.is_dir()} == {out.name, changed.name}


def test_interrupted_conversion_leaves_nothing_that_looks_complete(tmp_path, monkeypatch, tiny_model):
    cache = tmp_path / "cache"
    f = _gguf(tmp_path / "m.gguf")

    def interrupted(path, out, sha256):
        shutil.copy(tiny_model / "config.json", out / "config.json")  # half written, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(gguf_mod, "_convert_into", interrupted)
    with pytest.raises(KeyboardInterrupt):
        resolve_model(f, cache_dir=cache)
    assert [p.name for p in (cache / "gguf").iterdir() if p.is_dir()] == []

    # A process killed outright cannot clean up: its temporary directory stays, under a name that is not the key.
    key = gguf_mod.gguf_dir(f, cache).name
    stale = cache / "gguf" / f".tmp-{key}-killed"
    stale.mkdir()
    shutil.copy(tiny_model / "config.json", stale / "config.json")
    calls = []

    def convert(path, out, sha256):
        assert not stale.exists()  # cleared before the new attempt starts
        calls.append(sha256)
        for p in tiny_model.iterdir():
            shutil.copy(p, out)

    monkeypatch.setattr(gguf_mod, "_convert_into", convert)
    out = resolve_model(f, cache_dir=cache)
    assert out.name == key and calls == [key]


def test_gguf_errors(tmp_path):
    not_gguf = tmp_path / "model.gguf"
    not_gguf.write_text("hello")
    with pytest.raises(JacodeError, match="not a GGUF file"):
        gguf_mod.convert_gguf(not_gguf, tmp_path / "cache")
    with pytest.raises(ModelDirError, match="a file, but not a GGUF one"):
        resolve_model(not_gguf, cache_dir=tmp_path / "cache")
    with pytest.raises(JacodeError, match="no such file"):
        gguf_mod.convert_gguf(tmp_path / "missing.gguf")


# ---- local paths -------------------------------------------------------------------------------------------------
def test_local_directory_is_checked(tiny_model, tmp_path):
    assert resolve_model(tiny_model) == tiny_model
    assert resolve_model(str(tiny_model)) == tiny_model
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelDirError, match="no config.json"):
        resolve_model(tmp_path / "empty")


def test_missing_path_says_what_was_expected(tmp_path):
    with pytest.raises(ModelDirError, match=r"no such file or directory \(expected a model directory, a \.gguf"):
        resolve_model(tmp_path / "nope")
    with pytest.raises(ModelDirError, match="no such file or directory"):
        resolve_model("./runs-that-do-not-exist")
    with pytest.raises(JacodeError, match="data .*: no such file or directory"):
        resolve_dataset(tmp_path / "nope.jsonl")
    data = tmp_path / "d.jsonl"
    data.write_text("{}\n")
    assert resolve_dataset(data) == data


# ---- PEFT adapters: merged for real ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def adapter(tiny_model, tmp_path_factory) -> Path:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    # init_lora_weights=False: random B as well as A, so the merge really changes the outputs
    peft = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                           init_lora_weights=False))
    out = tmp_path_factory.mktemp("adapter") / "lora"
    peft.save_pretrained(out)
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == str(tiny_model)
    return out


def test_adapter_is_merged_into_its_base_once(adapter, tiny_model, tmp_path, monkeypatch):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from jacode.models import adapter as adapter_mod

    cache = tmp_path / "cache"
    merged = resolve_model(adapter, cache_dir=cache)
    assert check_model_dir(merged).parent == cache / "merged"
    assert (merged / "tokenizer.json").is_file()

    ids = torch.tensor([[5, 17, 42, 99, 7]])
    with torch.no_grad():
        want = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model), adapter)(ids).logits
        got = AutoModelForCausalLM.from_pretrained(merged)(ids).logits
        plain = AutoModelForCausalLM.from_pretrained(tiny_model)(ids).logits
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
    assert not torch.allclose(got, plain, atol=1e-3)  # the adapter did something

    monkeypatch.setattr(adapter_mod, "_merge_into", lambda *a: pytest.fail("merged twice"))
    assert resolve_model(adapter, cache_dir=cache) == merged


def test_adapter_with_unreachable_base_says_so(adapter, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    other = tmp_path / "lora"
    shutil.copytree(adapter, other)
    cfg = json.loads((other / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = "someorg/some-base"
    (other / "adapter_config.json").write_text(json.dumps(cfg))
    with pytest.raises(JacodeError, match=r"(?s)its base model 'someorg/some-base' cannot be used: .*hf download"):
        resolve_model(other, cache_dir=tmp_path / "cache")


# ---- hub ids without a hub ---------------------------------------------------------------------------------------
@pytest.fixture
def empty_hub_cache(tmp_path, monkeypatch) -> Path:
    hub = tmp_path / "hub"
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(hub))
    return hub


@pytest.mark.parametrize("resolve", [resolve_model, resolve_dataset])
def test_hub_id_with_hf_hub_offline_fails_at_once(resolve, empty_hub_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.monotonic()
    with pytest.raises(HubUnreachable) as e:
        resolve("someorg/some-model")
    assert time.monotonic() - t0 < 3
    msg = str(e.value)
    assert "someorg/some-model" in msg and "hf download someorg/some-model" in msg and "HF_HUB_OFFLINE" in msg
    if resolve is resolve_model:
        assert "--model DIR" in msg and "jacode model get" in msg
    else:
        assert "--repo-type dataset" in msg and "--data DIR" in msg


@pytest.mark.parametrize("resolve", [resolve_model, resolve_dataset])
def test_hub_id_with_a_hub_that_never_answers_fails_within_the_probe_timeout(resolve, empty_hub_cache, monkeypatch):
    # A listening socket that never answers: the connection is made, the request hangs (a firewall that drops,
    # a dead proxy). Without the probe, huggingface_hub would wait out its own timeouts and retries.
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(8)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{hole.getsockname()[1]}")
        for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.delenv(var, raising=False)
        t0 = time.monotonic()
        with pytest.raises(HubUnreachable, match="did not answer") as e:
            resolve("someorg/some-model")
        assert time.monotonic() - t0 < 3.5
    assert "hf download someorg/some-model" in str(e.value)


def _fake_hub_snapshot(hub: Path, repo_id: str, repo_type: str, files: Path) -> Path:
    """The hub cache's layout (what `hf download` leaves on another machine): refs/main names a snapshot."""
    folder = hub / f"{repo_type}s--{repo_id.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("0" * 40)
    snap = folder / "snapshots" / ("0" * 40)
    shutil.copytree(files, snap)
    return snap


def test_hub_id_in_the_local_hub_cache_needs_no_network(empty_hub_cache, tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    snap = _fake_hub_snapshot(empty_hub_cache, "someorg/tiny", "model", tiny_model)
    assert resolve_model("someorg/tiny") == snap

    data = tmp_path / "data"
    data.mkdir()
    (data / "train.jsonl").write_text('{"text": "x"}\n')
    dsnap = _fake_hub_snapshot(empty_hub_cache, "someorg/data", "dataset", data)
    assert resolve_dataset("someorg/data") == dsnap

    # A partial model snapshot (AutoConfig alone fetched config.json) is not taken for the model.
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(tiny_model / "config.json", partial)
    _fake_hub_snapshot(empty_hub_cache, "someorg/partial", "model", partial)
    with pytest.raises(HubUnreachable):
        resolve_model("someorg/partial")
