"""Checker for p06_pair_sum: python3 checker.py INPUT EXPECTED OUTPUT; exit 0 = accepted, 1 = rejected."""

import re
import sys

INT = re.compile(rb"-?[0-9]{1,19}")


class Reject(Exception):
    pass


def to_int(tok: bytes) -> int:
    if not INT.fullmatch(tok):
        raise Reject(f"not an integer: {tok[:20]!r}")
    return int(tok)


def check(inp: bytes, exp: bytes, out: bytes) -> None:
    data = inp.split()
    n, k = int(data[0]), int(data[1])
    a = [int(x) for x in data[2:2 + n]]
    exists = exp.split() != [b"-1"]
    toks = out.split()
    if len(toks) == 1:
        if to_int(toks[0]) != -1:
            raise Reject("expected '-1' or two integers i j")
        if exists:
            raise Reject("printed -1 but a valid pair exists")
        return
    if len(toks) != 2:
        raise Reject(f"expected 1 or 2 tokens, got {len(toks)}")
    i, j = to_int(toks[0]), to_int(toks[1])
    if not 1 <= i < j <= n:
        raise Reject(f"need 1 <= i < j <= N, got i={i} j={j}")
    if a[i - 1] + a[j - 1] != k:
        raise Reject(f"A_i + A_j = {a[i - 1] + a[j - 1]} != K = {k}")


def main() -> int:
    try:
        paths = sys.argv[1:4]
        if len(paths) != 3:
            print("usage: checker.py INPUT EXPECTED OUTPUT")
            return 1
        inp, exp, out = (open(p, "rb").read() for p in paths)
        check(inp, exp, out)
    except Reject as e:
        print(f"WA: {e}")
        return 1
    except Exception as e:  # malformed files must never crash the checker
        print(f"WA: could not check output ({type(e).__name__})")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
