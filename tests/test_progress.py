"""Progress on long work: plain lines with rate and ETA off a terminal, and `jacode run` showing a running stage's
latest log line."""

from __future__ import annotations

import io
import subprocess
import sys

from jacode.progress import LogProgress, progress


def test_log_progress_prints_rate_and_eta_lines_not_carriage_returns(monkeypatch):
    out = io.StringIO()
    bar = LogProgress(10, "generate humaneval", "sample", every=0, stream=out)
    for _ in range(4):
        bar.update(1)
    bar.set_postfix(loss="1.234")
    bar.update(6)
    bar.close()  # nothing new since the last line: not printed again
    lines = out.getvalue().splitlines()
    assert len(lines) == 5 and "\r" not in out.getvalue()
    assert lines[0].startswith("generate humaneval: 1/10 samples (10%), ") and "samples/s" in lines[0]
    assert "ETA" in lines[3] and "ETA" not in lines[-1] and lines[-1].startswith("generate humaneval: 10/10 samples")
    assert lines[-1].endswith("(loss 1.234)")
    quiet = io.StringIO()
    with LogProgress(100, "execute", "sample", every=3600, stream=quiet) as slow:
        for _ in range(50):
            slow.update()
    assert quiet.getvalue().count("\n") == 1 and "50/100" in quiet.getvalue()  # only the closing line
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert isinstance(progress(3, "judging"), LogProgress)  # not a terminal: log lines, never a tqdm bar


def test_the_runner_shows_a_running_stage_s_latest_log_line(tmp_path, monkeypatch):
    from jacode import recipe

    monkeypatch.setattr(recipe, "PROGRESS_EVERY_S", 0.2)
    log = tmp_path / "stage.log"
    code = ("import sys, time\n"
            "for i in range(6):\n"
            "    sys.stdout.write(f'\\rjudging: {i}/6 judgments'); sys.stdout.flush(); time.sleep(0.25)\n")
    with open(log, "w") as f:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=f)
        seen: list[str] = []
        assert recipe.follow(proc, log, "compare", seen.append) == 0
    assert seen and all(s.startswith("  compare ") for s in seen)
    assert any("judging: " in s and "/6 judgments" in s for s in seen)  # the bar's latest state, not "" or a \r
    assert recipe.last_line(log) == "judging: 5/6 judgments"
