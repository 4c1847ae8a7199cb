"""The shared generation route of `jacode synth magpie` and `jacode synth persona`:

  instructions.jsonl   one record per instruction slot (resumable: slots already there are not asked again)
  → filter             Japanese share, length, refusals, repetition, exact and near duplicates
  responses.jsonl      M responses per kept instruction (resumable the same way)
  candidates.jsonl     {"id", "prompt": [messages], "responses": [kept texts]} — the input of `jacode synth score`
  stats.json           kept/dropped per filter at each step

Every step appends record by record, so a SIGKILL loses at most the batch in flight and a re-run asks only for
what is missing. Sampling is seeded per batch (seed + the batch's first slot id).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from jacode.engines import Engine, Request, SamplingParams
from jacode.errors import JacodeError
from jacode.io import JsonlAppender, appended_records, atomic_write_text, write_jsonl
from jacode.progress import progress
from jacode.synth.filters import TextFilterConfig, check_text, dedup


@dataclass
class GenerateConfig:
    n_responses: int = 4
    batch_size: int = 32  # slots per engine call (the openai engine runs them concurrently)
    seed: int = 0
    instruction_params: SamplingParams = field(default_factory=lambda: SamplingParams(
        temperature=1.0, top_p=1.0, max_new_tokens=256))
    response_params: SamplingParams = field(default_factory=lambda: SamplingParams(
        temperature=0.8, top_p=0.95, max_new_tokens=1024))
    filters: TextFilterConfig = field(default_factory=TextFilterConfig)
    japanese: bool = True
    near_dedup: bool = True
    keep_truncated: bool = False  # smoke runs with tiny models that never end a turn; never for real data


def done_ids(path: Path) -> set:
    return {r["id"] for r in appended_records(path)}


def resumable(engine: Engine, slots: list[dict], make_request: Callable[[dict], Request], params: SamplingParams,
              out: Path, make_record: Callable[[dict, list], dict], batch_size: int, desc: str) -> Iterator[dict]:
    """Asks the engine for every slot whose id is not yet in `out`; appends one record per slot. Returns the
    records of `slots` in their order, read from `out` one at a time (a 100,000-slot run need not fit in memory)."""
    have = done_ids(out)
    pending = [s for s in slots if s["id"] not in have]
    with JsonlAppender(out) as sink, progress(len(slots), desc, "item",
                                              initial=len(slots) - len(pending)) as bar:
        for start in range(0, len(pending), batch_size):
            batch = pending[start:start + batch_size]
            seeded = replace(params, seed=params.seed + hash_id(batch[0]["id"]))
            results = engine.generate([make_request(s) for s in batch], seeded)
            for slot, completions in zip(batch, results):
                sink.write(make_record(slot, completions))
            bar.update(len(batch))
    return _in_order(out, slots)


def _in_order(path: Path, slots: list[dict]) -> Iterator[dict]:
    # Where each slot's line starts (the file is in slot order unless the slots changed between runs), then one
    # line at a time in the slots' order.
    where, pos = {}, 0
    with path.open("rb") as f:
        for line in f:
            if line.endswith(b"\n") and line.strip():
                where[json.loads(line)["id"]] = pos
            pos += len(line)
        for s in slots:
            if s["id"] in where:
                f.seek(where[s["id"]])
                yield json.loads(f.readline())


def hash_id(x) -> int:
    return x if isinstance(x, int) else sum(map(ord, str(x)))


def prompt_messages(system: str | None, user: str) -> list[dict]:
    return ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]


def respond_and_collect(engine: Engine, instructions: Iterable[dict], out_dir: Path, cfg: GenerateConfig,
                        stats: dict) -> Path:
    """Filters instructions, asks for responses, filters them, writes candidates.jsonl and stats.json."""
    instructions = list(instructions)  # short texts, needed whole for the near-dedup
    reasons = [check_text(r["instruction"], cfg.filters, cfg.japanese)
               if cfg.keep_truncated or r.get("finish_reason") != "length" else "truncated" for r in instructions]
    for i, d in enumerate(dedup([r["instruction"] for r in instructions], near=cfg.near_dedup)):
        reasons[i] = reasons[i] or d
    stats["instructions"] = _count(reasons)
    kept = [r for r, why in zip(instructions, reasons) if why is None]
    params = replace(cfg.response_params, seed=cfg.seed)
    responses = resumable(
        engine, kept, lambda r: Request(messages=prompt_messages(r.get("system"), r["instruction"]),
                                        n=cfg.n_responses),
        params, out_dir / "responses.jsonl",
        lambda r, cs: {"id": r["id"], "prompt": prompt_messages(r.get("system"), r["instruction"]),
                       "responses": [c.text for c in cs], "finish_reasons": [c.finish_reason for c in cs]},
        cfg.batch_size, "responses")
    response_reasons: Counter = Counter()

    def candidates() -> Iterator[dict]:  # streamed from responses.jsonl to candidates.jsonl
        for r in responses:
            texts = []
            for text, finish in zip(r["responses"], r["finish_reasons"]):
                reason = ("truncated" if finish == "length" and not cfg.keep_truncated
                          else check_text(text, cfg.filters, cfg.japanese))
                if reason is None and text in texts:
                    reason = "exact_duplicate"
                response_reasons[reason or "kept"] += 1
                if reason is None:
                    texts.append(text)
            if texts:
                yield {"id": r["id"], "prompt": r["prompt"], "responses": texts}

    path = out_dir / "candidates.jsonl"
    stats["candidates"] = write_jsonl(path, candidates())
    stats["responses"] = _tally(response_reasons)
    atomic_write_text(out_dir / "stats.json", json.dumps(stats, ensure_ascii=False, indent=2))
    return path


def _count(reasons: list[str | None]) -> dict:
    return _tally(Counter(r or "kept" for r in reasons))


def _tally(counts: Counter) -> dict:
    c = Counter(counts)
    return {"total": sum(c.values()), "kept": c.pop("kept", 0), "dropped": dict(sorted(c.items()))}


def summary(out_dir: Path, method: str) -> dict:
    """The run's summary for its manifest and the report; no candidates at all is a failure, not an empty set."""
    stats = json.loads((out_dir / "stats.json").read_text())
    ins, res = stats.get("instructions", {}), stats.get("responses", {})
    kept = (f"instructions kept {ins.get('kept')}/{ins.get('total')}, responses kept "
            f"{res.get('kept')}/{res.get('total')}")
    if not stats.get("candidates"):
        raise JacodeError(f"{method}: no candidates kept ({kept}; dropped: instructions {ins.get('dropped') or '-'},"
                          f" responses {res.get('dropped') or '-'})")
    return {"text": f"{method}: {kept}, candidates {stats['candidates']}",
            "metrics": {"candidates": stats["candidates"]},
            "tables": [{"title": "synthetic data filters", "columns": ["step", "kept", "total", "dropped"],
                        "rows": [[step, s.get("kept"), s.get("total"), s.get("dropped") or {}]
                                 for step, s in (("instructions", ins), ("responses", res)) if s]}]}
