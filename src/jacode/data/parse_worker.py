"""A parser worker process: `python -m jacode.data.parse_worker MODULE:FUNCTION`.

Reads "<length>\\n<json {language, text}>" requests on stdin, answers "<length>\\n<json>" with the parse
function's result. It runs in its own process so that a parser bug (a segfault in a C grammar, an endless
parse) kills only this worker, never the pipeline; see syntax.py.
"""

import importlib
import json
import os
import sys


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
