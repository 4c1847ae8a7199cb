"""The synth client's own CPU per request vs requests in flight (the openai engine's thread per request).

bench_synth_scale.py's stand-in server (50 ms per answer, 512 at once, distinct texts) in its own process; the
client is jacode's synth generation loop (`resumable`, behind synth magpie/persona responses) asking for 4,096
responses (n=4 each) at each concurrency. Client CPU = user + system time of this process (the server's is not
counted).

    python benchmarks/bench_synth_client_cpu.py
"""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from jacode.engines import Request, SamplingParams, make_engine  # noqa: E402
from jacode.synth.generate import resumable  # noqa: E402

N = 4096


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    server = subprocess.Popen([sys.executable, str(REPO / "benchmarks" / "bench_synth_scale.py"), "--serve"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = server.stdout.readline().strip()
    print(f"{platform.machine()}, {os.cpu_count()} cores; server 50 ms per answer, 512 at once; {N} requests")
    print("| concurrency | requests/s | ideal (latency-bound) | client CPU ms/request |")
    print("|---:|---:|---:|---:|")
    slots = [{"id": i, "instruction": f"質問{i}"} for i in range(N)]
    try:
        for concurrency in (16, 32, 64, 128):
            engine = make_engine("openai", endpoint=url, model_name="m", concurrency=concurrency)
            with tempfile.TemporaryDirectory() as tmp:
                c0, t0 = cpu_s(), time.perf_counter()
                resumable(engine, slots, lambda s: Request(messages=[{"role": "user", "content": s["instruction"]}],
                                                           n=4),
                          SamplingParams(max_new_tokens=16), Path(tmp) / "r.jsonl",
                          lambda s, cs: {"id": s["id"], "text": [c.text for c in cs]}, batch_size=512, desc="bench")
                wall, cpu = time.perf_counter() - t0, cpu_s() - c0
            engine.close()
            print(f"| {concurrency} | {N / wall:.0f} | {min(concurrency, 512) / 0.05:.0f} | {cpu / N * 1000:.2f} |")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
