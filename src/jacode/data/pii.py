"""Secrets and PII scrubbing: e-mail addresses, IP addresses, API keys and private keys become placeholders."""

from __future__ import annotations

import re

from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep

RULES: list[tuple[str, re.Pattern]] = [
    ("<PRIVATE_KEY>", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S)),
    ("<API_KEY>", re.compile(r"\b(?:sk-[A-Za-z0-9_-]{20,}|ghp_[A-Za-z0-9]{36}|gh[ousr]_[A-Za-z0-9]{36}|"
                             r"AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|xox[baprs]-[A-Za-z0-9-]{10,})\b")),
    ("<EMAIL>", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")),
    # IPv4 with valid octets; 0.0.0.0, 127.x and version-like strings with fewer parts are not addresses to hide.
    ("<IP_ADDRESS>", re.compile(r"\b(?!127\.)(?!0\.0\.0\.0\b)(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}"
                                r"(?:25[0-5]|2[0-4]\d|1?\d?\d)\b")),
]

# For each rule, a cheap test that every match passes, so that most files skip the rule's own scan (a leading \b
# and backtracking over every word: ~1 s per 30 MB each). The tests look for a literal first ("@", ".", a key's
# prefix), which the regex engine finds fast, then check the character before it.
_GITHUB_KEY = re.compile(r"gh[pousr]_")
_EMAIL_DOMAIN = re.compile(r"@[A-Za-z0-9.-]+\.[A-Za-z]{2}")  # no "@" inside: a match never hides the next "@"
_EMAIL_LOCAL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-")
_IP_TAIL = re.compile(r"\.(?=\d{1,3}\.\d{1,3}\.\d)")  # one character long: every candidate dot is seen


def _may_be_email(t: str) -> bool:
    return "@" in t and any(m.start() > 0 and t[m.start() - 1] in _EMAIL_LOCAL for m in _EMAIL_DOMAIN.finditer(t))


def _may_be_ip(t: str) -> bool:  # `\d` of a str pattern is a Unicode decimal digit, as str.isdecimal
    return any(m.start() > 0 and t[m.start() - 1].isdecimal() for m in _IP_TAIL.finditer(t))


MAY_MATCH = {
    "<PRIVATE_KEY>": lambda t: "PRIVATE KEY-----" in t,
    "<API_KEY>": lambda t: ("sk-" in t or "AKIA" in t or "AIza" in t or "xox" in t
                            or _GITHUB_KEY.search(t) is not None),
    "<EMAIL>": _may_be_email,
    "<IP_ADDRESS>": _may_be_ip,
}

def scrub(text: str) -> tuple[str, dict[str, int]]:
    counts: dict[str, int] = {}
    for placeholder, pattern in RULES:
        may_match = MAY_MATCH.get(placeholder)
        if may_match is not None and not may_match(text):
            continue
        text, n = pattern.subn(placeholder, text)
        if n:
            counts[placeholder] = n
    return text, counts


class PIIScrubber(PipelineStep):
    name = "🔒 PII scrubber"
    type = "✂️ - FORMAT"

    def run(self, data, rank: int = 0, world_size: int = 1):
        for doc in data:
            doc.text, counts = scrub(doc.text)
            for placeholder, n in counts.items():
                self.stat_update(f"replaced_{placeholder.strip('<>').lower()}", value=n)
            yield doc

    def process(self, doc: Document) -> Document:
        doc.text, _ = scrub(doc.text)
        return doc
