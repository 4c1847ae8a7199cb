import sys

MOD = 998244353


def main() -> None:
    n, k = map(int, sys.stdin.buffer.read().split())
    # a[i + 1] = number of valid sequences of i days (a[0] stands for i = -1 and is 1).
    # Appending a day to a valid sequence of i-1 days breaks validity only when it creates a rainy run
    # of exactly k+1 days: (valid sequence of i-k-2 days) + sunny + rain * (k+1).
    a = [0] * (n + 2)
    a[0] = 1
    a[1] = 1
    for i in range(1, min(k, n) + 1):
        a[i + 1] = a[i] * 2 % MOD
    for i in range(k + 1, n + 1):
        a[i + 1] = (2 * a[i] - a[i - k - 1]) % MOD
    print(a[n + 1])


if __name__ == "__main__":
    main()
