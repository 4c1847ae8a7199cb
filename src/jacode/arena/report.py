"""Leaderboard outputs: JSON, a self-contained HTML page (every value escaped) and a PNG plot with intervals."""

from __future__ import annotations

import html
import json
from pathlib import Path

from jacode.io import atomic_write_text


def _hidden_note(hidden: list[dict]) -> str:
    if not hidden:
        return ""
    names = ", ".join(f"{html.escape(r['model'])} ({r['battles']})" for r in hidden)
    return f'<p id="hidden">Not ranked yet (too few battles): {names}.</p>'


def write_leaderboard(rows: list[dict], out: str | Path, battles: int) -> dict[str, Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "leaderboard.json", "html": out / "leaderboard.html", "png": out / "leaderboard.png"}
    atomic_write_text(paths["json"], json.dumps({"battles": battles, "models": rows}, ensure_ascii=False, indent=2))
    hidden = [r for r in rows if r.get("hidden")]
    rows = [r for r in rows if not r.get("hidden")]
    cells = []
    for r in rows:
        ci = r.get("ci95")
        interval = f"{ci[0]:.0f} – {ci[1]:.0f}" if ci else "–"
        cells.append(f"<tr><td>{r['rank']}</td><td>{html.escape(r['model'])}</td><td>{r['rating']:.0f}</td>"
                     f"<td>{interval}</td><td>{r['elo']:.0f}</td><td>{r['battles']}</td></tr>")
    page = f"""<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>jacode arena leaderboard</title>
<style>body{{font-family:system-ui,sans-serif;max-width:900px;margin:2rem auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3rem .7rem;text-align:right}}td:nth-child(2){{text-align:left}}</style></head>
<body><h1>jacode arena leaderboard</h1>
<p>{battles} battles. Bradley–Terry ratings (ties count half; scale 400, mean 1000) with bootstrap 95% intervals;
online Elo (K = 4) for comparison.</p>
<table id="leaderboard"><thead><tr><th>rank</th><th>model</th><th>rating</th><th>95% CI</th><th>online Elo</th>
<th>battles</th></tr></thead><tbody>{''.join(cells)}</tbody></table>
{_hidden_note(hidden)}
<p><img src="leaderboard.png" alt="ratings with 95% intervals"></p></body></html>
"""
    atomic_write_text(paths["html"], page)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.5 * len(rows) + 1.5))
    names = [r["model"] for r in rows][::-1]
    values = [r["rating"] for r in rows][::-1]
    if rows and "ci95" in rows[0]:
        err = [[v - r["ci95"][0] for v, r in zip(values, rows[::-1])],
               [r["ci95"][1] - v for v, r in zip(values, rows[::-1])]]
        ax.errorbar(values, names, xerr=err, fmt="o", capsize=4)
    else:
        ax.plot(values, names, "o")
    ax.set_xlabel("Bradley–Terry rating (95% bootstrap interval)")
    ax.set_title(f"jacode arena ({battles} battles)")
    fig.tight_layout()
    fig.savefig(paths["png"], dpi=100)
    plt.close(fig)
    return paths
