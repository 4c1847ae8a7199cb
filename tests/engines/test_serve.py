"""`jacode serve` as OpenAI-compatible clients use it: streaming, logprobs/echo (checked against
lm-evaluation-harness's own HF model), prompt lists and token ids, usage — over a real HTTP server."""

from __future__ import annotations

import json
import math
import time

import httpx
import pytest

from jacode.engines import Request, SamplingParams, make_engine
from tests.support.servers import JacodeServer

CHAT = [{"role": "user", "content": "リストの合計を返す関数を書いてください。"}]


@pytest.fixture(scope="module")
def served(tiny_model):
    server = JacodeServer(str(tiny_model), served_name="tiny")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def local(tiny_model):
    return make_engine("transformers", model=str(tiny_model), batch_size=4)


def sse_events(response: httpx.Response) -> list:
    events = []
    for line in response.iter_lines():
        if line.startswith("data: "):
            data = line[len("data: "):]
            events.append(data if data == "[DONE]" else json.loads(data))
    return events


def test_chat_stream_is_token_by_token_and_equals_the_whole_answer(served, local):
    body = {"model": "tiny", "messages": CHAT, "max_tokens": 20, "temperature": 0}
    with httpx.stream("POST", served.url + "/chat/completions", json={**body, "stream": True}, timeout=60) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = sse_events(r)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    pieces = [c["choices"][0]["delta"].get("content", "") for c in chunks]
    assert sum(1 for p in pieces if p) > 1  # streamed in pieces, not one block at the end
    final = chunks[-1]
    assert final["choices"][0]["finish_reason"] in ("stop", "length") and final["usage"]["completion_tokens"] > 0
    whole = httpx.post(served.url + "/chat/completions", json=body, timeout=60).json()
    assert "".join(pieces) == whole["choices"][0]["message"]["content"]
    assert whole["choices"][0]["message"]["content"] == local.generate(
        [Request(messages=CHAT)], SamplingParams(max_new_tokens=20))[0][0].text
    # jacode's own openai engine (the arena's client) reads the same stream.
    remote = make_engine("openai", endpoint=served.url, model_name="tiny")
    assert "".join(remote.stream(CHAT, SamplingParams(max_new_tokens=20))) == "".join(pieces)


def test_a_client_that_leaves_a_stream_frees_the_model(served):
    body = {"model": "tiny", "messages": CHAT, "max_tokens": 400, "temperature": 0, "stream": True}
    with httpx.stream("POST", served.url + "/chat/completions", json=body, timeout=60) as r:
        for line in r.iter_lines():
            if '"content"' in line:
                break  # leave after the first piece: the rest of the 400 tokens is never read
    t = time.monotonic()
    answer = httpx.post(served.url + "/completions", json={"prompt": "x = ", "max_tokens": 2}, timeout=60)
    assert answer.status_code == 200
    assert time.monotonic() - t < 30  # served, not queued behind the abandoned generation (generous: noisy CI)


def test_completions_logprobs_and_echo_equal_the_model(served, local):
    import torch

    prompt = "def add(a, b):\n    return a + b\n"
    got = httpx.post(served.url + "/completions", json={"prompt": prompt, "max_tokens": 0, "echo": True,
                                                         "logprobs": 3, "temperature": 0}, timeout=60).json()
    choice = got["choices"][0]
    assert choice["text"] == prompt
    lp = choice["logprobs"]
    ids = local.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    assert len(lp["tokens"]) == len(ids) and lp["token_logprobs"][0] is None
    with torch.no_grad():
        want = torch.log_softmax(local.model(torch.tensor([ids])).logits[0].float(), -1)
    for i in range(1, len(ids)):
        assert math.isclose(lp["token_logprobs"][i], float(want[i - 1, ids[i]]), abs_tol=1e-4)
        top = lp["top_logprobs"][i]
        assert len(top) == 3 and math.isclose(max(top.values()), float(want[i - 1].max()), abs_tol=1e-4)
    assert "".join(lp["tokens"]) == prompt and lp["text_offset"][1] == len(lp["tokens"][0])
    assert got["usage"] == {"prompt_tokens": len(ids), "completion_tokens": 0, "total_tokens": len(ids)}
    # Without echo: the generated tokens only, offsets after the prompt.
    gen = httpx.post(served.url + "/completions", json={"prompt": prompt, "max_tokens": 5, "logprobs": 1,
                                                         "temperature": 0}, timeout=60).json()["choices"][0]
    assert "".join(gen["logprobs"]["tokens"]).startswith(gen["text"])  # + the EOS token when it ended there
    assert gen["logprobs"]["text_offset"][0] == len(prompt)
    assert all(x is not None for x in gen["logprobs"]["token_logprobs"])


def test_prompt_lists_token_ids_and_usage(served, local):
    prompts = ["def f(x):\n", "import os\n"]
    out = httpx.post(served.url + "/completions", json={"prompt": prompts, "max_tokens": 6, "temperature": 0,
                                                         "n": 2}, timeout=60).json()
    assert [c["index"] for c in out["choices"]] == [0, 1, 2, 3]
    want = local.generate([Request(prompt=p) for p in prompts], SamplingParams(max_new_tokens=6))
    assert [c["text"] for c in out["choices"]] == [want[0][0].text] * 2 + [want[1][0].text] * 2
    n_prompt = sum(len(local.tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts)
    assert out["usage"]["prompt_tokens"] == n_prompt and out["usage"]["total_tokens"] == \
        n_prompt + out["usage"]["completion_tokens"]
    ids = local.tokenizer(prompts[0], add_special_tokens=False)["input_ids"]
    by_ids = httpx.post(served.url + "/completions", json={"prompt": ids, "max_tokens": 6, "temperature": 0},
                        timeout=60).json()
    assert by_ids["choices"][0]["text"] == want[0][0].text
    for bad in ({"prompt": "x", "max_tokens": 0}, {"prompt": [], "max_tokens": 2},
                {"prompt": "x", "logprobs": 99}, {"prompt": {"a": 1}}):
        r = httpx.post(served.url + "/completions", json=bad, timeout=60)
        assert r.status_code == 400, bad
    assert httpx.post(served.url + "/chat/completions", json={"messages": CHAT, "n": 2, "stream": True},
                      timeout=60).status_code == 400


def test_lm_evaluation_harness_loglikelihood_over_serve_equals_its_hf_model(served, tiny_model):
    """lm-evaluation-harness's `local-completions` client against jacode serve gives the same loglikelihoods
    and greedy flags as its own `hf` model on the same weights (the reference)."""
    from lm_eval.api.instance import Instance  # the reference (dev extras): absent is a failure, not a skip
    from lm_eval.models.huggingface import HFLM
    from lm_eval.models.openai_completions import LocalCompletionsAPI

    pairs = [("def add(a, b):\n", "    return a + b\n"), ("日本の首都は", "東京です。"), ("x = [1, 2", ", 3]")]
    reqs = [Instance("loglikelihood", {}, pair, i) for i, pair in enumerate(pairs)]
    api = LocalCompletionsAPI(base_url=served.url + "/completions", model="tiny", tokenizer=str(tiny_model),
                              tokenizer_backend="huggingface", max_retries=1)
    ref = HFLM(pretrained=str(tiny_model), device="cpu", batch_size=1, dtype="float32")
    got, want = api.loglikelihood(reqs), ref.loglikelihood(reqs)
    for (g, g_greedy), (w, w_greedy) in zip(got, want):
        assert math.isclose(g, w, abs_tol=1e-3) and g_greedy == w_greedy
