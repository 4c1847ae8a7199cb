"""A parser worker process (`python -m jacode.data.parse_worker MODULE:FUNCTION`) and its client, ParserProcess.

Reads "<length>\\n<json {language, text}>" requests on stdin, answers "<length>\\n<json>" with the parse
function's result. It runs in its own process so that a parser bug (a segfault in a C grammar, an endless
parse) kills only this worker, never the pipeline; see syntax.py.
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

    def _start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "jacode.data.parse_worker", self.parser],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if self._read_line(30) != b"ready\n":
            self.close()
            raise RuntimeError(f"parser worker {self.parser} did not start")

    def _read_line(self, timeout: float) -> bytes | None:
        fd, line, deadline = self.proc.stdout.fileno(), b"", time.monotonic() + timeout
        while not line.endswith(b"\n"):
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
            ch = os.read(fd, 1)
            if not ch:
                return b""
            line += ch
        return line

    def ask(self, language: str, text: str, timeout: float) -> dict | str:
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        data = json.dumps({"language": language, "text": text}).encode()
        try:
            self.proc.stdin.write(b"%d\n" % len(data) + data)
            self.proc.stdin.flush()
        except BrokenPipeError:
            self.close()
            return "parser_crash"
        header = self._read_line(timeout)
        if header is None:
            self.close()
            return "parser_timeout"
        if not header:
            self.close()
            return "parser_crash"
        return json.loads(self.proc.stdout.read(int(header)))

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
        req = json.loads(stdin.read(int(header)))
        resp = json.dumps(parse(req["language"], req["text"])).encode()
        stdout.write(b"%d\n" % len(resp) + resp)
        stdout.flush()


if __name__ == "__main__":
    main()
