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

# For the key rules, a cheap test that every match passes, so that most files skip the rule's own scan (a leading
# \b and backtracking over every word: ~1 s per 30 MB each). The tests look for a key's prefix with regexes that
# start with one literal character, which the regex engine skips to (twice as fast as `in` here).
_KEY_PREFIXES = (re.compile(r"-(?<=sk-)"), re.compile(r"A(?:KIA|Iza)"), re.compile("xox"), re.compile(r"gh[pousr]_"))
MAY_MATCH = {
    "<PRIVATE_KEY>": lambda t: "PRIVATE KEY-----" in t,
    "<API_KEY>": lambda t: any(p.search(t) is not None for p in _KEY_PREFIXES),
}

# E-mail addresses and IP addresses are not scanned for at every position at all: each match has a mark that
# str.find or a one-character regex finds fast ("@"; the dot after the first octet), and it can only start a few
# characters before it. `_subn_at` tries the rule's own regex at those starts only, in order, which gives the
# same matches as `pattern.subn` (a regex's match at a position does not depend on where the scan came from:
# `\b` and lookarounds see the whole string).
_EMAIL_LOCAL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-")
_EMAIL_DOMAIN = re.compile(r"@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")  # the e-mail rule from its "@" on
_IP_TAIL = re.compile(r"\.(?=\d{1,3}\.\d{1,3}\.\d)")  # one character long: every candidate dot is seen


def _email_starts(text: str):
    """Where an e-mail match can start: in the run of local-part characters just before an "@" whose domain part
    matches. The local part is `[...]+` of characters that exclude "@", so from any start in that run it reaches
    exactly this "@", and whether the rest matches does not depend on the start."""
    at = text.find("@")
    while at >= 0:
        if _EMAIL_DOMAIN.match(text, at):
            start = at
            while start > 0 and text[start - 1] in _EMAIL_LOCAL:  # runs end at an "@": O(text) in all
                start -= 1
            yield from range(start, at)
        at = text.find("@", at + 1)


def _ip_starts(text: str):
    """Where an IP match can start: 1 to 3 characters before its first dot, which is a dot after a digit with
    `\\d{1,3}\\.\\d{1,3}\\.\\d` after it (the next octets). `\\d` of a str pattern is str.isdecimal."""
    for m in _IP_TAIL.finditer(text):
        dot = m.start()
        if dot > 0 and text[dot - 1].isdecimal():
            yield from range(max(dot - 3, 0), dot)


STARTS = {"<EMAIL>": _email_starts, "<IP_ADDRESS>": _ip_starts}


def _subn_at(pattern: re.Pattern, placeholder: str, text: str, starts) -> tuple[str, int]:
    """`pattern.subn(placeholder, text)` (a placeholder without escapes) when `starts` yields, in an order that
    never goes back past a position where the pattern matches, every such position (and maybe others)."""
    pieces: list[str] = []
    end = 0
    for start in starts:
        if start >= end and (m := pattern.match(text, start)):
            pieces += (text[end:start], placeholder)
            end = m.end()
    if not pieces:
        return text, 0
    pieces.append(text[end:])
    return "".join(pieces), len(pieces) // 2


def scrub(text: str) -> tuple[str, dict[str, int]]:
    counts: dict[str, int] = {}
    for placeholder, pattern in RULES:
        if (starts := STARTS.get(placeholder)) is not None:
            text, n = _subn_at(pattern, placeholder, text, starts(text))
        elif (may_match := MAY_MATCH.get(placeholder)) is not None and not may_match(text):
            continue
        else:
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
