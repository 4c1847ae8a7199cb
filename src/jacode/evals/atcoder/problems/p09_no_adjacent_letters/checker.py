"""Checker for p09_no_adjacent_letters: python3 checker.py INPUT EXPECTED OUTPUT; exit 0 = accepted, 1 = rejected."""

import sys
from collections import Counter


class Reject(Exception):
    pass


def check(inp: bytes, exp: bytes, out: bytes) -> None:
    s = inp.split()[0]
    exists = exp.split() != [b"-1"]
    toks = out.split()
    if len(toks) != 1:
        raise Reject(f"expected exactly one token, got {len(toks)}")
    t = toks[0]
    if t == b"-1":
        if exists:
            raise Reject("printed -1 but a valid arrangement exists")
        return
    if len(t) != len(s):
        raise Reject(f"length {len(t)} != |S| = {len(s)}")
    if not all(97 <= c <= 122 for c in t):
        raise Reject("output contains a character that is not a lowercase letter")
    if Counter(t) != Counter(s):
        raise Reject("output is not a rearrangement of S")
    for i in range(len(t) - 1):
        if t[i] == t[i + 1]:
            raise Reject(f"T_{i + 1} = T_{i + 2} = {chr(t[i])}")


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
