"""Checker for p11_multiple_of_n: python3 checker.py INPUT EXPECTED OUTPUT; exit 0 = accepted, 1 = rejected."""

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
    n = int(data[0])
    a = [int(x) for x in data[1:1 + n]]
    toks = out.split()
    if not toks:
        raise Reject("empty output")
    k = to_int(toks[0])
    if not 1 <= k <= n:
        raise Reject(f"need 1 <= k <= N, got k={k}")
    if len(toks) != k + 1:
        raise Reject(f"expected {k} indices after k, got {len(toks) - 1}")
    used = [False] * (n + 1)
    total = 0
    for tok in toks[1:]:
        i = to_int(tok)
        if not 1 <= i <= n:
            raise Reject(f"index {i} out of range")
        if used[i]:
            raise Reject(f"index {i} appears twice")
        used[i] = True
        total += a[i - 1]
    if total % n != 0:
        raise Reject(f"sum {total} is not a multiple of N = {n}")


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
