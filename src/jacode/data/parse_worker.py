"""A parser worker process (`python -m jacode.data.parse_worker MODULE:FUNCTION`) and its client, ParserProcess.

A request is a line "<count>\\n" followed by that many files, each a line "<bytes> <language as JSON>\\n" and
the file's text in UTF-8 (lone surrogates passed through, so the worker gets the very str the client had). The
worker reads the whole request, then answers each file with "<length>\\n<json>" (the parse function's result)
as soon as it is parsed, so that the client still times each file on its own and knows which file a crash or a
hang belongs to. One round trip per batch instead of per file saves most of the inter-process cost on small
files, and raw text instead of JSON strings saves escaping and unescaping every character. It runs in its own
process so that a parser bug (a segfault in a C grammar, an endless parse) kills only this worker, never the
pipeline; see syntax.py.
"""

import importlib
import json
import os
import select
import subprocess
import sys
import time


class ParserProcess:
    """One worker process; `ask` returns the parse result, or a reason string when the worker died or hung."""

    def __init__(self, parser: str):
        self.parser = parser
        self.proc: subprocess.Popen | None = None
        self._buf = bytearray()  # read from the worker, not yet consumed

    def _start(self) -> None:
        self._buf = bytearray()
        self.proc = subprocess.Popen([sys.executable, "-m", "jacode.data.parse_worker", self.parser],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if self._read_line(30) != b"ready\n":
            self.close()
            raise RuntimeError(f"parser worker {self.parser} did not start")

    def _read_line(self, timeout: float) -> bytes | None:
        """The next line from the worker; None when none came within `timeout`, b"" when the worker is gone.
        Reads the pipe in chunks into self._buf (with a batch in flight, answers follow each other in the pipe)."""
        fd, deadline = self.proc.stdout.fileno(), time.monotonic() + timeout
        while (end := self._buf.find(b"\n")) < 0:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b""
            self._buf += chunk
        line = bytes(self._buf[:end + 1])
        del self._buf[:end + 1]
        return line

    def _read_exact(self, n: int) -> bytes:
        fd = self.proc.stdout.fileno()
        while len(self._buf) < n:
            chunk = os.read(fd, max(n - len(self._buf), 1 << 16))
            if not chunk:
                break
            self._buf += chunk
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def _send(self, items: list[tuple[str, str]]) -> bool:
        """Writes one request; False when the worker is gone."""
        parts = [b"%d\n" % len(items)]
        for language, text in items:
            data = text.encode("utf-8", "surrogatepass")
            parts += [b"%d %s\n" % (len(data), json.dumps(language).encode()), data]
        try:
            self.proc.stdin.write(b"".join(parts))
            self.proc.stdin.flush()
            return True
        except BrokenPipeError:
            self.close()
            return False

    def _answer(self, timeout: float) -> tuple[bool, dict | str]:
        """(True, the next file's answer), or (False, the reason the worker gave none; it is closed then)."""
        header = self._read_line(timeout)
        if not header:
            self.close()
            return False, "parser_timeout" if header is None else "parser_crash"
        return True, json.loads(self._read_exact(int(header)))

    def ask(self, language: str, text: str, timeout: float) -> dict | str:
        return self.ask_many([(language, text)], timeout)[0]

    def ask_many(self, items: list[tuple[str, str]], timeout: float) -> list[dict | str]:
        """`ask` for each (language, text), one round trip for all: the same results, including a reason string
        for the file that crashed or hung the worker (the files after it go to a fresh worker)."""
        results: list[dict | str] = []
        while len(results) < len(items):
            rest = items[len(results):]
            if self.proc is None or self.proc.poll() is not None:
                self._start()
            if not self._send(rest):
                results.append("parser_crash")
                continue
            for _ in rest:  # each file has its own timeout, from the previous file's answer
                answered, result = self._answer(timeout)
                results.append(result)
                if not answered:
                    break
        return results

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            for f in (self.proc.stdin, self.proc.stdout):
                f.close()
            self.proc = None


def main() -> None:
    module, func = sys.argv[1].split(":")
    sys.path.insert(0, os.getcwd())  # parsers given by tests live in the project tree
    parse = getattr(importlib.import_module(module), func)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(b"ready\n")
    stdout.flush()
    while True:
        header = stdin.readline()
        if not header:
            return
        files = []
        for _ in range(int(header)):  # the whole request first: answers never wait on the client's writing
            size, language = stdin.readline().split(b" ", 1)
            files.append((json.loads(language), stdin.read(int(size)).decode("utf-8", "surrogatepass")))
        for language, text in files:
            resp = json.dumps(parse(language, text)).encode()
            stdout.write(b"%d\n" % len(resp) + resp)
            stdout.flush()


if __name__ == "__main__":
    main()
