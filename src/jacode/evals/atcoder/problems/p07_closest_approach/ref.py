import math
import sys


def main() -> None:
    data = list(map(int, sys.stdin.buffer.read().split()))
    t = data[0]
    out = []
    for c in range(t):
        x1, y1, u1, v1, x2, y2, u2, v2 = data[1 + 8 * c:9 + 8 * c]
        dx, dy = x2 - x1, y2 - y1  # relative position at time 0
        wx, wy = u2 - u1, v2 - v1  # relative velocity
        if dx * wx + dy * wy >= 0:  # not approaching (or not moving): closest at t = 0
            r = math.hypot(dx, dy)
        else:  # distance from the origin to the line d + t w, reached at some t > 0
            r = abs(dx * wy - dy * wx) / math.hypot(wx, wy)
        out.append(f"{r:.10f}")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
