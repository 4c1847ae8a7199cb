"""Judge requests in flight: 160 judgments against an OpenAI-compatible judge that answers after 200 ms.

Sequential judging would take 160 × 0.2 s = 32 s. jacode sends one round of judgments to the engine together
(jacode.evals.ja.judge.judge_all, used by jmt-bench and elyza-tasks); the openai engine keeps `concurrency`
requests in flight. The judge is tests/support/servers.py's real HTTP server on 127.0.0.1.

    python benchmarks/bench_judge.py
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jacode.engines import make_engine  # noqa: E402
from jacode.evals.ja.judge import JudgeRequest, judge_all, rating_parser  # noqa: E402
from tests.support.servers import ScriptedServer  # noqa: E402

N, DELAY = 160, 0.2


def main() -> None:
    server = ScriptedServer(default=("ok", "理由。評価：[[7]]"), delay=DELAY)
    print(f"{platform.machine()}, {os.cpu_count()} cores; {N} judgments, judge latency {DELAY * 1000:.0f} ms; "
          f"sequential would take {N * DELAY:.0f} s")
    print("| concurrency | seconds (median of 3) | vs sequential 32 s |")
    print("|---:|---:|---:|")
    try:
        for concurrency in (8, 16, 32):
            engine = make_engine("openai", endpoint=server.url, model_name="judge", concurrency=concurrency)
            times = []
            for _ in range(3):
                reqs = [JudgeRequest(key=str(i), system=None, prompt=f"質問{i}") for i in range(N)]
                t = time.perf_counter()
                res = judge_all(engine, reqs, rating_parser(1, 10))
                times.append(time.perf_counter() - t)
                assert all(r["rating"] == 7 for r in res.values())
            engine.close()
            s = statistics.median(times)
            print(f"| {concurrency} | {s:.2f} | {s / (N * DELAY):.3f}× ({N * DELAY / s:.1f}× faster) |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
