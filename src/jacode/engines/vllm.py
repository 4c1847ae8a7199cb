"""vLLM offline engine (optional extra `jacode[vllm]`, GPU). Imported only when this engine is chosen."""

from __future__ import annotations

from jacode.engines.base import Completion, Engine, EngineError, Progress, Request, SamplingParams, truncate_at_stop
from jacode.models.resolve import resolve_model


class VLLMEngine(Engine):
    name = "vllm"

    def __init__(self, model: str | None, *, tensor_parallel_size: int = 1, gpu_memory_utilization: float = 0.9,
                 max_model_len: int | None = None, dtype: str = "auto"):
        if not model:
            raise EngineError("the vllm engine needs --model PATH")
        model = str(resolve_model(model))
        try:
            import vllm
        except ImportError as e:
            raise EngineError("the vllm engine needs the optional extra: pip install 'jacode[vllm]' "
                              f"(on a machine with a CUDA GPU); import failed: {e}") from e
        self.vllm = vllm
        self.llm = vllm.LLM(model=model, tensor_parallel_size=tensor_parallel_size, dtype=dtype,
                            gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len)
        self.model_name = str(model)

    def generate(self, requests: list[Request], params: SamplingParams,
                 progress: Progress | None = None) -> list[list[Completion]]:
        out: list[list[Completion]] = [[] for _ in requests]
        groups = {"prompt": [i for i, r in enumerate(requests) if r.prompt is not None]}
        groups["chat"] = [i for i, r in enumerate(requests) if r.messages is not None]
        for kind, idx in groups.items():
            if not idx:
                continue
            # vLLM's SamplingParams has one n for the whole call: group requests by n.
            by_n: dict[int, list[int]] = {}
            for i in idx:
                by_n.setdefault(requests[i].n, []).append(i)
            for n, ids in by_n.items():
                sp = self.vllm.SamplingParams(n=n, temperature=params.temperature, top_p=params.top_p,
                                              max_tokens=params.max_new_tokens, stop=list(params.stop) or None,
                                              seed=params.seed)
                if kind == "prompt":
                    results = self.llm.generate([requests[i].prompt for i in ids], sp, use_tqdm=False)
                else:
                    results = self.llm.chat([requests[i].messages for i in ids], sp, use_tqdm=False)
                for i, res in zip(ids, results):
                    for o in res.outputs:
                        text, stopped = truncate_at_stop(o.text, list(params.stop))
                        reason = "length" if (o.finish_reason == "length" and not stopped) else "stop"
                        out[i].append(Completion(text=text, finish_reason=reason, tokens=len(o.token_ids)))
                    if progress:
                        progress(n)
        return out
