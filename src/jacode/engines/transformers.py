"""Local Hugging Face causal LM: batched generation with left padding, stop strings, CPU or GPU."""

from __future__ import annotations

from jacode.engines.base import Completion, Engine, EngineError, Progress, Request, SamplingParams, truncate_at_stop
from jacode.models.resolve import resolve_model
from jacode.threads import configure_torch


class TransformersEngine(Engine):
    name = "transformers"

    def __init__(self, model: str | None, *, batch_size: int = 8, device: str | None = None,
                 dtype: str | None = None):
        if not model:
            raise EngineError("the transformers engine needs --model PATH")
        path = resolve_model(model)  # a directory, .gguf, adapter, known name or hub id
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if self.device == "cpu":
            configure_torch("generation")
        torch_dtype = getattr(torch, dtype) if dtype else (torch.bfloat16 if self.device == "cuda" else torch.float32)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self.model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype).to(self.device).eval()
        except (OSError, ValueError) as e:
            raise EngineError(f"model {model}: transformers could not load it: {e}") from e
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model_name = str(model)
        self.batch_size = batch_size

    def render(self, request: Request) -> str:
        if request.prompt is not None:
            return request.prompt
        if not self.tokenizer.chat_template:
            raise EngineError(f"model {self.model_name}: --mode chat needs a tokenizer with a chat template")
        return self.tokenizer.apply_chat_template(request.messages, tokenize=False, add_generation_prompt=True)

    def generate(self, requests: list[Request], params: SamplingParams,
                 progress: Progress | None = None) -> list[list[Completion]]:
        # One row per sample; rows sorted by prompt length so that batches need little padding.
        rows = [(ri, self.render(r)) for ri, r in enumerate(requests) for _ in range(r.n)]
        order = sorted(range(len(rows)), key=lambda i: len(rows[i][1]))
        out: list[list[Completion]] = [[] for _ in requests]
        results: dict[int, Completion] = {}
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            texts = [rows[i][1] for i in idx]
            for i, c in zip(idx, self._generate_batch(texts, params, seed=params.seed + start)):
                results[i] = c
            if progress:
                progress(len(idx))
        for i, (ri, _) in enumerate(rows):
            out[ri].append(results[i])
        return out

    def stream(self, messages: list[dict[str, str]], params: SamplingParams):
        import threading

        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        text = self.render(Request(messages=messages))
        enc = self.tokenizer([text], return_tensors="pt", add_special_tokens=False).to(self.device)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        cancelled = threading.Event()

        class Cancelled(StoppingCriteria):  # the consumer went away (a client closed its stream): stop at once
            def __call__(self, input_ids, scores, **kwargs):
                return cancelled.is_set()

        kwargs = dict(max_new_tokens=params.max_new_tokens, pad_token_id=self.tokenizer.pad_token_id,
                      do_sample=params.temperature > 0, streamer=streamer,
                      stopping_criteria=StoppingCriteriaList([Cancelled()]))
        if params.temperature > 0:
            kwargs.update(temperature=params.temperature, top_p=params.top_p)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        if params.stop:
            kwargs.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
        self.torch.manual_seed(params.seed)
        worker = threading.Thread(target=self.model.generate, kwargs={**enc, **kwargs}, daemon=True)
        worker.start()
        sent = ""
        try:
            for piece in streamer:
                # The stop string itself is not part of the answer (as in generate()); pieces may split it.
                text, stopped = truncate_at_stop(sent + piece, list(params.stop))
                if len(text) > len(sent):
                    yield text[len(sent):]
                    sent = text
                if stopped:
                    break
        finally:
            cancelled.set()
            worker.join()  # the model is free again only when its generate() has returned

    def encode(self, text: str) -> list[int]:
        """Token ids as generate() sees a prompt (no special tokens added: the chat template has them)."""
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def token_logprobs(self, ids: list[int], top: int = 0) -> list[tuple[str, float | None, dict[str, float]]]:
        """(token, log-probability given the tokens before it, the `top` likeliest tokens there) for each token;
        the first token has no context: None. One teacher-forced forward pass (what loglikelihood tasks need)."""
        torch = self.torch
        if not ids:
            return []
        with torch.no_grad():
            logits = self.model(torch.tensor([ids], device=self.device)).logits[0].float()
        logp = torch.log_softmax(logits, dim=-1)
        tok = lambda i: self.tokenizer.decode([int(i)])  # noqa: E731 - each token's own text, as vLLM returns it
        out = [(tok(ids[0]), None, {})]
        for i in range(1, len(ids)):
            row = logp[i - 1]
            best = {}
            if top:
                values, idx = row.topk(top)
                best = {tok(j): float(v) for v, j in zip(values, idx)}
            out.append((tok(ids[i]), float(row[ids[i]]), best))
        return out

    def _generate_batch(self, texts: list[str], params: SamplingParams, seed: int) -> list[Completion]:
        torch = self.torch
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        sample = params.temperature > 0
        kwargs = dict(max_new_tokens=params.max_new_tokens, do_sample=sample,
                      pad_token_id=self.tokenizer.pad_token_id)
        if sample:
            kwargs.update(temperature=params.temperature, top_p=params.top_p)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        if params.stop:
            kwargs.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
        torch.manual_seed(seed)
        with torch.no_grad():
            seqs = self.model.generate(**enc, **kwargs)
        new = seqs[:, enc["input_ids"].shape[1]:]
        eos_ids = self.model.generation_config.eos_token_id
        eos_ids = set(eos_ids if isinstance(eos_ids, list) else [eos_ids]) - {None}
        eos_ids.add(self.tokenizer.eos_token_id)
        completions = []
        for row in new.tolist():
            n_tokens = len(row)
            ended = False
            for j, t in enumerate(row):
                if t in eos_ids:
                    n_tokens, ended = j, True
                    break
            text = self.tokenizer.decode(row[:n_tokens], skip_special_tokens=True)
            text, stopped = truncate_at_stop(text, list(params.stop))
            # The tokens the model produced, its EOS included (a server's logprobs cover it, as vLLM's do);
            # after a stop string cut the text, the text's own tokens.
            ids = self.encode(text) if stopped else row[:n_tokens + ended]
            completions.append(Completion(text=text, finish_reason="stop" if (ended or stopped) else "length",
                                          tokens=n_tokens, extra={"token_ids": ids}))
        return completions
