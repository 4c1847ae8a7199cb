"""A 100,000-instruction Magpie job with 4 responses each through `jacode synth magpie --endpoint`, killed part way
and resumed: does it stream to disk, resume without losing or repeating work, show progress, and what does it cost
on the client side?

The server (tests/support/servers.py's real HTTP server on 127.0.0.1, in its own process) stands in for a vLLM
server: every answer comes after a fixed latency, at most CAPACITY at once, each instruction and response distinct
(Japanese text built from a word list, so that the filters and the near-dedup see realistic unique inputs).
The client is the real command, as a user runs it; the figures are its wall time, its peak memory and its
requests/s.

    python benchmarks/bench_synth_scale.py --n 100000
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KANJI = ("日本語学習関数配列辞書文字列整数再帰例外型引数戻値探索木図表集計重複最大小平均素数行列動的計画貪欲暗号圧縮"
         "入出力並列非同期接続設定検証変換時刻記録検索分割結合削除追加更新保存読込書込処理結果条件範囲順序比較")
PARTICLES = ("を", "の", "で", "と", "に", "から", "より", "まで")
LATENCY, CAPACITY = 0.05, 512


def words(rng: random.Random, k: int) -> str:
    """k random two-kanji words joined by particles: distinct texts that share few character 3-grams."""
    return "".join(rng.choice(KANJI) + rng.choice(KANJI) + rng.choice(PARTICLES) for _ in range(k))




def serve() -> None:
    """The stand-in server (run as `--serve`): prints its URL, serves until killed."""
    from tests.support.servers import ScriptedServer

    counter = itertools.count()

    def responder(path: str, body: dict):
        if path.endswith("/completions") and "chat" not in path:  # Magpie's pre-query template: a new instruction
            rng = random.Random(next(counter))
            return f"{words(rng, 12)}処理する関数を書いてください。"
        question = body["messages"][-1]["content"]
        rng = random.Random(question)
        return [f"回答{i}: " + "。".join(words(rng, 8) + "確認します" for _ in range(6)) + "。"
                for i in range(body.get("n", 1))]

    server = ScriptedServer(responder=responder, delay=LATENCY, capacity=CAPACITY)
    server.requests = type("Discard", (), {"append": lambda self, x: None})()  # 200k requests: keep none
    print(server.url, flush=True)
    signal.sigwait([signal.SIGTERM])


def count_lines(path: Path) -> int:
    try:
        with path.open("rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--responses", type=int, default=4)
    ap.add_argument("--concurrency", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--kill-at", type=float, default=0.3, help="share of instructions written when the run is killed")
    args = ap.parse_args()
    if args.serve:
        return serve()

    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True,
                              stderr=subprocess.DEVNULL)  # a killed client resets its connections: noise
    url = server.stdout.readline().strip()
    work = Path(tempfile.mkdtemp(prefix="synth-scale-"))
    subprocess.run([sys.executable, "-m", "jacode", "model", "init", "--size", "tiny", "--out", str(work / "model")],
                   check=True, capture_output=True)
    out = work / "out"
    command = ["/usr/bin/time", "-f", "maxrss_kb=%M", sys.executable, "-m", "jacode", "synth", "magpie", "--endpoint",
               url, "--model-name", "m", "--chat-template-from", str(work / "model"), "--out", str(out), "--n",
               str(args.n), "--responses", str(args.responses), "--system", "coding", "--max-new-tokens", "512",
               "--concurrency", str(args.concurrency), "--batch-size", str(args.batch_size)]
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; server latency "
          f"{LATENCY * 1000:.0f} ms, capacity {CAPACITY}; n={args.n}, responses={args.responses}, "
          f"concurrency={args.concurrency}, batch={args.batch_size}; work dir {work}")
    try:
        # 1. killed part way through the instructions
        t0 = time.perf_counter()
        with (work / "first.log").open("w") as log:
            proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            target = int(args.n * args.kill_at)
            while proc.poll() is None and count_lines(out / "instructions.jsonl") < target:
                time.sleep(0.5)
            if proc.poll() is not None:
                sys.exit(f"the run ended before it could be killed:\n{(work / 'first.log').read_text()[-3000:]}")
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        first = time.perf_counter() - t0
        instructions, responses_before = count_lines(out / "instructions.jsonl"), count_lines(out / "responses.jsonl")
        print(f"killed after {first:.1f} s: {instructions} instructions, {responses_before} response records")
        # 2. the same command again
        t0 = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        second = time.perf_counter() - t0
        if done.returncode != 0:
            sys.exit(f"resumed run failed:\n{done.stderr[-3000:]}")
        rss = int(re.findall(r"maxrss_kb=(\d+)", done.stderr)[-1]) / 1024
        ids = [json.loads(line)["id"] for line in (out / "responses.jsonl").open()]
        stats = json.loads((out / "stats.json").read_text())
        kept = stats["instructions"]["kept"]
        requests = args.n + kept  # one per instruction, one (n choices) per kept instruction
        progress = [line for line in (work / "first.log").read_text().splitlines() + done.stderr.splitlines()
                    if " ETA " in line or "/s" in line and "%" in line]
        print(f"resumed run: {second:.1f} s, peak RSS {rss:.0f} MiB")
        print(f"response records: {len(ids)}, unique ids {len(set(ids))}, kept instructions {kept}; "
              f"candidates {stats['candidates']}; instruction reasons {stats['instructions']}")
        print(f"total {first + second:.1f} s for {requests} requests ({args.n + kept * args.responses} texts): "
              f"{requests / (first + second):.0f} requests/s, ideal min(concurrency, capacity)/latency = "
              f"{min(args.concurrency, CAPACITY) / LATENCY:.0f}")
        print("progress lines (first and last of each run):")
        for line in progress[:2] + progress[-2:]:
            print("   ", line.strip()[:160])
        assert len(ids) == len(set(ids)) == kept, "lost or repeated work"
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
