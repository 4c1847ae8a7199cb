"""Settings of the model-surgery stages, apart from the code (which loads torch): the CLI and recipe validation
read them without paying for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from jacode.config import STRICT


@dataclass
class MergeVector:
    __pydantic_config__ = STRICT
    model: Annotated[str, "a fine-tuned model Mᵢ"]
    weight: Annotated[float, "its weight wᵢ"]


@dataclass
class MergeStageConfig:
    """Chat vector (out = target + scale·(instruct − base)) or task arithmetic / TIES over `vectors`."""

    __pydantic_config__ = STRICT
    base: Annotated[str, "the common base model B"]
    target: Annotated[str, "the model that receives the vector(s) T"]
    instruct: Annotated[str | None, "chat vector: the instruct model I tuned from B"] = None
    scale: Annotated[float, "chat vector: scale of (I − B)"] = 1.0
    vectors: Annotated[list[MergeVector], "task arithmetic: fine-tuned models and weights"] = \
        field(default_factory=list)
    method: Annotated[Literal["linear", "ties", "ties-abs"],
                      "task arithmetic: how the vectors combine: linear, ties (mergekit's TIES: ÷ Σwᵢ of agreeing "
                      "entries) or ties-abs (÷ Σ|wᵢ|: a negative weight subtracts)"] = "linear"
    density: Annotated[float, "TIES: share of each vector's entries kept (k = max(1, int(density·n)), as "
                       "mergekit)"] = 0.2
    template_from: Annotated[str | None, "task arithmetic: chat template source model"] = None

    def check(self) -> list[tuple[str, str]]:
        if (self.instruct is None) == (not self.vectors):
            return [("instruct", "give `instruct` (chat vector) or `vectors` (task arithmetic), not both or neither")]
        return []


@dataclass
class UpcycleConfig:
    """Dense → Mixtral MoE: experts copy the MLP, a router is added; verified against the dense model."""

    __pydantic_config__ = STRICT
    experts: Annotated[int, "experts per layer"] = 8
    top_k: Annotated[int, "experts each token is routed to"] = 2
    router_init: Annotated[Literal["random", "zeros", "hidden"],
                           "router weights: random (N(0, initializer_range²), Mixtral's init), zeros (all tokens "
                           "to the same top-k experts at first), or k-means of hidden states"] = "random"
    noise: Annotated[float, "expert-copy noise std, relative to each weight's std"] = 0.0
    aux_loss_coef: Annotated[float, "router load-balancing loss weight"] = 0.01
    seed: Annotated[int, "random seed"] = 0
    verify: Annotated[bool, "check the MoE's logits against the dense model's (loads both)"] = True
    sample_texts: Annotated[tuple[str, ...], "texts for the check and for router_init hidden"] = (
        "def add(a, b):\n    return a + b\n", "日本語の文章とコードを学習します。")


@dataclass
class UpcycleStageConfig(UpcycleConfig):
    model: Annotated[str, "dense Llama-family HF model directory"] = field(kw_only=True)
