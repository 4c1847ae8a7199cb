import sys


def main() -> None:
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    tree = [0] * (n + 1)  # Fenwick tree over runner numbers already finished
    inversions = 0
    for done, x in enumerate(map(int, data[1:1 + n])):
        # runners that finished before x and have a smaller number
        smaller = 0
        i = x
        while i:
            smaller += tree[i]
            i &= i - 1
        inversions += done - smaller
        i = x
        while i <= n:
            tree[i] += 1
            i += i & -i
    print(inversions)


if __name__ == "__main__":
    main()
