import sys
from itertools import groupby


def main() -> None:
    s = sys.stdin.buffer.read().split()[0].decode()
    parts = []
    for ch, run in groupby(s):
        parts.append(ch)
        parts.append(str(sum(1 for _ in run)))
    print("".join(parts))


if __name__ == "__main__":
    main()
