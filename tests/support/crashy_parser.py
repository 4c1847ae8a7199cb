"""A deliberately broken parser for the crash-isolation test: a real segfault and a real hang."""

import ctypes

from jacode.data.syntax import parse as real_parse


def parse(language: str, text: str) -> dict:
    if "SEGFAULT_ME" in text:
        ctypes.string_at(0)  # reads address 0: SIGSEGV in this worker process
    if "HANG_ME" in text:
        while True:
            pass
    return real_parse(language, text)
