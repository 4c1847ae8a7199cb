"""Per-language counts as a pipeline step, and the run's stats report (JSON + Markdown) from datatrove's stats.

Token counts are estimates: one token per 4 ASCII characters and one per other character, the rough rate of
Llama-3-class tokenizers on code/English and on Japanese. Train jacode's tokenizer and measure for real figures
(`jacode tokenizer train` reports fertility).
"""

from __future__ import annotations

import json
from pathlib import Path

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep


def estimated_tokens(text: str) -> int:
    ascii_chars = len(text) if text.isascii() else len(text.encode("ascii", "ignore"))
    return ascii_chars // 4 + (len(text) - ascii_chars)


class LanguageStats(PipelineStep):
    name = "📊 language stats"
    type = "📊 - STATS"

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data:
            lang = f"{doc.metadata.get('kind', 'text')}:{doc.metadata.get('language') or 'unknown'}"
            self.stat_update(f"lang/{lang}/files")
            text = doc.text
            self.stat_update(f"lang/{lang}/bytes", value=len(text) if text.isascii() else len(text.encode("utf-8")))
            self.stat_update(f"lang/{lang}/tokens_est", value=estimated_tokens(text))
            yield doc


def _total(v) -> float:
    return v["total"] if isinstance(v, dict) else v


def build_report(stage_dirs: list[tuple[str, Path]]) -> dict:
    """Collects every stage's merged stats.json into {steps: [...], languages: {...}}."""
    steps, languages = [], {}
    for stage, logdir in stage_dirs:
        path = logdir / "stats.json"
        if not path.exists():
            continue
        for step in json.loads(path.read_text()):
            stats = {k: _total(v) for k, v in step.get("stats", {}).items()}
            if step["name"].endswith(LanguageStats.name):
                for key, value in stats.items():
                    if key.startswith("lang/"):
                        _, lang, field = key.split("/")
                        languages.setdefault(lang, {})[field] = int(value)
                continue
            entry = {"stage": stage, "step": step["name"]}
            if "forwarded" in stats or "dropped" in stats:
                entry.update(total=int(stats["total"]), kept=int(stats.get("forwarded", 0)),
                             dropped=int(stats.get("dropped", 0)))
            entry["reasons"] = {k.removeprefix("dropped_"): int(v) for k, v in sorted(stats.items())
                                if k.startswith("dropped_")}
            entry["counters"] = {k: int(v) for k, v in sorted(stats.items())
                                 if k.startswith(("skipped_", "parsers_", "screened_", "lizard_", "replaced_",
                                                  "input_files", "documents"))}
            steps.append(entry)
    kept = sum(v.get("files", 0) for v in languages.values())
    return {"steps": steps, "languages": languages, "documents_kept": kept}


def nothing_kept(report: dict) -> str | None:
    """Why a run kept no document ("language check: 0 of 2 kept; ..."), or None when it kept some."""
    if report.get("documents_kept", sum(v.get("files", 0) for v in report["languages"].values())):
        return None
    reasons = "; ".join(f"{s['step']}: {s.get('kept', 0)} of {s.get('total', 0)} kept" for s in report["steps"]
                        if "kept" in s)
    return reasons or "the readers found no documents"


def report_markdown(report: dict) -> str:
    lines = ["# jacode data run", ""]
    if (why := nothing_kept(report)) is not None:
        lines += [f"**No documents kept** — the output is empty ({why}). The dropped documents and their reasons "
                  "are under excluded/.", ""]
    lines += ["## Steps", "", "| stage | step | in | kept | dropped | reasons / counters |",
              "|---|---|---:|---:|---:|---|"]
    for s in report["steps"]:
        notes = ", ".join(f"{k}: {v}" for k, v in {**s["reasons"], **s["counters"]}.items())
        lines.append(f"| {s['stage']} | {s['step']} | {s.get('total', '')} | {s.get('kept', '')} | "
                     f"{s.get('dropped', '')} | {notes} |")
    lines += ["", "## Output by language", "", "| kind:language | files | bytes | tokens (estimated) |",
              "|---|---:|---:|---:|"]
    for lang, v in sorted(report["languages"].items()):
        lines.append(f"| {lang} | {v.get('files', 0)} | {v.get('bytes', 0)} | {v.get('tokens_est', 0)} |")
    lines += ["", "Token counts are estimates (1 token per 4 ASCII characters, 1 per other character)."]
    return "\n".join(lines) + "\n"
