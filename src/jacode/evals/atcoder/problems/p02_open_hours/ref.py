import sys


def main() -> None:
    s, t, x = map(int, sys.stdin.buffer.read().split())
    if s < t:
        is_open = s <= x < t
    else:
        is_open = x >= s or x < t
    print("Yes" if is_open else "No")


if __name__ == "__main__":
    main()
