import sys


def main() -> None:
    s = sys.stdin.buffer.read().split()[0]
    # sum() over bytes adds the ASCII codes; subtract ord("0") per digit.
    print(sum(s) - 48 * len(s))


if __name__ == "__main__":
    main()
