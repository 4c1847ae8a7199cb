import sys
from collections import Counter


def main() -> None:
    s = sys.stdin.buffer.read().split()[0].decode()
    n = len(s)
    cnt = Counter(s)
    if max(cnt.values()) > (n + 1) // 2:
        print(-1)
        return
    # Most frequent letter first; fill positions 0, 2, 4, ... and then 1, 3, 5, ...
    seq = "".join(ch * c for ch, c in sorted(cnt.items(), key=lambda kv: -kv[1]))
    evens = (n + 1) // 2
    res = [""] * n
    res[0::2] = seq[:evens]
    res[1::2] = seq[evens:]
    print("".join(res))


if __name__ == "__main__":
    main()
