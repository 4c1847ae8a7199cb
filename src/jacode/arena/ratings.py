"""Ratings from battles: Bradley–Terry maximum likelihood with bootstrap intervals, and online Elo.

Scale as on the public Chatbot Arena leaderboard: P(i beats j) = 1 / (1 + 10^((R_j − R_i) / 400)), ratings
centred so that their mean is 1000. Ties and "both bad" count as half a win for each side. The fit is Hunter's
MM algorithm on the win matrix.

By default (`prior` 0) it is the plain maximum-likelihood fit, the one Chatbot Arena publishes: FastChat's
`compute_mle_elo` (the Arena notebook; `compute_elo_mle_with_tie` in fastchat/serve/monitor/elo_analysis.py), a
logistic regression without intercept or penalty on rows ±ln 10 with every battle counted twice and a tie as one
win each way, whose coefficients ×400 + 1000 are these ratings (its coefficients sum to 0, so its mean is 1000 too),
and FastChat's current `compute_bt` (rating_systems.py), the same likelihood by L-BFGS. The test checks both.

That maximum exists only when the models cannot be split into two groups one of which never scored (won or tied)
against the other (Zermelo; Ford, 1957) — it does not when a model never won or never lost, and a bootstrap
resample can make it so for a model with few battles. There the plain fit runs off to infinite gaps (FastChat's
optimizers stop wherever their iteration limit leaves them); jacode instead fits that case (the point estimate or
one resample) with FALLBACK_PRIOR virtual ties between every pair, and the point estimate reports the prior it used.
`prior` > 0 gives every fit that many virtual ties per pair (a few tenths of a rating point at 0.1 once there are
hundreds of battles), which always keeps it finite.
"""

from __future__ import annotations

import math

import numpy as np

SCALE, BASE, CENTER = 400.0, 10.0, 1000.0
FALLBACK_PRIOR = 0.1  # virtual ties per pair where the plain maximum-likelihood fit does not exist


def outcomes(battles: list[dict]) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """models, index of A, index of B, score of A (1 win, 0 loss, 0.5 tie or both bad)."""
    models = sorted({b["model_a"] for b in battles} | {b["model_b"] for b in battles})
    index = {m: i for i, m in enumerate(models)}
    a = np.array([index[b["model_a"]] for b in battles], dtype=int)
    b = np.array([index[b["model_b"]] for b in battles], dtype=int)
    s = np.array([{"a": 1.0, "b": 0.0}.get(x["vote"], 0.5) for x in battles])
    return models, a, b, s


def _win_matrix(n: int, a: np.ndarray, b: np.ndarray, s: np.ndarray, weights: np.ndarray | None = None):
    w = np.ones(len(a)) if weights is None else weights
    wins = np.zeros((n, n))
    np.add.at(wins, (a, b), w * s)
    np.add.at(wins, (b, a), w * (1 - s))
    return wins


def bt_from_wins(wins: np.ndarray, iters: int = 10_000, tol: float = 1e-10, prior: float = 0.0) -> np.ndarray:
    """Ratings (arena scale, mean 1000) from wins[i, j] = (fractional) wins of i over j, plus `prior` virtual
    ties between every pair."""
    n = len(wins)
    wins = wins + (prior / 2) * (1 - np.eye(n))
    games = wins + wins.T
    total = wins.sum(axis=1)
    p = np.ones(n)
    for _ in range(iters):
        denom = (games / (p[:, None] + p[None, :])).sum(axis=1)
        new = np.where(denom > 0, total / np.maximum(denom, 1e-300), p)
        new = np.maximum(new, 1e-12)  # a model that never scored anything: pinned low, not zero (log)
        new /= math.exp(np.mean(np.log(new)))
        if np.max(np.abs(new - p)) < tol:
            p = new
            break
        p = new
    r = SCALE * np.log(p) / math.log(BASE)
    return r - r.mean() + CENTER


def mle_exists(wins: np.ndarray) -> bool:
    """Whether the plain maximum-likelihood ratings are finite: the graph with an edge i → j wherever i scored
    against j (a win or a tie) is strongly connected (every model reaches every other)."""
    n = len(wins)
    reach = ((wins > 0) | np.eye(n, dtype=bool)).astype(float)
    for _ in range(max(1, math.ceil(math.log2(max(n, 2))))):  # paths of length up to 2^k after k squarings
        reach = np.minimum(reach @ reach, 1.0)
    return bool(reach.all())


def fit(wins: np.ndarray, prior: float = 0.0) -> tuple[np.ndarray, float]:
    """Ratings with `prior` virtual ties per pair, or with FALLBACK_PRIOR where `prior` is 0 and the plain maximum
    does not exist; and the prior used."""
    if prior == 0 and not mle_exists(wins):
        prior = FALLBACK_PRIOR
    return bt_from_wins(wins, prior=prior), prior


def bradley_terry(battles: list[dict], bootstrap: int = 1000, seed: int = 0, prior: float = 0.0) -> dict:
    models, a, b, s = outcomes(battles)
    n = len(models)
    point, used = fit(_win_matrix(n, a, b, s), prior)
    result = {m: {"rating": float(point[i]), "battles": int(((a == i) | (b == i)).sum()), "prior": used}
              for i, m in enumerate(models)}
    if bootstrap:
        rng = np.random.default_rng(seed)
        samples = np.empty((bootstrap, n))
        for k in range(bootstrap):
            counts = np.bincount(rng.integers(0, len(a), len(a)), minlength=len(a)).astype(float)
            samples[k] = fit(_win_matrix(n, a, b, s, counts), prior)[0]
        lo, hi = np.percentile(samples, [2.5, 97.5], axis=0)
        for i, m in enumerate(models):
            result[m]["ci95"] = [float(lo[i]), float(hi[i])]
    return result


def log_likelihood(ratings: np.ndarray, a: np.ndarray, b: np.ndarray, s: np.ndarray,
                   weights: np.ndarray | None = None) -> float:
    diff = (ratings[a] - ratings[b]) * math.log(BASE) / SCALE
    p = 1 / (1 + np.exp(-diff))
    w = np.ones(len(a)) if weights is None else weights
    return float(np.sum(w * (s * np.log(p) + (1 - s) * np.log(1 - p))))


def online_elo(battles: list[dict], k: float = 4.0) -> dict[str, float]:
    """Sequential Elo in battle order (K = 4 as the public arena used); depends on order, unlike BT."""
    ratings: dict[str, float] = {}
    for x in battles:
        ra, rb = ratings.setdefault(x["model_a"], CENTER), ratings.setdefault(x["model_b"], CENTER)
        expected = 1 / (1 + BASE ** ((rb - ra) / SCALE))
        score = {"a": 1.0, "b": 0.0}.get(x["vote"], 0.5)
        ratings[x["model_a"]] = ra + k * (score - expected)
        ratings[x["model_b"]] = rb - k * (score - expected)
    return ratings


def leaderboard(battles: list[dict], bootstrap: int = 1000, seed: int = 0, prior: float = 0.0,
                min_battles: int = 0) -> list[dict]:
    """Ranked rows. Every battle counts in the fit; models with fewer than `min_battles` battles are left out of
    the ranking (their rating would rest on a handful of votes) and come back as rows with "hidden": True,
    unranked, after the others."""
    if not battles:
        return []
    bt = bradley_terry(battles, bootstrap, seed, prior)
    elo = online_elo(battles)
    rows = [{"model": m, **v, "elo": round(elo[m], 1)} for m, v in bt.items()]
    rows.sort(key=lambda r: -r["rating"])
    shown = [r for r in rows if r["battles"] >= min_battles]
    for rank, r in enumerate(shown, 1):
        r["rank"] = rank
    hidden = [{**r, "rank": None, "hidden": True} for r in rows if r["battles"] < min_battles]
    return shown + hidden
