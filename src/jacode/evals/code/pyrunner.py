"""Runs inside the sandbox: execute one Python program and report how it ended.

Started as `python -I pyrunner.py PROGRAM FD` with the run token readable once on file descriptor FD. The
token is never in the program's files or environment, so a program that exits early (sys.exit(0),
os._exit(0), a killed interpreter) cannot print it: only reaching the end of the checks does.
The report is the last line of stdout: "<token> <repr of (status, detail)>" (repr, not json: importing
json would add milliseconds to every one of thousands of runs).
"""

import os
import sys


def execute_program(path: str, source: str, token: str) -> None:
    """Run `source` as __main__, then write the report line to fd 1 and exit. Never returns."""
    sys.argv = [path]
    sys.path.insert(0, os.path.dirname(path))
    status, detail = "pass", ""
    try:
        code = compile(source, path, "exec")
        exec(code, {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__})
    except SystemExit as e:  # sys.exit() before or inside the checks: the checks did not finish
        status, detail = "exit", f"SystemExit({e.code!r})"
    except AssertionError as e:
        status, detail = "fail", f"AssertionError: {e}"[:500]
    except MemoryError:
        status, detail = "memory", "MemoryError"
    except BaseException as e:  # noqa: BLE001 - any other way the program ended is an error verdict
        status, detail = "error", f"{type(e).__name__}: {e}"[:500]
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - a closed/filled stdout must not block the report
        pass
    os.write(1, f"\n{token} {(status, detail)!r}\n".encode())
    os._exit(0)


def main() -> None:
    fd = int(sys.argv[2])
    token = os.read(fd, 256).decode()
    os.close(fd)
    path = sys.argv[1]
    with open(path, encoding="utf-8") as f:
        source = f.read()
    execute_program(path, source, token)


if __name__ == "__main__" and sys.argv[0] != "-c":  # with -c, this file is the fork server's prelude
    main()
