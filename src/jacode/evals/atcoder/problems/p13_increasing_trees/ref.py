import sys
from bisect import bisect_left


def main() -> None:
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    # tails[k] = smallest possible last height of a strictly increasing choice of k+1 trees
    tails: list[int] = []
    for h in map(int, data[1:1 + n]):
        k = bisect_left(tails, h)
        if k == len(tails):
            tails.append(h)
        else:
            tails[k] = h
    print(len(tails))


if __name__ == "__main__":
    main()
