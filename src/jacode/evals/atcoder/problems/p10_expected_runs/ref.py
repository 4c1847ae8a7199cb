import sys


def main() -> None:
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    p = list(map(int, data[1:1 + n]))
    # A block starts at coin i iff coin i is heads and coin i-1 is tails (or i is the first coin).
    # Linearity of expectation; everything scaled by 100 * 100 stays an exact integer.
    total = p[0] * 100 + sum(p[i] * (100 - p[i - 1]) for i in range(1, n))
    print(f"{total / 10000:.10f}")


if __name__ == "__main__":
    main()
