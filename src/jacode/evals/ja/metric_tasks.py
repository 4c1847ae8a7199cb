"""Metric-scored Japanese generation tasks: question answering (NIILC style), summarization (XL-Sum style) and
en→ja translation (WMT20 style), from the user's local JSONL copies (`--data FILE`).

Record fields (the first present is used):
  niilc   question | input;  answers (list) | answer | output          → exact_match, char_f1, fuzzy_ratio
  xlsum   text | input;      summary | target | output                 → rouge1, rouge2, rougeL (MeCab words)
  wmt     source | en | input;  target | ja | reference | output       → BLEU (sacrebleu ja-mecab)

An llm-jp-eval evaluation dataset (`{instruction, output_length, metrics, few_shots, samples: [{input, output}]}`,
jacode.formats) is read too: its samples' input and output, scored zero-shot with the prompts below.

Option `rouge_tokenizer` (xlsum): `unidic` (fugashi + unidic-lite, the default) or `ipadic` (sacrebleu's ja-mecab,
llm-jp-eval's ROUGE tokenization); the report names the one used.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jacode.engines import Engine, Request, SamplingParams, generate_with_progress
from jacode.errors import JacodeError
from jacode.evals.ja.metrics import ROUGE_TOKENIZERS, bleu, metric
from jacode.io import JsonlAppender, appended_records, atomic_write_text

if TYPE_CHECKING:
    from jacode.evals.registry import GenSettings

TASKS = {
    "niilc": {"input": ("question", "input"), "ref": ("answers", "answer", "output"),
              "metrics": ("exact_match", "char_f1", "fuzzy_ratio"),
              "prompt": "質問に対する答えを、説明を付けずに短く出力してください。\n\n質問：{input}\n答え："},
    "xlsum": {"input": ("text", "input"), "ref": ("summary", "target", "output"),
              "metrics": ("rouge1", "rouge2", "rougeL"),
              "prompt": "次の記事を1〜3文で要約してください。\n\n記事：{input}\n要約："},
    "wmt-en-ja": {"input": ("source", "en", "input"), "ref": ("target", "ja", "reference", "output"),
                  "metrics": ("bleu",),
                  "prompt": ("次の英語の文章を自然な日本語に翻訳してください。翻訳文だけを出力してください。\n\n"
                             "英語：{input}\n日本語：")},
}


@dataclass
class MetricTaskConfig:
    task: str
    data: str
    settings: GenSettings  # generation settings: the registry's row for the task, resolved
    limit: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)  # the benchmark's options (xlsum: rouge_tokenizer)


def check_options(options: Mapping[str, Any]) -> None:
    tokenizer = options.get("rouge_tokenizer", "unidic")
    if tokenizer not in ROUGE_TOKENIZERS:
        raise JacodeError(f"rouge_tokenizer must be {' or '.join(ROUGE_TOKENIZERS)}, not {tokenizer!r}")


def _field(record: dict, names: tuple[str, ...], where: str):
    for name in names:
        if record.get(name) not in (None, "", []):
            return record[name]
    raise JacodeError(f"{where}: none of the fields {list(names)} is present")


def load_items(task: str, data: str, limit: int | None = None) -> list[dict]:
    """The task's items from jacode's JSONL (fields above) or an llm-jp-eval dataset JSON (jacode.formats)."""
    from jacode.formats import metric_records

    if task not in TASKS:
        raise JacodeError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
    spec = TASKS[task]
    items = []
    for n, (where, r) in enumerate(metric_records(data, task), 1):
        if not isinstance(r, dict):
            raise JacodeError(f"{where}: expected a JSON object, got {type(r).__name__}")
        ref = _field(r, spec["ref"], where)
        items.append({"id": r.get("id", n - 1), "input": _field(r, spec["input"], where),
                      "refs": ref if isinstance(ref, list) else [ref]})
        if limit and len(items) >= limit:
            break
    if not items:
        raise JacodeError(f"{data}: no records")
    return items


def run_metric_task(engine: Engine, out: str | Path, cfg: MetricTaskConfig) -> dict:
    check_options(cfg.options)
    rouge_tokenizer = cfg.options.get("rouge_tokenizer", "unidic")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    spec, items, s = TASKS.get(cfg.task), load_items(cfg.task, cfg.data, cfg.limit), cfg.settings
    path = out / "predictions.jsonl"
    preds = {r["id"]: r["prediction"] for r in appended_records(path)}
    pending = [it for it in items if it["id"] not in preds]
    if pending:
        results = generate_with_progress(
            engine, [Request(messages=[{"role": "user", "content": spec["prompt"].format(input=it["input"])}])
                     for it in pending],
            SamplingParams(temperature=s.temperature, top_p=s.top_p if s.temperature else 1.0,
                           max_new_tokens=s.max_new_tokens, seed=s.seed), f"{cfg.task} answers")
        with JsonlAppender(path) as sink:
            for it, cs in zip(pending, results):
                preds[it["id"]] = cs[0].text.strip().split("\n")[0] if cfg.task != "xlsum" else cs[0].text.strip()
                sink.write({"id": it["id"], "prediction": preds[it["id"]], "refs": it["refs"]})
    report: dict = {"benchmark": cfg.task, "data": cfg.data, "items": len(items), "metrics": {}}
    for m in spec["metrics"]:
        if m == "bleu":
            score, signature = bleu([preds[it["id"]] for it in items], [it["refs"][0] for it in items])
            report["metrics"]["bleu"] = score
            report["bleu_signature"] = signature
        else:
            score = metric(m, rouge_tokenizer)
            report["metrics"][m] = statistics.fmean(score(preds[it["id"]], it["refs"]) for it in items)
    # What the text was split into before scoring, named in the report: harnesses disagree mostly there.
    if any(m.startswith("rouge") for m in spec["metrics"]):
        report["rouge_tokenizer"] = rouge_tokenizer
        report["tokenization"] = ROUGE_TOKENIZERS[rouge_tokenizer]
    elif "bleu" in spec["metrics"]:
        report["tokenization"] = f"sacrebleu {report['bleu_signature']}"
    else:
        report["tokenization"] = "characters (NFKC, whitespace removed)"
    report["scores"] = dict(report["metrics"])  # every metric is a score; run_benchmark puts the primary first
    atomic_write_text(out / "scores.json", json.dumps(report, ensure_ascii=False, indent=2))
    return report
