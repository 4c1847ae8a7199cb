import sys


def settle(column: str) -> str:
    # Walls split the column into independent pieces; in each piece the stones gather at the bottom.
    pieces = []
    for piece in column.split("#"):
        stones = piece.count("o")
        pieces.append("." * (len(piece) - stones) + "o" * stones)
    return "#".join(pieces)


def main() -> None:
    data = sys.stdin.buffer.read().split()
    h = int(data[0])
    grid = [row.decode() for row in data[2:2 + h]]
    columns = [settle("".join(col)) for col in zip(*grid)]
    sys.stdout.write("\n".join("".join(row) for row in zip(*columns)) + "\n")


if __name__ == "__main__":
    main()
