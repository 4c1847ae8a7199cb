import sys


def main() -> None:
    data = sys.stdin.buffer.read().split()
    n, k = int(data[0]), int(data[1])
    first: dict[int, int] = {}
    for j, x in enumerate(map(int, data[2:2 + n]), start=1):
        i = first.get(k - x)
        if i is not None:
            print(i, j)
            return
        if x not in first:
            first[x] = j
    print(-1)


if __name__ == "__main__":
    main()
