"""The one language table: every consumer finds what it needs in a row, and the rows are true."""

from __future__ import annotations

import pytest

from jacode.data.code_filters import THRESHOLDS
from jacode.data.complexity import lizard_file
from jacode.data.readers import language_of
from jacode.data.syntax import tree_sitter_name
from jacode.evals.registry import BENCHMARKS
from jacode.languages import LANGUAGES, find_language, get_language


def test_names_aliases_and_extensions_are_unambiguous():
    seen: dict[str, str] = {}
    for lang in LANGUAGES.values():
        for alias in (lang.name, *lang.aliases):
            assert seen.setdefault(alias.lower(), lang.name) == lang.name, f"{alias} names two languages"
    exts = [e for lang in LANGUAGES.values() for e in lang.extensions]
    assert len(exts) == len(set(exts))
    assert find_language("JavaScript").name == "js" and find_language("C#").name == "cs"
    assert language_of("src/a.mjs") == ("js", "code") and language_of("README.md") == (None, "text")
    assert language_of("blob.bin") is None


@pytest.mark.parametrize("name", [n for n, lang in LANGUAGES.items() if lang.tree_sitter])
def test_tree_sitter_grammars_exist(name):
    from tree_sitter_language_pack import get_parser

    assert get_parser(tree_sitter_name(name)) is not None


@pytest.mark.parametrize("name", [n for n, lang in LANGUAGES.items() if lang.lizard])
def test_lizard_readers_exist(name):
    from lizard_languages import get_reader_for

    reader = get_reader_for(lizard_file(name))
    assert reader is not None and reader.__name__ != "CLikeReader" or name in ("c", "cpp")


def test_every_benchmark_and_threshold_names_a_row():
    for bench in BENCHMARKS.values():
        if not bench.executes:  # judged and metric benchmarks run no code
            assert bench.language is None, bench.name
            continue
        lang = get_language(bench.language)
        if bench.kind == "program":
            assert lang.judge is not None, bench.name
        elif lang.name != "python":
            assert lang.values is not None, bench.name
    for key in THRESHOLDS:
        assert key == "default" or key in LANGUAGES, key


def test_executable_languages_say_what_they_need():
    for lang in LANGUAGES.values():
        if lang.values or (lang.judge and lang.judge.compile):
            assert lang.tools, f"{lang.name}: which toolchain, and how to install it"
