import sys


def main() -> None:
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    a = data[1:1 + n]
    # Among the N+1 prefix sums S_0, ..., S_N two are congruent mod N (pigeonhole);
    # the segment between them has a sum divisible by N.
    seen = [-1] * n
    seen[0] = 0
    s = 0
    for i in range(1, n + 1):
        s = (s + int(a[i - 1])) % n
        if seen[s] >= 0:
            left = seen[s]
            print(i - left)
            print(" ".join(map(str, range(left + 1, i + 1))))
            return
        seen[s] = i
    raise AssertionError("unreachable")


if __name__ == "__main__":
    main()
