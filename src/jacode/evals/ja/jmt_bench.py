"""Japanese MT-Bench: two-turn answers with the chat template, single-answer grading (1–10) of BOTH turns.

Data: a directory laid out as FastChat's (`question.jsonl`, `reference_answer/*.jsonl`, `judge_prompts.jsonl` or
`judge_ja_prompts.jsonl`) — the Stability AI and Swallow copies both are. Math, reasoning and coding are graded
against reference answers. Stability AI's judge prompts lack the multi-turn ones, which is why one fork never
grades turn 2; jacode then uses its own Japanese multi-turn prompts (data/jmt_judge_prompts.jsonl) and says so
in the report. Judge prompts stay data files; raw judge outputs are stored beside the ratings.

Ratings are read in `parse_mode` (jacode.evals.ja.judge): `fastchat` by default — FastChat's reading (first
`[[n]]`, else first `[n]`, no range check, asked once) and FastChat's mean (show_result.py: the mean over every
judgment that parsed, turn by turn and both turns pooled; an unparseable one is its -1, left out) — because every
published Japanese MT-Bench number (Stability AI's jp-stable fork, Swallow's, upstream MT-Bench) comes out of that
code: a jacode number is comparable with them only if it reads the judge the same way. `strict` (exactly one
`[[n]]` in 1-10, else asked again; per question-turn means over judge repeats, then their mean) is the stricter
reading. The report says which mode was used and how many judgments the other mode reads differently.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from jacode.engines import Engine, Request, SamplingParams, generate_with_progress
from jacode.errors import JacodeError
from jacode.evals.ja.judge import JudgeRequest, check_parse_mode, judge_all, mean_ci, rating_parser
from jacode.io import JsonlAppender, appended_records, atomic_write_text, read_jsonl

if TYPE_CHECKING:
    from jacode.evals.registry import GenSettings

NEED_REFERENCE = ("math", "reasoning", "coding")
# FastChat's per-category sampling temperatures for answer generation.
TEMPERATURE = {"writing": 0.7, "roleplay": 0.7, "extraction": 0.0, "math": 0.0, "coding": 0.0,
               "reasoning": 0.0, "stem": 0.1, "humanities": 0.1}
REFERENCE_PREFERENCE = ("gpt-4o-2024-08-06", "base-gpt4o-with-human-annotation", "gpt-4")


@dataclass
class JMTConfig:
    data: str
    settings: GenSettings  # the answers' generation settings: the registry's jmt-bench row, resolved
    judge_settings: GenSettings  # the judge's (temperature, max_new_tokens)
    questions: str = "question.jsonl"
    reference: str | None = None  # reference_answer/NAME.jsonl
    judge_repeats: int = 1
    judge_retries: int = 2  # strict mode only: fastchat asks once, as FastChat does
    limit: int | None = None  # first N questions (smoke runs)
    parse_mode: str = "fastchat"  # jacode.evals.ja.judge.PARSE_MODES
    answers: str | None = None  # answers to judge instead of generating them (FastChat model_answer or jacode's)

    @property
    def retries(self) -> int:
        return self.judge_retries if check_parse_mode(self.parse_mode) == "strict" else 0


def _fill(template: str, values: dict) -> str:
    # Only the known placeholders are replaced: prompts may contain other braces (code, JSON).
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), template)


def resolve_data(data: str) -> Path:
    """A local directory, or a hub dataset repository id (downloaded once, then read as a local directory)."""
    if Path(data).exists():
        return Path(data)
    try:
        from huggingface_hub import snapshot_download

        root = Path(snapshot_download(data, repo_type="dataset"))
    except Exception as e:  # noqa: BLE001 — offline, unknown repo, auth: all mean "give a local copy"
        raise JacodeError(f"{data}: not a local directory, and it could not be fetched from the hub ({e})") from e
    found = sorted(root.rglob("question.jsonl"))
    if not found:
        raise JacodeError(f"{data}: the downloaded dataset has no question.jsonl")
    return found[0].parent


def load_questions(data: str, questions: str = "question.jsonl", reference: str | None = None) -> list[dict]:
    """The questions, after the checks `load` makes (so a run can fail before any model is loaded)."""
    return load(data, questions, reference)[0]


def load(data: str, questions_file: str = "question.jsonl",
         reference: str | None = None) -> tuple[list[dict], dict, dict, list[str]]:
    """questions, references {qid: [turn1, turn2]}, prompts {name: record}, notes."""
    d = resolve_data(data)
    qfile = d / questions_file
    if not qfile.exists():
        raise JacodeError(f"{qfile}: no such file (give --data DIR with FastChat's japanese_mt_bench layout)")
    questions = list(read_jsonl(qfile))
    for n, q in enumerate(questions, 1):
        if not {"question_id", "category", "turns"} <= set(q) or len(q["turns"]) != 2:
            raise JacodeError(f"{qfile}:{n}: expected question_id, category and two turns")
    notes: list[str] = []
    refs: dict = {}
    ref_files = sorted((d / "reference_answer").glob("*.jsonl")) if (d / "reference_answer").is_dir() else []
    if reference:
        chosen = d / "reference_answer" / f"{reference}.jsonl"
        if not chosen.exists():
            raise JacodeError(f"{chosen}: no such reference answer file")
    else:
        names = {f.stem: f for f in ref_files}
        chosen = next((names[n] for n in REFERENCE_PREFERENCE if n in names), ref_files[0] if ref_files else None)
    if chosen:
        for r in read_jsonl(chosen):
            refs[int(r["question_id"])] = r["choices"][0]["turns"]
        notes.append(f"reference answers: {chosen.name}")
    prompts: dict = {}
    for name in ("judge_prompts.jsonl", "judge_ja_prompts.jsonl"):
        if (d / name).exists():
            prompts = {p["name"]: p for p in read_jsonl(d / name)}
            notes.append(f"judge prompts: {name}")
            break
    shipped = {p["name"]: p for p in map(json.loads, resources.files("jacode.evals.ja").joinpath(
        "data/jmt_judge_prompts.jsonl").read_text("utf-8").splitlines())}
    for name, p in shipped.items():
        if name not in prompts:
            prompts[name] = p
            notes.append(f"{name}: not in the data; jacode's Japanese prompt used")
    missing_refs = [q["question_id"] for q in questions if q["category"] in NEED_REFERENCE
                    and int(q["question_id"]) not in refs]
    if missing_refs:
        raise JacodeError(f"no reference answers for {len(missing_refs)} math/reasoning/coding questions "
                          f"(e.g. {missing_refs[0]}); they cannot be graded as MT-Bench grades them")
    return questions, refs, prompts, notes


def generate_answers(engine: Engine, questions: list[dict], out: Path, cfg: JMTConfig) -> dict:
    """{(qid, turn): answer}; turn 2 is asked with turn 1's question and answer in the conversation."""
    path = out / "answers.jsonl"
    have = {(r["question_id"], r["turn"]): r["answer"] for r in appended_records(path)}
    with JsonlAppender(path) as sink:
        for turn in (1, 2):
            by_temp = defaultdict(list)
            for q in questions:
                if (q["question_id"], turn) not in have:
                    by_temp[temperature(q, cfg.settings)].append(q)
            for temp, qs in sorted(by_temp.items()):
                params = SamplingParams(temperature=temp, top_p=1.0 if temp == 0 else cfg.settings.top_p,
                                        max_new_tokens=cfg.settings.max_new_tokens, seed=cfg.settings.seed)
                results = generate_with_progress(engine, [Request(messages=_conversation(q, turn, have)) for q in qs],
                                                 params, f"jmt-bench answers, turn {turn}")
                for q, cs in zip(qs, results):
                    have[(q["question_id"], turn)] = cs[0].text
                    sink.write({"question_id": q["question_id"], "turn": turn, "answer": cs[0].text,
                                "finish_reason": cs[0].finish_reason})
    return have


def import_answers(path: str | Path, questions: list[dict], out: Path) -> dict:
    """{(qid, turn): answer} from FastChat's model_answer/<model>.jsonl (or a jacode answers.jsonl), for every
    question (both turns), recorded in OUT/answers.jsonl as generated answers are."""
    from jacode.formats import mt_bench_answers

    given = mt_bench_answers(path)
    have = {(r["question_id"], r["turn"]): r["answer"] for r in appended_records(out / "answers.jsonl")}
    with JsonlAppender(out / "answers.jsonl") as sink:
        for q in questions:
            for turn in (1, 2):
                key = (str(q["question_id"]), turn)
                if key not in given:
                    raise JacodeError(f"{path}: no answer to question {q['question_id']} turn {turn} (FastChat "
                                      "model_answer: choices[0].turns holds both turns)")
                if have.get((q["question_id"], turn)) not in (None, given[key]):
                    raise JacodeError(f"{out / 'answers.jsonl'} holds other answers than {path}; use a new --out")
                if (q["question_id"], turn) not in have:
                    have[(q["question_id"], turn)] = given[key]
                    sink.write({"question_id": q["question_id"], "turn": turn, "answer": given[key],
                                "imported_from": str(path)})
    return have


def report_from_judgments(data: str, judgments: str | Path, model: str | None = None,
                          questions_file: str = "question.jsonl", out: str | Path | None = None) -> dict:
    """jacode's report (categories, turns, CI) from FastChat's single-grading judgments
    (model_judgment/<judge>_single.jsonl) of one model, read as FastChat reads them (its `score`, -1 left out);
    written to OUT/scores.json and scores.md when `out` is given."""
    from jacode.formats import mt_bench_judgments

    questions = load(data, questions_file)[0]
    ids = {str(q["question_id"]) for q in questions}
    done = {k: j for k, j in mt_bench_judgments(judgments, model).items() if j["question_id"] in ids}
    if not done:
        raise JacodeError(f"{judgments}: no judgment is of a question in {data}/{questions_file}")
    repeats = max(j["repeat"] for j in done.values()) + 1
    report = summarize(questions, done, JMTConfig(data=data, settings=None, judge_settings=None,
                                                  questions=questions_file, judge_repeats=repeats))
    first = next(iter(done.values()))
    report["notes"] = [f"judgments imported from {judgments} (FastChat; model {first['model']}, judge "
                       f"{first['judge']})"]
    if out is not None:
        out = Path(out)
        atomic_write_text(out / "scores.json", json.dumps(report, ensure_ascii=False, indent=2))
        atomic_write_text(out / "scores.md", markdown(report))
    return report


def temperature(q: dict, settings: GenSettings) -> float:
    """FastChat's temperature for the question's category, unless the settings fix one for all."""
    return TEMPERATURE.get(q["category"], 0.7) if settings.temperature is None else settings.temperature


def _conversation(q: dict, turn: int, answers: dict) -> list[dict]:
    m = [{"role": "user", "content": q["turns"][0]}]
    if turn == 2:
        m += [{"role": "assistant", "content": answers[(q["question_id"], 1)]},
              {"role": "user", "content": q["turns"][1]}]
    return m


def judge_requests(questions, refs, prompts, answers, repeat: int) -> list[JudgeRequest]:
    reqs = []
    for q in questions:
        qid, needs_ref = q["question_id"], q["category"] in NEED_REFERENCE
        ref = refs.get(int(qid), ["", ""])
        values = {"question": q["turns"][0], "answer": answers[(qid, 1)], "question_1": q["turns"][0],
                  "question_2": q["turns"][1], "answer_1": answers[(qid, 1)], "answer_2": answers[(qid, 2)],
                  "ref_answer_1": ref[0], "ref_answer_2": ref[1] if len(ref) > 1 else ""}
        for turn in (1, 2):
            name = ("single-math-v1" if needs_ref else "single-v1") + ("-multi-turn" if turn == 2 else "")
            p = prompts[name]
            reqs.append(JudgeRequest(key=f"{qid}:{turn}:{repeat}", system=p.get("system_prompt"),
                                     prompt=_fill(p["prompt_template"], values)))
    return reqs


def run_jmt(engine: Engine, judge: Engine, out: str | Path, cfg: JMTConfig) -> dict:
    check_parse_mode(cfg.parse_mode)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    questions, refs, prompts, notes = load(cfg.data, cfg.questions, cfg.reference)
    questions = questions[:cfg.limit] if cfg.limit else questions
    if cfg.answers:
        answers = import_answers(cfg.answers, questions, out)
        notes.append(f"answers imported from {cfg.answers}, not generated")
    else:
        answers = generate_answers(engine, questions, out, cfg)
    path = out / "judgments.jsonl"
    done = {r["key"]: r for r in appended_records(path)}
    with JsonlAppender(path) as sink:
        for rep in range(cfg.judge_repeats):
            pending = [r for r in judge_requests(questions, refs, prompts, answers, rep) if r.key not in done]

            def record(key, res):
                qid, turn, repeat = key.split(":")
                row = {"key": key, "question_id": qid, "turn": int(turn), "repeat": int(repeat), **res,
                       "parse_mode": cfg.parse_mode}
                done[key] = row
                sink.write(row)

            params = SamplingParams(temperature=cfg.judge_settings.temperature,
                                    max_new_tokens=cfg.judge_settings.max_new_tokens, seed=cfg.settings.seed + rep)
            judge_all(judge, pending, rating_parser(1, 10, cfg.parse_mode), cfg.retries, params,
                      on_result=record, desc=f"jmt-bench judging (repeat {rep + 1})")
    report = summarize(questions, done, cfg)
    report["notes"] = notes
    atomic_write_text(out / "scores.json", json.dumps(report, ensure_ascii=False, indent=2))
    atomic_write_text(out / "scores.md", markdown(report))
    return report


def summarize(questions: list[dict], judgments: dict, cfg: JMTConfig) -> dict:
    """Scores from the judgments. fastchat: means over the judgments that parsed (FastChat's show_result.py);
    strict: per question-turn means over the judge repeats, then their mean. Both leave failures out and count
    them; with one judge repeat the two aggregations are the same number."""
    mode = check_parse_mode(cfg.parse_mode)
    other = "strict" if mode == "fastchat" else "fastchat"
    read_other = rating_parser(1, 10, other)
    cats = {str(q["question_id"]): q["category"] for q in questions}
    per_item: dict[tuple[str, int], list[float]] = defaultdict(list)
    failures, differ = [], []
    for j in judgments.values():
        if j["rating"] is None:
            failures.append(j["key"])
        else:
            per_item[(str(j["question_id"]), j["turn"])].append(j["rating"])
        if j["raw"] and read_other(j["raw"][-1]) != j["rating"]:  # the same answer, read the other way
            differ.append(j["key"])

    def values(keep) -> list[float]:
        chosen = [v for (qid, t), v in per_item.items() if keep(qid, t)]
        return [r for v in chosen for r in v] if mode == "fastchat" else [statistics.fmean(v) for v in chosen]

    table: dict = {}
    for cat in sorted(set(cats.values())):
        row = {}
        for turn in (1, 2):
            vals = values(lambda qid, t, turn=turn, cat=cat: t == turn and cats[qid] == cat)
            row[f"turn{turn}"] = statistics.fmean(vals) if vals else None
        both = values(lambda qid, t, cat=cat: cats[qid] == cat)
        row["mean"] = statistics.fmean(both) if both else None
        table[cat] = row
    expected = len(questions) * 2 * cfg.judge_repeats
    overall = mean_ci(values(lambda qid, t: True))
    turn1 = mean_ci(values(lambda qid, t: t == 1))
    turn2 = mean_ci(values(lambda qid, t: t == 2))
    parse = {"mode": mode, "retries": cfg.retries,
             "mean_over": ("every judgment that parsed (FastChat's show_result.py: score != -1)" if mode == "fastchat"
                           else "question-turns (each the mean of its parsed judge repeats)"),
             "other_mode": other, "other_mode_reads_differently": len(differ), "differing_keys": sorted(differ)[:50]}
    return {"benchmark": "jmt-bench", "overall": overall, "turn1": turn1, "turn2": turn2,
            "scores": {"rating_1_10": overall["mean"], "turn1": turn1["mean"], "turn2": turn2["mean"]},
            "items": len(questions),
            "categories": table, "judgments": len(judgments), "expected_judgments": expected,
            "failed_judgments": len(failures), "failed_keys": sorted(failures)[:50],
            "judge_repeats": cfg.judge_repeats, "parse_mode": mode, "parse": parse}


def markdown(r: dict) -> str:
    def f(x):
        return "–" if x is None else f"{x:.2f}"

    o = r["overall"]
    lines = [f"# {r['benchmark']}", "",
             f"Overall {f(o['mean'])} (95% CI {f(o['ci95'][0])}–{f(o['ci95'][1])}, {o['n']} question-turns); "
             f"turn 1 {f(r['turn1']['mean'])}, turn 2 {f(r['turn2']['mean'])}; "
             f"failed judgments: {r['failed_judgments']} of {r['judgments']}", "", _parse_line(r), "",
             "| category | turn 1 | turn 2 | mean |", "|---|---:|---:|---:|"]
    for cat, row in r["categories"].items():
        lines.append(f"| {cat} | {f(row['turn1'])} | {f(row['turn2'])} | {f(row['mean'])} |")
    lines += [""] + [f"- {n}" for n in r.get("notes", [])]
    return "\n".join(lines) + "\n"


def _parse_line(r: dict) -> str:
    p = r["parse"]
    how = ("as FastChat reads them (first [[n]], else [n]; asked once)" if p["mode"] == "fastchat"
           else f"strictly (one [[n]] in 1-10; asked again up to {p['retries']} times)")
    return (f"Ratings read {how}: parse mode {p['mode']}; {p['other_mode']} mode reads "
            f"{p['other_mode_reads_differently']} of {r['judgments']} judgments differently.")

