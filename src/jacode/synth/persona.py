"""`jacode synth persona`: persona × task template → an instruction written in that persona's voice → responses."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from importlib import resources
from pathlib import Path

import yaml

from jacode.engines import Completion, Engine, Request
from jacode.errors import JacodeError
from jacode.synth.generate import GenerateConfig, respond_and_collect, resumable


def load_list(path: str | None, shipped: str) -> list[str]:
    text = (Path(path).read_text("utf-8") if path
            else resources.files("jacode.synth").joinpath(f"data/{shipped}").read_text("utf-8"))
    items = yaml.safe_load(text)
    if not isinstance(items, list) or not all(isinstance(x, str) and x.strip() for x in items):
        raise JacodeError(f"{path or shipped}: expected a YAML list of non-empty strings")
    return items


def persona(engine: Engine, out_dir: str | Path, personas: list[str], templates: list[str], n: int | None = None,
            cfg: GenerateConfig = GenerateConfig()) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if any("{persona}" not in t for t in templates):
        raise JacodeError("every task template must contain {persona}")
    pairs = list(itertools.product(range(len(personas)), range(len(templates))))
    if n is not None and n < len(pairs):
        pairs = sorted(random.Random(cfg.seed).sample(pairs, n))
    slots = [{"id": f"p{p}-t{t}", "persona": personas[p], "template": t} for p, t in pairs]

    def request(slot: dict) -> Request:
        # replace, not str.format: user templates may contain other braces (JSON, code)
        return Request(messages=[{"role": "user", "content": templates[slot["template"]].replace(
            "{persona}", slot["persona"])}])

    def record(slot: dict, completions: list[Completion]) -> dict:
        c = completions[0]
        return {"id": slot["id"], "persona": slot["persona"], "template": slot["template"],
                "instruction": c.text.strip().strip("「」\""), "finish_reason": c.finish_reason}

    params = replace(cfg.instruction_params, seed=cfg.seed)
    instructions = resumable(engine, slots, request, params, out_dir / "instructions.jsonl", record,
                             cfg.batch_size, "persona instructions")
    return respond_and_collect(engine, instructions, out_dir, cfg, {"method": "persona"})
