"""The data steps' fast paths give the very results of the plain code they stand for (issue 17): PII without a
scan at every position, the line rules on ASCII bytes, the complexity screen by kind id, whole-word condition
hits, raw text to the parser worker, and the writer's record without dataclasses.asdict."""

from __future__ import annotations

import random
import re
import sysconfig
from bisect import bisect_left
from pathlib import Path

import pytest
from datatrove.data import Document
from datatrove.pipeline.writers import JsonlWriter

from jacode.data import code_filters, parsing, pii
from jacode.data.parse_worker import ParserProcess
from jacode.data.writers import GzipJsonlWriter

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SAMPLE = [STDLIB / name for name in ("json/decoder.py", "argparse.py", "ipaddress.py", "smtplib.py", "email/utils.py",
                                     "urllib/parse.py", "textwrap.py", "tokenize.py")]


def random_texts(pieces: list[str], n: int, longest: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(0, longest))) for _ in range(n)]


# ---- PII ------------------------------------------------------------------------------------------------------

def plain_scrub(text: str) -> tuple[str, dict[str, int]]:
    counts = {}
    for placeholder, pattern in pii.RULES:
        text, n = pattern.subn(placeholder, text)
        if n:
            counts[placeholder] = n
    return text, counts


def test_pii_scrub_equals_every_rules_subn():
    pieces = ["a", "Z", "1", "9", "0", "25", "255", "256", "127", "0.0.0.0", ".", ".", "@", "@", "-", "_", "%", "+",
              " ", "\n", "é", "١", "٢", "x.y", "com", "org", "co.jp", "192.168.1.1", "1.2.3", "a@b.cd", "@@", "sk-",
              "AKIA", "AIza", "ghp_", "xoxb-", "A" * 16, "ab" * 12, "-----BEGIN RSA PRIVATE KEY-----",
              "-----END RSA PRIVATE KEY-----"]
    texts = random_texts(pieces, 20_000, 25) + [p.read_text() for p in SAMPLE]
    for text in texts:
        assert pii.scrub(text) == plain_scrub(text), repr(text)


# ---- code heuristics -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("thresholds", [
    code_filters.CodeThresholds(),
    code_filters.CodeThresholds(max_line_length=10, max_avg_line_length=3.5, max_data_fraction=0.3),
    code_filters.CodeThresholds(max_line_length=0, max_avg_line_length=0.0, max_data_fraction=0.0),
    code_filters.CodeThresholds(max_line_length=5.5, max_avg_line_length=2, max_data_fraction=0.6),
])
def test_line_rules_on_ascii_bytes_equal_the_str_rules(thresholds):
    pieces = ["a", "x", "E", "1", "0", " ", "\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f",
              ",", "[", "]", "'", ":", "=", "_", "#", "z" * 12]
    texts = random_texts(pieces, 5_000, 30, seed=1) + [p.read_text().encode("ascii", "ignore").decode()
                                                       for p in SAMPLE]
    for alnum in (lambda: None, lambda: "alnum_fraction"):
        for text in texts:
            want = code_filters._line_rules(text, thresholds, alnum)
            assert code_filters._ascii_line_rules(text, text.encode(), thresholds, alnum) == want, repr(text)


def test_first_lines_equal_splitlines():
    for text in random_texts(["a", "\n", "\r", "\r\n", "\x0c", "\u2028", "b" * 500], 2_000, 60, seed=2):
        for n in (0, 1, 10):
            assert code_filters.first_lines(text, n) == text.splitlines()[:n]


# ---- complexity screen -----------------------------------------------------------------------------------------

def test_nonblank_lines_equal_the_str_count():
    pieces = ["ab", "1", " ", "\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85",
              "\u2028", "\u3000", "é"]
    for text in random_texts(pieces, 5_000, 30, seed=3):
        want = len([line for line in text.splitlines() if line.strip()])
        assert parsing.nonblank_lines(text, text.encode()) == want == parsing.nonblank_lines(text), repr(text)


def boundary_checked_hits(language: str, data: bytes) -> list[int]:
    """Condition hits as they were found before: the words without the leading \\b, each match checked."""
    pattern = re.compile(parsing.condition_pattern(language).pattern.replace(rb"\b(?:", b"(?:", 1))
    word = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
    return [i for i in (m.start() for m in pattern.finditer(data))
            if i == 0 or data[i - 1] not in word or data[i] not in word]


LIZARD_LANGUAGES = ["python", "c", "cpp", "java", "cs", "javascript", "typescript", "go", "rust"]


@pytest.mark.parametrize("language", LIZARD_LANGUAGES)
def test_condition_hits_are_whole_words_and_operators(language):
    pieces = ["if", "for", "while", "and", "or", "case", "catch", "elif", "except", "where", "x", "_", "9", " ", "\n",
              ".", "(", "&&", "||", "??", "?", "&", "|", "é", "diff", "error"]
    texts = random_texts(pieces, 2_000, 20, seed=4) + [p.read_text() for p in SAMPLE[:3]]
    for text in texts:
        data = text.encode()
        assert parsing.condition_hits(language, data) == boundary_checked_hits(language, data), repr(text)


def screen_by_type_names(language: str, text: str, root) -> dict:
    """The screen as it was written first: node types compared as strings on every node."""
    data = text.encode()
    spans, code_rows, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        kind = node.type
        if kind in parsing.FUNCTION_NODES:
            named = kind in parsing.NAMED_FUNCTIONS and node.child_by_field_name("body") is not None
            spans.append((node.start_byte, node.end_byte, named))
            code_rows.add(node.start_point[0])
        elif "comment" in kind or "string" in kind:
            continue
        elif node.child_count == 0:
            if node.end_byte > node.start_byte:
                code_rows.add(node.start_point[0])
        else:
            stack.extend(node.children)
    hits = boundary_checked_hits(language, data)
    inside = [bisect_left(hits, end) - bisect_left(hits, start) for start, end, _ in spans]
    return {"functions": sum(named for _, _, named in spans), "total_decisions": len(hits),
            "max_decisions": max([*inside, len(hits) - sum(inside)]),
            "nonblank_lines": len([line for line in text.splitlines() if line.strip()]),
            "code_lines": len(code_rows)}


SNIPPETS = {
    "python": [p.read_text() for p in SAMPLE] + ["def f(): pass\nclass A:\n    x = 1  # c\n    def g(self):\n"
                                                 "        '''doc'''\n        return [i for i in range(3) if i]\n"],
    "javascript": ["const f = (a) => a && b;\nfunction g() {\n  return `x ${() => 1}`;\n}\n// c\nlet o = {m() {}};\n"],
    "typescript": ["abstract class A { abstract m(): void; n(x: number) { return x ?? 1; } }\nconst f = () => 2;\n"],
    "java": ["abstract class A {\n  abstract int m();\n  int f(int x) {\n    if (x > 1 || x < 0) return 1;\n"
             "    return 0;\n  }\n}\n"],
    "c": ["/* c */\nint f(int x) {\n  if (x && 1) return 2;\n  return x ? 1 : 0;\n}\nint y = 3;\n"],
    "cpp": ["template <class T> T f(T x) { auto g = [](int y) { return y; }; return x; }\n"],
    "cs": ["class A {\n  int F(int x) {\n    return x > 0 ? 1 : 0;\n  }\n  void G() { int L() => 1; }\n}\n"],
    "go": ["package m\nfunc f(x int) int {\n  g := func() int { return 1 }\n  if x > 0 && x < 9 { return g() }\n"
           "  return 0\n}\n"],
    "rust": ["fn f(x: i32) -> i32 {\n    let g = |y| y + 1;\n    if x > 0 || x < -1 { g(x) } else { 0 }\n}\n"],
}


@pytest.mark.parametrize("language", sorted(SNIPPETS))
def test_screen_by_kind_id_equals_the_screen_by_type_name(language):
    from tree_sitter_language_pack import get_parser

    parser = get_parser(parsing.tree_sitter_name(language))
    for text in SNIPPETS[language]:
        root = parser.parse(text.encode()).root_node
        assert not root.has_error
        assert parsing.screen(language, text, root) == screen_by_type_names(language, text, root)


# ---- parser worker ---------------------------------------------------------------------------------------------

def test_parser_worker_gets_the_very_text_and_answers_every_file():
    texts = ["x = 1\n", "日本語のコメント\r\n", "", "a\0b", "tab\there\x0c\u2028", "lone \ud800 surrogate",
             "é" * 70_000]
    worker = ParserProcess("tests.data.worker_echo:echo")
    try:
        answers = worker.ask_many([("python", t) for t in texts], timeout=30)
        assert answers == [{"language": "python", "text": t, "length": len(t)} for t in texts]
        assert worker.ask("lang with space", "y", timeout=30)["language"] == "lang with space"
    finally:
        worker.close()
    worker = ParserProcess("tests.data.worker_echo:echo_str")  # answers that are JSON strings are answers too
    try:
        assert worker.ask_many([("a", "1"), ("b", "2"), ("c", "3")], timeout=30) == ["a:1", "b:2", "c:3"]
    finally:
        worker.close()


def test_a_lone_surrogate_crashes_the_real_parser_as_before():
    """tree-sitter gets UTF-8, which a lone surrogate has not: that file is dropped, the next one is parsed."""
    worker = ParserProcess("jacode.data.parsing:parse")
    try:
        answers = worker.ask_many([("python", "x = '\ud800'\n"), ("python", "y = 2\n")], timeout=30)
        assert answers[0] == "parser_crash" and answers[1]["tree_sitter"] is True
    finally:
        worker.close()


# ---- writer ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("document", [
    Document(text="x = 1\n", id="a.py", metadata={"path": "a.py", "size_bytes": 6, "ratio": 0.5, "ok": True,
                                                   "none": None, "nested": {"k": [1, "two", {"three": 3.0}]},
                                                   "empty": {}, "list": []}),
    Document(text="", id="empty", metadata={"language": "python"}),
    Document(text="t", id="tuple", metadata={"pair": (1, 2), "set_like": [(3, 4)]}),  # asdict's own rules
    Document(text="t", id="no-metadata"),
])
def test_writer_record_equals_datatrove_record(tmp_path, document):
    writer = GzipJsonlWriter(str(tmp_path))
    assert writer._default_adapter(document) == JsonlWriter._default_adapter(writer, document)
