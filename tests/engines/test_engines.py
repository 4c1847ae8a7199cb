"""Generation engines: the transformers engine on a tiny model, the openai engine against real servers."""

from __future__ import annotations

import importlib.util
import sys
import time

import pytest

from jacode.engines import EngineError, Request, SamplingParams, make_engine
from jacode.errors import JacodeError
from tests.support.servers import JacodeServer, ScriptedServer

PROMPTS = ["def add(a, b):\n", "import os\n\ndef list_files(path):\n    \"\"\"List files.\"\"\"\n", "x = 1\n"]


@pytest.fixture(scope="module")
def engine(tiny_model):
    return make_engine("transformers", model=str(tiny_model), batch_size=4)


def test_batched_equals_one_at_a_time(engine):
    params = SamplingParams(max_new_tokens=12)
    batched = engine.generate([Request(prompt=p) for p in PROMPTS], params)
    single = [engine.generate([Request(prompt=p)], params)[0] for p in PROMPTS]
    assert [b[0].text for b in batched] == [s[0].text for s in single]
    assert all(len(b) == 1 for b in batched)


def test_stop_sequences_cut_and_finish_reason(engine):
    params = SamplingParams(max_new_tokens=40)
    free = engine.generate([Request(prompt=PROMPTS[0])], params)[0][0]
    assert free.finish_reason == "length" and free.tokens == 40
    # Use a piece of the free-running output as a stop sequence: the output must end right before it.
    stop = next(free.text[i:i + 3] for i in range(3, len(free.text) - 3)
                if free.text[i:i + 3].strip() and free.text.find(free.text[i:i + 3]) == i)
    cut = engine.generate([Request(prompt=PROMPTS[0])], SamplingParams(max_new_tokens=40, stop=(stop,)))[0][0]
    assert cut.finish_reason == "stop"
    assert stop not in cut.text
    assert free.text.startswith(cut.text) and len(cut.text) <= free.text.find(stop)


def test_sampling_n_and_seed(engine):
    params = SamplingParams(max_new_tokens=10, temperature=1.0, top_p=1.0, seed=7)
    a = engine.generate([Request(prompt=PROMPTS[0], n=3)], params)[0]
    b = engine.generate([Request(prompt=PROMPTS[0], n=3)], params)[0]
    assert len(a) == 3 and [c.text for c in a] == [c.text for c in b]
    assert len({c.text for c in a}) > 1, "three samples at temperature 1 should differ"


def test_chat_uses_template(engine):
    out = engine.generate([Request(messages=[{"role": "user", "content": "こんにちは"}])],
                          SamplingParams(max_new_tokens=5))
    assert len(out[0]) == 1
    rendered = engine.render(Request(messages=[{"role": "user", "content": "こんにちは"}]))
    assert "<|user|>" in rendered and rendered.endswith("<|assistant|>\n")


def test_not_a_model_dir(tmp_path):
    with pytest.raises(JacodeError, match="not a Hugging Face model directory"):
        make_engine("transformers", model=str(tmp_path))
    with pytest.raises(JacodeError, match="no such file or directory"):
        make_engine("transformers", model=str(tmp_path / "missing"))
    (tmp_path / "config.json").write_text("{")
    with pytest.raises(JacodeError, match="not valid JSON"):
        make_engine("transformers", model=str(tmp_path))


def test_jacode_serve_matches_local_engine(tiny_model, engine):
    """The openai engine through `jacode serve` (a real HTTP server) gives the local engine's output."""
    server = JacodeServer(str(tiny_model), served_name="tiny")
    try:
        remote = make_engine("openai", endpoint=server.url, model_name="tiny", concurrency=2)
        params = SamplingParams(max_new_tokens=12, stop=("\n\n",))
        got = remote.generate([Request(prompt=p) for p in PROMPTS], params)
        want = engine.generate([Request(prompt=p) for p in PROMPTS], params)
        assert [g[0].text for g in got] == [w[0].text for w in want]
        chat = remote.generate([Request(messages=[{"role": "user", "content": "関数を書いて"}], n=2)],
                               SamplingParams(max_new_tokens=6, temperature=0.9))
        assert len(chat[0]) == 2
        with pytest.raises(EngineError, match="HTTP 404"):
            make_engine("openai", endpoint=server.url, model_name="other", max_retries=0).generate(
                [Request(prompt="x")], params)
    finally:
        server.stop()


def test_openai_retries_transient_errors():
    server = ScriptedServer(script=[("status", 503), ("status", 429), ("garbage",)], default=("ok", "fine"))
    try:
        eng = make_engine("openai", endpoint=server.url, model_name="m", backoff_s=0.01, max_retries=5)
        out = eng.generate([Request(prompt="p", n=2)], SamplingParams(max_new_tokens=5))
        assert [c.text for c in out[0]] == ["fine", "fine"]
        assert eng.stats["retries"] == 3 and len(server.requests) == 4
        assert server.requests[-1]["body"]["n"] == 2 and server.requests[-1]["path"] == "/v1/completions"
    finally:
        server.stop()


def test_openai_gives_up_and_does_not_retry_client_errors():
    server = ScriptedServer(default=("status", 500))
    try:
        eng = make_engine("openai", endpoint=server.url, model_name="m", backoff_s=0.01, max_retries=2)
        with pytest.raises(EngineError, match="failed after 3 attempts"):
            eng.generate([Request(prompt="p")], SamplingParams())
        assert len(server.requests) == 3
    finally:
        server.stop()
    server = ScriptedServer(default=("status", 400))
    try:
        eng = make_engine("openai", endpoint=server.url, model_name="m", backoff_s=0.01, max_retries=5)
        with pytest.raises(EngineError, match="HTTP 400"):
            eng.generate([Request(prompt="p")], SamplingParams())
        assert len(server.requests) == 1
    finally:
        server.stop()


def test_openai_timeout_is_retried():
    server = ScriptedServer(script=[("sleep", 2.0, "late")], default=("ok", "on time"))
    try:
        eng = make_engine("openai", endpoint=server.url, model_name="m", backoff_s=0.01, timeout_s=0.5)
        out = eng.generate([Request(messages=[{"role": "user", "content": "q"}])], SamplingParams())
        assert out[0][0].text == "on time" and eng.stats["retries"] == 1
    finally:
        server.stop()


def test_openai_concurrency_is_bounded_and_used():
    server = ScriptedServer(default=("ok", "a"), delay=0.5)
    try:
        # No retries here: a retried request could overlap its first attempt and blur the bound.
        eng = make_engine("openai", endpoint=server.url, model_name="m", concurrency=4, max_retries=0)
        start = time.time()
        out = eng.generate([Request(prompt=str(i)) for i in range(12)], SamplingParams())
        elapsed = time.time() - start
        # Never more than the bound; parallel in practice (a loaded machine may not fill every slot at once).
        assert len(out) == 12 and 2 <= server.max_in_flight <= 4
        assert sorted(r["body"]["prompt"] for r in server.requests) == sorted(str(i) for i in range(12))
        assert elapsed < 12 * 0.5 / 2
    finally:
        server.stop()


def test_engines_import_lazily():
    import subprocess

    code = ("import sys, jacode.engines, jacode.cli; "
            "assert 'vllm' not in sys.modules and 'torch' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_vllm_missing_is_a_clear_error(tiny_model):
    with pytest.raises(EngineError, match=r"jacode\[vllm\]"):
        make_engine("vllm", model=str(tiny_model))


@pytest.mark.gpu
def test_vllm_generates_on_gpu(tiny_model):
    torch = pytest.importorskip("torch")
    if importlib.util.find_spec("vllm") is None or not torch.cuda.is_available():
        pytest.skip("needs an NVIDIA GPU and the vllm extra (pip install 'jacode[vllm]')")
    eng = make_engine("vllm", model=str(tiny_model), gpu_memory_utilization=0.3)
    out = eng.generate([Request(prompt=p, n=2) for p in PROMPTS], SamplingParams(max_new_tokens=8, temperature=0.8))
    assert [len(o) for o in out] == [2, 2, 2]
