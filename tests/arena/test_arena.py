"""Arena: a real browser round (headless Chromium), concurrent voters over HTTP, durability across a killed
server, XSS, limits, and Bradley–Terry ratings checked against simulation and a direct likelihood fit."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from jacode.arena.app import build_app, load_models, render_markdown
from jacode.arena.ratings import (
    FALLBACK_PRIOR,
    bradley_terry,
    bt_from_wins,
    leaderboard,
    log_likelihood,
    mle_exists,
    online_elo,
    outcomes,
)
from jacode.arena.report import write_leaderboard
from jacode.arena.store import Store
from tests.support import REPO, chromium_driver
from tests.support.servers import AppServer, ScriptedServer, free_port

EVIL = ("**太字**の回答です。<script>window.pwned = 1</script> <img src=x onerror=\"window.pwned=2\">\n\n"
        "[クリック](javascript:window.pwned=3) と [安全なリンク](https://example.com)")


@pytest.fixture
def arena(tmp_path):
    good = ScriptedServer(default=("ok", "こんにちは。**Markdown** の回答です。\n\n- 項目1\n- 項目2"))
    evil = ScriptedServer(default=("ok", EVIL))
    models = tmp_path / "models.yaml"
    models.write_text(f"models:\n  - {{name: model-good, endpoint: '{good.url}', model_name: g}}\n"
                      f"  - {{name: model-evil, endpoint: '{evil.url}', model_name: e}}\n", encoding="utf-8")
    store = Store(tmp_path / "arena.db")
    # 30 concurrent voters in one test: room for all of their generations (the limits have their own test).
    server = AppServer(build_app(load_models(models), store, admin_token="s3cret", battles_per_minute=5,
                                 max_generations=64))
    yield server, store, tmp_path
    server.stop()
    good.stop()
    evil.stop()


def _battle(client: httpx.Client, url: str, prompt: str = "日本語で自己紹介してください。") -> str:
    r = client.post(f"{url}/api/battles", json={"prompt": prompt})
    r.raise_for_status()
    battle = r.json()["battle"]
    for side in ("a", "b"):
        with client.stream("GET", f"{url}/api/battles/{battle}/stream/{side}") as s:
            body = "".join(s.iter_text())
        assert "event: done" in body, body[-300:]
    return battle


def test_browser_round_japanese_prompt_vote_reveal_and_inert_xss(arena):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    server, store, tmp_path = arena
    driver = chromium_driver()
    try:
        driver.get(server.url + "/")
        wait = WebDriverWait(driver, 30)
        box = driver.find_element(By.ID, "prompt")
        box.send_keys("Pythonでリストを逆順にする方法を教えてください。")
        # An IME composition in progress: Ctrl+Enter confirms the conversion and must not submit.
        driver.execute_script("""
            const p = document.getElementById('prompt');
            p.dispatchEvent(new CompositionEvent('compositionstart', {data: 'ぎゃくじゅん'}));
            p.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', ctrlKey: true, isComposing: true,
                                                          bubbles: true}));""")
        time.sleep(0.5)
        assert driver.find_element(By.ID, "status").text == "" and not store.battles(voted_only=False)
        driver.execute_script("""
            const p = document.getElementById('prompt');
            p.dispatchEvent(new CompositionEvent('compositionend', {data: '逆順'}));
            p.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', ctrlKey: true, bubbles: true}));""")
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".answer.rendered")) == 2)
        answers = {side: driver.find_element(By.ID, f"answer-{side}") for side in ("a", "b")}
        texts = " ".join(a.text for a in answers.values())
        assert "Markdown" in texts and "太字" in texts
        assert driver.find_elements(By.CSS_SELECTOR, ".answer strong")  # Markdown rendered
        # XSS: the script and the onerror never ran; the javascript: link was not made a link.
        assert driver.execute_script("return window.pwned === undefined")
        hrefs = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, ".answer a")]
        assert "https://example.com/" in hrefs and not any(h.startswith("javascript:") for h in hrefs if h)
        assert not driver.find_elements(By.CSS_SELECTOR, ".answer script, .answer img")
        wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#votes button[data-vote='a']"))).click()
        wait.until(lambda d: d.find_element(By.ID, "name-a").text != "")
        names = {driver.find_element(By.ID, "name-a").text, driver.find_element(By.ID, "name-b").text}
        assert names == {"model-good", "model-evil"}
        artifacts = Path(os.environ.get("JACODE_TEST_ARTIFACTS", REPO / "test-artifacts"))
        artifacts.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(artifacts / "arena.png"))
        assert (artifacts / "arena.png").stat().st_size > 10_000
    finally:
        driver.quit()
    (battle,) = store.battles()
    assert battle["vote"] == "a" and battle["prompt"].startswith("Pythonでリストを逆順")
    assert {battle["model_a"], battle["model_b"]} == names and battle["answer_a"] and battle["answer_b"]


def test_concurrent_voters_every_acknowledged_vote_exactly_once(arena):
    server, store, _ = arena
    acked, conflicts, errors = [], [], []
    lock = threading.Lock()

    def voter(i: int) -> None:
        try:
            with httpx.Client(timeout=60) as client:  # its own cookie: its own anonymous voter id
                battle = _battle(client, server.url, f"質問その{i}")
                results = []

                def submit():
                    results.append(client.post(f"{server.url}/api/battles/{battle}/vote",
                                               json={"vote": ["a", "b", "tie", "bothbad"][i % 4]}))

                pair = [threading.Thread(target=submit) for _ in range(2 if i % 3 == 0 else 1)]  # double clicks
                for t in pair:
                    t.start()
                for t in pair:
                    t.join()
                with lock:
                    acked.extend(battle for r in results if r.status_code == 200)
                    conflicts.extend(battle for r in results if r.status_code == 409)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=voter, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert len(acked) == 30 and len(set(acked)) == 30 and len(conflicts) == 10
    stored = store.battles()
    assert sorted(b["id"] for b in stored) == sorted(acked)


def test_limits_admin_and_markdown_sanitizing(arena):
    server, store, _ = arena
    with httpx.Client(timeout=60) as c:
        assert c.post(f"{server.url}/api/battles", json={"prompt": "あ" * 5000}).status_code == 413
        assert c.post(f"{server.url}/api/battles", content=b"x" * 100_000,
                      headers={"content-type": "application/json"}).status_code == 413
        battle = _battle(c, server.url)
        assert c.post(f"{server.url}/api/battles/{battle}/vote", json={"vote": "maybe"}).status_code == 422
        assert c.post(f"{server.url}/api/battles/{battle}/vote", json={"vote": "tie"}).status_code == 200
        codes = [c.post(f"{server.url}/api/battles", json={"prompt": "q"}).status_code for _ in range(6)]
        assert codes.count(429) >= 1  # 5 battles per minute per voter in this fixture
        page = c.get(server.url + "/")
        assert "script-src 'self'" in page.headers["content-security-policy"]
    with httpx.Client(timeout=60) as other:  # another voter cannot vote on (or read) someone else's battle
        assert other.post(f"{server.url}/api/battles/{battle}/vote", json={"vote": "a"}).status_code == 404
    assert httpx.get(f"{server.url}/api/admin/export").status_code == 403
    auth = {"Authorization": "Bearer s3cret"}
    export = httpx.get(f"{server.url}/api/admin/export", headers=auth)
    assert export.status_code == 200 and json.loads(export.text.splitlines()[0])["id"] == battle
    assert httpx.request("DELETE", f"{server.url}/api/admin/battles/{battle}").status_code == 403
    assert httpx.request("DELETE", f"{server.url}/api/admin/battles/{battle}", headers=auth).status_code == 200
    assert store.get(battle) is None
    html = render_markdown(EVIL)
    assert "<script" not in html and "<img" not in html and 'href="javascript:' not in html
    assert "&lt;script&gt;" in html and 'href="https://example.com"' in html


def test_acknowledged_votes_survive_a_killed_server(tmp_path):
    answers = ScriptedServer(default=("ok", "回答"))
    proc, url = _serve(tmp_path, _two_models(tmp_path, answers))
    try:
        acked = []
        with httpx.Client(timeout=30) as c:
            for i in range(5):
                battle = _battle(c, url, f"q{i}")
                if c.post(f"{url}/api/battles/{battle}/vote", json={"vote": "a"}).status_code == 200:
                    acked.append(battle)
        os.killpg(proc.pid, signal.SIGKILL)  # no shutdown, no checkpoint
        proc.wait()
    finally:
        answers.stop()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert len(acked) == 5
    db = sqlite3.connect(tmp_path / "a.db")
    assert sorted(r[0] for r in db.execute("SELECT id FROM battles WHERE vote IS NOT NULL")) == sorted(acked)


def _simulate(strengths: dict[str, float], n: int, seed: int, tie_rate: float = 0.1) -> list[dict]:
    rng = np.random.default_rng(seed)
    names = list(strengths)
    battles = []
    for _ in range(n):
        a, b = rng.choice(len(names), 2, replace=False)
        p = 1 / (1 + 10 ** ((strengths[names[b]] - strengths[names[a]]) / 400))
        u = rng.random()
        vote = "tie" if u < tie_rate else ("a" if rng.random() < p else "b")
        battles.append({"model_a": names[a], "model_b": names[b], "vote": vote})
    return battles


TRUE = {"m-1200": 1200.0, "m-1100": 1100.0, "m-1000": 1000.0, "m-950": 950.0, "m-800": 800.0}


def test_bradley_terry_recovers_order_and_intervals_cover_the_truth():
    centre = np.mean(list(TRUE.values()))
    covered, total = 0, 0
    for seed in range(6):
        fit = bradley_terry(_simulate(TRUE, 2000, seed, tie_rate=0.0), bootstrap=200, seed=seed)
        order = sorted(fit, key=lambda m: -fit[m]["rating"])
        assert order == sorted(TRUE, key=lambda m: -TRUE[m])
        for m, v in fit.items():
            truth = TRUE[m] - centre + 1000  # ratings are centred at 1000
            covered += v["ci95"][0] <= truth <= v["ci95"][1]
            total += 1
    assert covered / total >= 0.8  # nominal 95 %; 30 intervals


def test_mm_fit_is_the_maximum_likelihood_fit_with_ties_as_half_wins():
    from scipy.optimize import minimize

    battles = _simulate(TRUE, 1500, seed=42, tie_rate=0.2)
    models, a, b, s = outcomes(battles)

    def direct(a, b, s, w=None):
        r = minimize(lambda r: -log_likelihood(r, a, b, s, w), np.full(len(models), 1000.0), method="BFGS",
                     options={"gtol": 1e-8}).x
        return r - r.mean() + 1000

    fit = bradley_terry(battles, bootstrap=0)  # default: no prior, the plain maximum-likelihood fit
    ours = np.array([fit[m]["rating"] for m in models])
    assert all(v["prior"] == 0.0 for v in fit.values())
    assert np.allclose(ours, direct(a, b, s), atol=0.5)
    assert log_likelihood(ours, a, b, s) >= log_likelihood(direct(a, b, s), a, b, s) - 1e-6
    # The prior option: the same likelihood with `prior` virtual ties per pair as weighted tie battles.
    prior = bradley_terry(battles, bootstrap=0, prior=0.1)
    pairs = [(i, j) for i in range(len(models)) for j in range(i + 1, len(models))]
    a2 = np.concatenate([a, [i for i, _ in pairs]])
    b2 = np.concatenate([b, [j for _, j in pairs]])
    s2 = np.concatenate([s, np.full(len(pairs), 0.5)])
    w2 = np.concatenate([np.ones(len(a)), np.full(len(pairs), 0.1)])
    assert np.allclose([prior[m]["rating"] for m in models], direct(a2, b2, s2, w2), atol=0.5)
    assert all(abs(prior[m]["rating"] - fit[m]["rating"]) < 1.0 for m in models)  # well under a point here
    # A model that never wins: no finite maximum (Zermelo/Ford); the fit falls back to the prior's virtual ties,
    # says so, and keeps everyone else on the scale (no divergence to thousands of points).
    shutout = [{"model_a": "x", "model_b": "loser", "vote": "a"}] * 20 + \
        [{"model_a": "x", "model_b": "y", "vote": v} for v in "ab" * 10]
    assert not mle_exists(np.array([[0, 20.0, 10], [0, 0, 0], [0, 0, 0]]))
    r = bradley_terry(shutout, bootstrap=50)
    assert all(v["prior"] == FALLBACK_PRIOR for v in r.values())
    assert r["loser"]["rating"] < r["x"]["rating"] and abs(r["x"]["rating"] - r["y"]["rating"]) < 50
    assert all(np.isfinite(v["ci95"]).all() and v["ci95"][1] - v["ci95"][0] < 2000 for v in r.values())
    wins = np.array([[0, 3.0], [1.0, 0]])  # 3 wins to 1, no prior: p = 3/4 → 400·log10(3) apart
    assert mle_exists(wins) and not mle_exists(np.array([[0, 3.0], [0, 0]]))
    r = bt_from_wins(wins, prior=0.0)
    assert r[0] - r[1] == pytest.approx(400 * np.log10(3), abs=1e-6)
    elo = online_elo([{"model_a": "x", "model_b": "y", "vote": "a"}])
    assert elo["x"] == pytest.approx(1002.0) and elo["y"] == pytest.approx(998.0)


FASTCHAT_WINNER = {"a": "model_a", "b": "model_b", "tie": "tie", "bothbad": "tie (bothbad)"}


def _compute_mle_elo(df, SCALE=400, BASE=10, INIT_RATING=1000):  # noqa: N803 (the reference's own names)
    """Chatbot Arena's `compute_mle_elo` (the Arena notebook; FastChat's compute_elo_mle_with_tie in
    fastchat/serve/monitor/elo_analysis.py, 2024-03) transcribed line for line. `penalty=None` is spelled
    C=np.inf, as scikit-learn ≥ 1.8 asks."""
    import math

    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    models = pd.concat([df["model_a"], df["model_b"]]).unique()
    models = pd.Series(np.arange(len(models)), index=models)
    df = pd.concat([df, df], ignore_index=True)  # duplicate battles
    p = len(models.index)
    n = df.shape[0]
    X = np.zeros([n, p])  # noqa: N806
    X[np.arange(n), models[df["model_a"]]] = +math.log(BASE)
    X[np.arange(n), models[df["model_b"]]] = -math.log(BASE)
    Y = np.zeros(n)  # noqa: N806  one A win => two A win
    Y[df["winner"] == "model_a"] = 1.0
    tie_idx = (df["winner"] == "tie") | (df["winner"] == "tie (bothbad)")  # one tie => one A win + one B win
    tie_idx[len(tie_idx) // 2:] = False
    Y[tie_idx] = 1.0
    lr = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-8)
    lr.fit(X, Y)
    elo_scores = SCALE * lr.coef_[0] + INIT_RATING
    return pd.Series(elo_scores, index=models.index).sort_values(ascending=False)


def _compute_bt(df, base=10.0, scale=400.0, init_rating=1000, tol=1e-6):
    """FastChat's current `compute_bt` (fastchat/serve/monitor/rating_systems.py: preprocess_for_bt, bt_loss_and_grad,
    fit_bt) transcribed; its anchoring of mixtral-8x7b-instruct-v0.1 at 1114 does not apply to these models."""
    import math

    import pandas as pd
    from scipy.optimize import minimize
    from scipy.special import expit

    n_rows = len(df)
    model_indices, models = pd.factorize(pd.concat([df["model_a"], df["model_b"]]))
    schedule = np.full((n_rows, 3), fill_value=1, dtype=np.int32)
    schedule[:, [0, 1]] = np.column_stack([model_indices[:n_rows], model_indices[n_rows:]])
    schedule[df["winner"] == "model_a", 2] = 2
    schedule[df["winner"] == "model_b", 2] = 0
    matchups_outcomes, weights = np.unique(schedule, return_counts=True, axis=0)
    matchups, outcomes_ = matchups_outcomes[:, [0, 1]], matchups_outcomes[:, 2].astype(np.float64) / 2.0
    weights = weights.astype(np.float64)
    alpha = math.log(base)

    def loss_and_grad(ratings):
        probs = expit(alpha * (ratings[matchups[:, 0]] - ratings[matchups[:, 1]]))
        loss = -((np.log(probs) * outcomes_ + np.log(1.0 - probs) * (1.0 - outcomes_)) * weights).sum()
        grads = -alpha * (outcomes_ - probs) * weights
        model_grad = np.zeros_like(ratings)
        np.add.at(model_grad, matchups[:, [0, 1]], grads[:, None] * np.array([1.0, -1.0]))
        return loss, model_grad

    x = minimize(loss_and_grad, np.zeros(len(models)), jac=True, method="L-BFGS-B",
                 options={"maxiter": 100, "gtol": tol})["x"]  # (FastChat also passes disp=False)
    return pd.Series(x * scale + init_rating, index=list(models))


@pytest.mark.parametrize("seed,n,tie_rate", [(0, 1500, 0.2), (1, 300, 0.1), (2, 3000, 0.0)])
def test_default_ratings_are_chatbot_arenas_compute_mle_elo(seed, n, tie_rate):
    """prior 0 (the default): the ratings are those of Chatbot Arena's fit, ties and both-bad as half wins."""
    import pandas as pd

    battles = _simulate(TRUE, n, seed, tie_rate=tie_rate)
    for i, x in enumerate(battles):  # half of the ties as "both bad", which Arena counts the same way
        if x["vote"] == "tie" and i % 2:
            x["vote"] = "bothbad"
    df = pd.DataFrame({"model_a": [x["model_a"] for x in battles], "model_b": [x["model_b"] for x in battles],
                       "winner": [FASTCHAT_WINNER[x["vote"]] for x in battles]})
    ours = bradley_terry(battles, bootstrap=0)
    notebook, current = _compute_mle_elo(df), _compute_bt(df)
    assert set(notebook.index) == set(current.index) == set(ours)
    for m in ours:
        assert ours[m]["rating"] == pytest.approx(notebook[m], abs=1e-3), m
        assert ours[m]["rating"] == pytest.approx(current[m], abs=1e-2), m  # L-BFGS stops at gtol 1e-6
    assert notebook.mean() == pytest.approx(1000, abs=1e-6)  # the reference's mean is 1000 as well: no shift


def test_ratings_cli_export_import(tmp_path):
    store = Store(tmp_path / "a.db")
    records = [{"id": f"b{i}", "prompt": "p", "answer_a": "x", "answer_b": "y", **b, "voted_at": float(i)}
               for i, b in enumerate(_simulate(TRUE, 300, seed=1))]
    assert store.import_records(records) == 300 and store.import_records(records[:10]) == 0
    run = [sys.executable, "-m", "jacode", "arena"]
    out = subprocess.run(run + ["ratings", "--db", str(tmp_path / "a.db"), "--bootstrap", "50", "--out",
                                str(tmp_path / "lb")], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    board = json.loads((tmp_path / "lb" / "leaderboard.json").read_text())
    assert board["battles"] == 300 and board["models"][0]["model"] == "m-1200"
    assert (tmp_path / "lb" / "leaderboard.png").stat().st_size > 5000
    assert "<table id=\"leaderboard\">" in (tmp_path / "lb" / "leaderboard.html").read_text()
    exp = subprocess.run(run + ["export", "--db", str(tmp_path / "a.db"), "--out", str(tmp_path / "b.jsonl")],
                         capture_output=True, text=True, timeout=120)
    assert exp.returncode == 0 and len((tmp_path / "b.jsonl").read_text().splitlines()) == 300
    imp = subprocess.run(run + ["import", str(tmp_path / "b.jsonl"), "--db", str(tmp_path / "c.db")],
                         capture_output=True, text=True, timeout=120)
    assert imp.returncode == 0 and "added 300" in imp.stdout


def test_local_model_streams_the_same_text_it_generates(tiny_model):
    """Arena models may be local: the transformers engine streams token by token, same text as generate()."""
    from jacode.engines import Request, SamplingParams, make_engine

    engine = make_engine("transformers", model=str(tiny_model))
    messages = [{"role": "user", "content": "こんにちは"}]
    params = SamplingParams(temperature=0.0, max_new_tokens=12)
    pieces = list(engine.stream(messages, params))
    assert len(pieces) > 1
    assert "".join(pieces).strip() == engine.generate([Request(messages=messages)], params)[0][0].text.strip()


def test_arena_with_local_models_and_chunked_bodies(tiny_model, tmp_path):
    """Local (transformers) models stream through the arena; a second stream never replaces a stored answer."""
    models = tmp_path / "models.yaml"
    models.write_text(f"models:\n  - {{name: l1, model: '{tiny_model}', params: {{max_new_tokens: 12}}}}\n"
                      f"  - {{name: l2, model: '{tiny_model}', params: {{max_new_tokens: 24, temperature: 0.0}}}}\n")
    store = Store(tmp_path / "a.db")
    server = AppServer(build_app(load_models(models), store))
    try:
        with httpx.Client(timeout=120) as c:
            battle = _battle(c, server.url, "Write a function.")  # (the tiny model answers it with more than blanks)
            stored = store.get(battle)
            assert stored["answer_a"] is not None and stored["answer_b"] is not None
            assert not store.set_answer(battle, "a", "REPLACED") and store.get(battle)["answer_a"] == stored["answer_a"]
            chunked = c.post(f"{server.url}/api/battles", content=iter([b'{"prompt": "x"}']),
                             headers={"content-type": "application/json"})
            assert chunked.status_code == 411
    finally:
        server.stop()


def test_an_empty_or_failed_answer_is_never_votable(tmp_path):
    """A model that answers nothing, or a server that ignores `stream: true` (one JSON body, which read as events
    would be an empty answer), fails its side: nothing is stored and the battle cannot be voted on."""
    empty = ScriptedServer(default=("ok", "   \n"))
    deaf = ScriptedServer(default=("ok", "a whole answer, not streamed"))
    deaf.ignore_stream = True
    good = ScriptedServer(default=("ok", "回答です。"))
    models = tmp_path / "models.yaml"
    models.write_text(f"models:\n  - {{name: empty, endpoint: '{empty.url}', model_name: e}}\n"
                      f"  - {{name: deaf, endpoint: '{deaf.url}', model_name: d}}\n"
                      f"  - {{name: good, endpoint: '{good.url}', model_name: g}}\n", encoding="utf-8")
    store = Store(tmp_path / "arena.db")
    server = AppServer(build_app(load_models(models), store, battles_per_minute=100))
    seen = set()
    try:
        with httpx.Client(timeout=60) as client:
            for i in range(30):
                battle = client.post(f"{server.url}/api/battles", json={"prompt": f"質問 {i}"}).json()["battle"]
                row = store.get(battle)
                pair = {row["model_a"], row["model_b"]}
                seen.add(frozenset(pair))
                bodies = {}
                for side in ("a", "b"):
                    with client.stream("GET", f"{server.url}/api/battles/{battle}/stream/{side}") as s:
                        bodies[row[f"model_{side}"]] = "".join(s.iter_text())
                for name, body in bodies.items():
                    assert ("event: done" in body) == (name == "good"), (name, body[-200:])
                    if name == "empty":
                        assert "empty answer" in body
                    if name == "deaf":
                        assert "event: failure" in body
                vote = client.post(f"{server.url}/api/battles/{battle}/vote", json={"vote": "a"})
                assert vote.status_code == 409 and "complete" in vote.json()["detail"]
                if len(seen) == 3:
                    break
    finally:
        server.stop()
        for s in (empty, deaf, good):
            s.stop()
    assert len(seen) == 3  # every pairing was tried
    assert all(r["vote"] is None for r in store.battles(voted_only=False))
    # Even a stored empty answer (an older database) is not votable.
    assert not store.vote(battle, "someone", "a")


def test_leaderboard_hides_models_with_too_few_battles(tmp_path):
    battles = _simulate(TRUE, 300, seed=3)
    battles += [{"model_a": "rare", "model_b": "m-1200", "vote": "a"}] * 3
    rows = leaderboard(battles, bootstrap=0, min_battles=10)
    assert [r["model"] for r in rows if r.get("hidden")] == ["rare"]
    assert [r["rank"] for r in rows if not r.get("hidden")] == list(range(1, len(TRUE) + 1))
    assert rows[-1]["rank"] is None and rows[-1]["battles"] == 3
    everything = leaderboard(battles, bootstrap=0, min_battles=0)
    assert "rare" in [r["model"] for r in everything if not r.get("hidden")]
    # Hidden models still count in the fit: the others' ratings are the same either way.
    assert {r["model"]: r["rating"] for r in rows} == {r["model"]: r["rating"] for r in everything}
    paths = write_leaderboard(rows, tmp_path / "lb", len(battles))
    page = paths["html"].read_text()
    assert 'id="hidden"' in page and "rare (3)" in page and page.count("<tr><td>") == len(TRUE)


def test_browser_round_over_jacode_serve(tiny_model, tmp_path):
    """Both sides served by a real `jacode serve` (streaming): the answers arrive token by token, render, and the
    vote reveals the names — the path that once showed an empty, votable answer."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.support.servers import JacodeServer

    served = JacodeServer(str(tiny_model), served_name="tiny")
    models = tmp_path / "models.yaml"
    models.write_text("models:\n" + "".join(
        f"  - {{name: {name}, endpoint: '{served.url}', model_name: tiny, params: {{max_new_tokens: {n}}}}}\n"
        for name, n in (("short", 12), ("long", 24))), encoding="utf-8")
    store = Store(tmp_path / "arena.db")
    server = AppServer(build_app(load_models(models), store))
    driver = chromium_driver()
    try:
        driver.get(server.url + "/")
        wait = WebDriverWait(driver, 90)
        driver.find_element(By.ID, "prompt").send_keys("自己紹介してください。")
        driver.find_element(By.CSS_SELECTOR, "#ask button[type='submit']").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".answer.rendered")) == 2)
        assert all(driver.find_element(By.ID, f"answer-{s}").text.strip() for s in ("a", "b"))
        wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#votes button[data-vote='tie']"))).click()
        wait.until(lambda d: d.find_element(By.ID, "name-a").text != "")
        assert {driver.find_element(By.ID, f"name-{s}").text for s in ("a", "b")} == {"short", "long"}
    finally:
        driver.quit()
        server.stop()
        served.stop()
    (battle,) = store.battles()
    assert battle["vote"] == "tie" and battle["answer_a"].strip() and battle["answer_b"].strip()


def _two_models(tmp_path: Path, server: ScriptedServer) -> Path:
    models = tmp_path / "models.yaml"
    models.write_text(f"models:\n  - {{name: m1, endpoint: '{server.url}', model_name: x}}\n"
                      f"  - {{name: m2, endpoint: '{server.url}', model_name: y}}\n")
    return models


def test_one_client_with_60_streams_neither_starves_the_page_nor_passes_the_generation_limits(tmp_path):
    """An attacker opens 60 streams (30 battles) at once with one cookie: two generations are its share, the rest
    are refused at once (429); other voters share the total; the page and new battles still answer."""
    slow = ScriptedServer(default=("sleep", 20, "遅い回答"))
    app = build_app(load_models(_two_models(tmp_path, slow)), Store(tmp_path / "a.db"), battles_per_minute=100,
                    max_generations=6, max_generations_per_voter=2)
    server = AppServer(app)
    statuses: dict[str, list[int]] = {"attacker": [], "others": []}
    lock = threading.Lock()

    def open_stream(cookies, battle: str, side: str, who: str) -> None:
        with httpx.Client(timeout=30, cookies=cookies) as c:
            with c.stream("GET", f"{server.url}/api/battles/{battle}/stream/{side}") as s:
                with lock:
                    statuses[who].append(s.status_code)
                if s.status_code == 429:
                    assert "busy" in s.read().decode()

    try:
        attacker = httpx.Client(timeout=30)
        battles = [attacker.post(f"{server.url}/api/battles", json={"prompt": f"q{i}"}).json()["battle"]
                   for i in range(30)]
        others = []
        for i in range(8):
            with httpx.Client(timeout=30) as c:  # a fresh voter each
                others.append((c.cookies, c.post(f"{server.url}/api/battles", json={"prompt": f"o{i}"}).json()))
        threads = [threading.Thread(target=open_stream, args=(attacker.cookies, b, side, "attacker"))
                   for b in battles for side in ("a", "b")]
        threads += [threading.Thread(target=open_stream, args=(cookies, r["battle"], "a", "others"))
                    for cookies, r in others]
        for t in threads:
            t.start()
        time.sleep(1)
        with httpx.Client(timeout=10) as visitor:  # while 6 generations run and 62 requests came in
            assert visitor.get(server.url + "/").status_code == 200
            assert visitor.post(f"{server.url}/api/battles", json={"prompt": "別の人"}).status_code == 200
        for t in threads:
            t.join(timeout=60)
        ok = {who: s.count(200) for who, s in statuses.items()}
        assert len(statuses["attacker"]) == 60 and len(statuses["others"]) == 8
        assert set(statuses["attacker"] + statuses["others"]) == {200, 429}
        assert ok["attacker"] <= 2 and ok["attacker"] + ok["others"] == 6  # per voter, and in total
        assert slow.max_in_flight <= 6
    finally:
        server.stop()
        slow.stop()


def test_a_reload_follows_the_running_generation_instead_of_starting_another(tmp_path):
    text = "リロードしても同じ回答が一度だけ生成されます。" * 3
    answers = ScriptedServer(default=("ok", text))
    answers.stream_delay = 0.05  # about 1.5 s of streaming
    store = Store(tmp_path / "a.db")
    server = AppServer(build_app(load_models(_two_models(tmp_path, answers)), store))
    try:
        with httpx.Client(timeout=30) as c:
            battle = c.post(f"{server.url}/api/battles", json={"prompt": "質問"}).json()["battle"]
            url = f"{server.url}/api/battles/{battle}/stream/a"
            with c.stream("GET", url) as first:
                lines = first.iter_lines()
                assert next(lines) == "event: delta"  # generation under way
                with c.stream("GET", url) as reload:  # the reload, while the first is still streaming
                    body = reload.read().decode()
                rest = "\n".join(lines)
        deltas = [json.loads(ln[6:])["text"] for ln in body.splitlines()
                  if ln.startswith("data: ") and "text" in ln]
        assert "".join(deltas) == text and "event: done" in body and "event: done" in rest
        assert len(answers.requests) == 1  # one generation for side a, followed twice
        assert store.get(battle)["answer_a"] == text
    finally:
        server.stop()
        answers.stop()


def _serve(tmp_path: Path, models: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "jacode", "arena", "serve", "--models", str(models), "--db",
                             str(tmp_path / "a.db"), "--port", str(port), *extra], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    return proc, url


def test_x_forwarded_for_is_trusted_only_from_configured_proxies(tmp_path):
    """Cookie-less clients are limited per address (10 × 1 battle a minute here). A forged X-Forwarded-For does
    not make each request a new address — unless the operator names the proxy that sets it."""
    answers = ScriptedServer()
    models = _two_models(tmp_path, answers)
    try:
        for extra, expect_limited in (((), True), (("--forwarded-allow-ips", "127.0.0.1"), False)):
            proc, url = _serve(tmp_path, models, "--battles-per-minute", "1", *extra)
            try:
                codes = [httpx.post(f"{url}/api/battles", json={"prompt": "q"}, timeout=10,
                                    headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code for i in range(15)]
            finally:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            assert (codes.count(429) == 5) if expect_limited else (codes == [200] * 15), (extra, codes)
    finally:
        answers.stop()


def test_sigterm_stops_the_server_with_streams_open_and_keeps_acknowledged_votes(tmp_path):
    def responder(path, body):
        if "遅い" in body["messages"][-1]["content"]:
            time.sleep(60)  # a generation that outlives the server
        return "回答"

    answers = ScriptedServer(responder=responder)
    proc, url = _serve(tmp_path, _two_models(tmp_path, answers))
    try:
        with httpx.Client(timeout=30) as c:
            fast = _battle(c, url, "速い質問")
            assert c.post(f"{url}/api/battles/{fast}/vote", json={"vote": "tie"}).status_code == 200
            slow = c.post(f"{url}/api/battles", json={"prompt": "遅い質問"}).json()["battle"]
            opened = threading.Event()

            def watch() -> None:
                try:
                    with c.stream("GET", f"{url}/api/battles/{slow}/stream/a") as s:
                        opened.set()
                        s.read()
                except httpx.HTTPError:
                    pass

            t = threading.Thread(target=watch, daemon=True)
            t.start()
            assert opened.wait(10)
            time.sleep(0.5)
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)  # the open stream does not hold the server up
    finally:
        answers.stop()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    db = sqlite3.connect(tmp_path / "a.db")
    assert [r for r in db.execute("SELECT id, vote FROM battles WHERE vote IS NOT NULL")] == [(fast, "tie")]


def test_an_answer_that_finishes_after_the_server_stopped_is_kept_quietly():
    """A generating thread outlives a stopped server: its notifications go nowhere (no exception in the thread)
    and the answer is still collected (the thread goes on to store it for the next server)."""
    import asyncio

    from jacode.arena.app import Generation, on_loop

    loop = asyncio.new_event_loop()
    gen = Generation("voter", loop)
    seen = []
    on_loop(loop, seen.append, "scheduled")
    loop.run_until_complete(asyncio.sleep(0))
    assert seen == ["scheduled"]
    loop.close()
    gen.publish("an answer")  # raised RuntimeError('Event loop is closed') in the thread before
    gen.publish()
    assert gen.parts == ["an answer"]
