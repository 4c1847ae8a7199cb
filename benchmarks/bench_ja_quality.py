"""Japanese quality filter on the labelled set tests/fixtures/ja_quality.jsonl: precision and recall per category.

The set is hand-written for jacode: clean prose of several lengths (100-200, 230-310 and 650-870 characters),
technical Q&A and code explanations to keep; ad copy, SEO spam, tag/keyword lists, navigation boilerplate,
adult/gambling spam, machine-translated garbage, mojibake and near-empty pages to drop. Every third document of a
category is held out: the rules in `jacode.data.text_filters` were tuned on "dev" only, so "heldout" is the honest
figure. The filter runs with its default thresholds (`TextThresholds()`, min_chars=50); a second pass sets the
length rule to 0 to show what the content rules do on their own, and a third sweeps the length knob.

    python benchmarks/bench_ja_quality.py [--misses]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from jacode.data.text_filters import TextThresholds, check_japanese

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "ja_quality.jsonl"


def load() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]


def judge(rows: list[dict], t: TextThresholds) -> list[tuple[dict, str | None]]:
    return [(r, check_japanese(r["text"], t)) for r in rows]


def scores(judged: list[tuple[dict, str | None]]) -> dict[str, float]:
    """Precision and recall of the keep decision and of the drop decision."""
    kept_keep = sum(r["label"] == "keep" and reason is None for r, reason in judged)
    kept = sum(reason is None for _, reason in judged)
    keep = sum(r["label"] == "keep" for r, _ in judged)
    dropped_drop = sum(r["label"] == "drop" and reason is not None for r, reason in judged)
    dropped = len(judged) - kept
    drop = len(judged) - keep
    return {"keep_precision": kept_keep / max(1, kept), "keep_recall": kept_keep / max(1, keep),
            "drop_precision": dropped_drop / max(1, dropped), "drop_recall": dropped_drop / max(1, drop)}


def table(judged: list[tuple[dict, str | None]]) -> str:
    out = ["| category | label | n | kept | dropped | correct | reasons |", "|---|---|--:|--:|--:|--:|---|"]
    categories = list(dict.fromkeys(r["category"] for r, _ in judged))
    for cat in categories:
        items = [(r, reason) for r, reason in judged if r["category"] == cat]
        label = items[0][0]["label"]
        kept = sum(reason is None for _, reason in items)
        correct = kept if label == "keep" else len(items) - kept
        reasons = Counter(reason for _, reason in items if reason)
        out.append(f"| {cat} | {label} | {len(items)} | {kept} | {len(items) - kept} | {correct / len(items):.2f} | "
                   + ", ".join(f"{k} {v}" for k, v in reasons.most_common()) + " |")
    s = scores(judged)
    out.append(f"\nkeep: precision {s['keep_precision']:.3f}, recall {s['keep_recall']:.3f}; "
               f"drop: precision {s['drop_precision']:.3f}, recall {s['drop_recall']:.3f} "
               f"({len(judged)} documents)")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--misses", action="store_true", help="list the misclassified documents")
    args = ap.parse_args()
    rows = load()
    default = TextThresholds()
    print(f"{len(rows)} documents ({Counter(r['split'] for r in rows)['heldout']} held out), "
          f"TextThresholds() defaults, min_chars={default.min_chars}\n")
    for split in ("dev", "heldout", "all"):
        judged = judge([r for r in rows if split in ("all", r["split"])], default)
        print(f"### {split}\n\n{table(judged)}\n")
        if args.misses and split != "all":
            for r, reason in judged:
                if (reason is None) != (r["label"] == "keep"):
                    print(f"- miss {r['id']} ({reason}): {r['text'][:70]!r}")
            print()
    print("### all, content rules only (min_chars=0)\n")
    s = scores(judge(rows, replace(default, min_chars=0)))
    print(f"keep: precision {s['keep_precision']:.3f}, recall {s['keep_recall']:.3f}; "
          f"drop: precision {s['drop_precision']:.3f}, recall {s['drop_recall']:.3f}\n")
    print("### the length knob (all documents)\n")
    print("| min_chars | keep precision | keep recall | prose_short kept |\n|--:|--:|--:|--:|")
    for n in (0, 50, 100, 200, 400):
        judged = judge(rows, replace(default, min_chars=n))
        s = scores(judged)
        short = [reason is None for r, reason in judged if r["category"] == "prose_short"]
        print(f"| {n} | {s['keep_precision']:.3f} | {s['keep_recall']:.3f} | {sum(short)}/{len(short)} |")
    texts = [r["text"] for r in rows] * 20
    start = time.perf_counter()
    for text in texts:
        check_japanese(text)
    elapsed = time.perf_counter() - start
    rate = sum(map(len, texts)) / elapsed / 1e6
    print(f"\nspeed: {len(texts) / elapsed:,.0f} documents/s, {rate:.2f} M characters/s (one core)")


if __name__ == "__main__":
    main()
