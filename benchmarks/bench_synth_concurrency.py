"""Synthetic-data generation throughput vs requests in flight, against an OpenAI-compatible server.

The server (tests/support/servers.py, real HTTP on 127.0.0.1) answers every request after a fixed 200 ms and serves at
most 32 at once (its capacity, like a GPU server's batch). jacode's synth route (`resumable` in
jacode.synth.generate, the loop behind magpie/persona responses) asks for one response per slot through the
openai engine at concurrency 1, 8 and 64. Ideal responses/s = min(concurrency, capacity) / 0.2 s.

    python benchmarks/bench_synth_concurrency.py
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jacode.engines import Request, SamplingParams, make_engine  # noqa: E402
from jacode.synth.generate import resumable  # noqa: E402
from tests.support.servers import ScriptedServer  # noqa: E402

DELAY, CAPACITY = 0.2, 32


def main() -> None:
    server = ScriptedServer(default=("ok", "回答です。"), delay=DELAY, capacity=CAPACITY)
    print(f"{platform.machine()}, {os.cpu_count()} cores; server: {DELAY * 1000:.0f} ms per request, "
          f"capacity {CAPACITY}")
    print("| concurrency | responses | seconds | responses/s | ideal | share of ideal |")
    print("|---:|---:|---:|---:|---:|---:|")
    try:
        for concurrency, n in ((1, 40), (8, 160), (64, 640)):
            engine = make_engine("openai", endpoint=server.url, model_name="m", concurrency=concurrency)
            slots = [{"id": i, "instruction": f"質問{i}"} for i in range(n)]
            with tempfile.TemporaryDirectory() as tmp:
                t = time.perf_counter()
                done = resumable(engine, slots, lambda s: Request(messages=[{"role": "user",
                                                                             "content": s["instruction"]}]),
                                 SamplingParams(max_new_tokens=16), Path(tmp) / "r.jsonl",
                                 lambda s, cs: {"id": s["id"], "text": cs[0].text}, batch_size=n, desc="bench")
                seconds = time.perf_counter() - t
            engine.close()
            assert len(done) == n
            rate, ideal = n / seconds, min(concurrency, CAPACITY) / DELAY
            print(f"| {concurrency} | {n} | {seconds:.2f} | {rate:.1f} | {ideal:.0f} | {rate / ideal:.0%} |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
