"""`jacode synth magpie`: instructions sampled from the pre-query template, then responses (generate.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources
from pathlib import Path

import yaml

from jacode.engines import Completion, Engine, Request
from jacode.errors import JacodeError
from jacode.synth.generate import GenerateConfig, respond_and_collect, resumable
from jacode.synth.templates import pre_query_template


def system_prompts(names: str | None) -> list[str | None]:
    """"coding,review" → the shipped Japanese system prompts; "none"/None → no system prompt."""
    if not names or names == "none":
        return [None]
    shipped = yaml.safe_load(resources.files("jacode.synth").joinpath("data/systems.yaml").read_text("utf-8"))
    if names == "all":
        return list(shipped.values())
    unknown = [n for n in names.split(",") if n not in shipped]
    if unknown:
        raise JacodeError(f"unknown system prompt(s) {unknown}; shipped: {', '.join(shipped)} (or all, none)")
    return [shipped[n] for n in names.split(",")]


def magpie(engine: Engine, tokenizer, out_dir: str | Path, n: int, systems: list[str | None],
           cfg: GenerateConfig = GenerateConfig()) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    templates = {s: pre_query_template(tokenizer, s) for s in systems}  # fails early if a template cannot be cut
    slots = [{"id": i, "system": systems[i % len(systems)]} for i in range(n)]
    stops = tuple(dict.fromkeys(stop for t in templates.values() for stop in t.stops))
    params = replace(cfg.instruction_params, stop=stops, seed=cfg.seed)

    def record(slot: dict, completions: list[Completion]) -> dict:
        c = completions[0]
        return {"id": slot["id"], "system": slot["system"], "instruction": c.text.strip(),
                "finish_reason": c.finish_reason}

    instructions = resumable(engine, slots, lambda s: Request(prompt=templates[s["system"]].prefix), params,
                             out_dir / "instructions.jsonl", record, cfg.batch_size, "instructions")
    stats = {"method": "magpie", "pre_query_templates": {str(s): t.prefix for s, t in templates.items()},
             "stops": list(stops)}
    (out_dir / "config.json").write_text(json.dumps({"n": n, "systems": systems, "seed": cfg.seed,
                                                     "n_responses": cfg.n_responses}, ensure_ascii=False))
    return respond_and_collect(engine, instructions, out_dir, cfg, stats)
