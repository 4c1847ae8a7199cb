import math
import sys


def main() -> None:
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    d = list(map(int, data[1:2 * n + 1:2]))
    v = list(map(int, data[2:2 * n + 2:2]))
    total_time = math.fsum(a / b for a, b in zip(d, v))
    print(f"{sum(d) / total_time:.10f}")


if __name__ == "__main__":
    main()
