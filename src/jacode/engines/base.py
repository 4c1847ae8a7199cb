"""The one interface every generation engine implements.

A request is a plain prompt (base-model completion) or a list of chat messages (the engine applies the
model's chat template, or the server does). Each request asks for `n` samples.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from jacode.errors import JacodeError


class EngineError(JacodeError):
    """Generation failed in a way retries did not fix, or the engine cannot be set up."""


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 512
    stop: tuple[str, ...] = ()
    seed: int = 0

    def as_dict(self) -> dict:
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d


@dataclass
class Request:
    prompt: str | None = None
    messages: list[dict[str, str]] | None = None
    n: int = 1

    def __post_init__(self) -> None:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("a Request has exactly one of prompt or messages")


@dataclass
class Completion:
    text: str
    finish_reason: str  # "stop" (EOS or a stop sequence) or "length"
    tokens: int | None = None
    extra: dict = field(default_factory=dict)


Progress = Callable[[int], None]  # called with the number of samples just finished


def generate_with_progress(engine: Engine, requests: list[Request], params: SamplingParams, desc: str,
                           unit: str = "answer") -> list[list[Completion]]:
    """engine.generate, showing progress with rate and ETA (a bar on a terminal, log lines elsewhere)."""
    from jacode.progress import progress

    with progress(sum(r.n for r in requests), desc, unit) as bar:
        return engine.generate(requests, params, progress=bar.update)


class Engine(ABC):
    name: str = "engine"
    model_name: str = ""

    @abstractmethod
    def generate(self, requests: list[Request], params: SamplingParams,
                 progress: Progress | None = None) -> list[list[Completion]]:
        """One list of `request.n` completions per request, in request order."""

    def stream(self, messages: list[dict[str, str]], params: SamplingParams):
        """Yield the text of one chat answer in pieces as it is produced. Engines that cannot stream yield the
        whole answer once; the openai and transformers engines stream token by token."""
        yield self.generate([Request(messages=messages)], params)[0][0].text

    def close(self) -> None:
        pass

    def describe(self) -> dict:
        return {"engine": self.name, "model": self.model_name}


def truncate_at_stop(text: str, stop: list[str]) -> tuple[str, bool]:
    """Cut base-model output at the first stop sequence (engines may overshoot inside a token); (text, cut?)."""
    cut = len(text)
    for s in stop:
        i = text.find(s)
        if i != -1:
            cut = min(cut, i)
    return text[:cut], cut < len(text)
