"""Ratings from battles: Bradley–Terry maximum likelihood with bootstrap intervals, and online Elo.

Scale as on the public Chatbot Arena leaderboard: P(i beats j) = 1 / (1 + 10^((R_j − R_i) / 400)), ratings
centred so that their mean is 1000. Ties and "both bad" count as half a win for each side. The fit is Hunter's
MM algorithm on the win matrix. A plain maximum-likelihood fit diverges when a model never won (or never lost),
and a bootstrap resample can leave a model out; so every pair of models also gets `prior` virtual ties (0.1 by
default — a few tenths of a rating point once there are hundreds of battles), which keeps the fit finite. The
test compares the fit with a direct numerical maximization of the same (prior-augmented) likelihood.
"""

from __future__ import annotations

import math

import numpy as np

SCALE, BASE, CENTER = 400.0, 10.0, 1000.0


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


def bradley_terry(battles: list[dict], bootstrap: int = 1000, seed: int = 0, prior: float = 0.1) -> dict:
    models, a, b, s = outcomes(battles)
    n = len(models)
    point = bt_from_wins(_win_matrix(n, a, b, s), prior=prior)
    result = {m: {"rating": float(point[i]), "battles": int(((a == i) | (b == i)).sum())} for i, m in enumerate(models)}
    if bootstrap:
        rng = np.random.default_rng(seed)
        samples = np.empty((bootstrap, n))
        for k in range(bootstrap):
            counts = np.bincount(rng.integers(0, len(a), len(a)), minlength=len(a)).astype(float)
            samples[k] = bt_from_wins(_win_matrix(n, a, b, s, counts), prior=prior)
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


def leaderboard(battles: list[dict], bootstrap: int = 1000, seed: int = 0) -> list[dict]:
    if not battles:
        return []
    bt = bradley_terry(battles, bootstrap, seed)
    elo = online_elo(battles)
    rows = [{"model": m, **v, "elo": round(elo[m], 1)} for m, v in bt.items()]
    rows.sort(key=lambda r: -r["rating"])
    for rank, r in enumerate(rows, 1):
        r["rank"] = rank
    return rows
