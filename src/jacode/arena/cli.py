"""`jacode arena ...` commands."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from jacode.cli_util import friendly

app = typer.Typer(help="Blind pairwise comparison web app and its ratings.", no_args_is_help=True)
Db = typer.Option(Path("arena.db"), "--db", help="SQLite file holding the battles.")


@app.command("serve")
@friendly
def serve(
    models: Path = typer.Option(..., "--models", help="YAML: models: [{name, model | endpoint, ...}]"),
    db: Path = Db,
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    admin_token: Optional[str] = typer.Option(None, "--admin-token", envvar="JACODE_ARENA_ADMIN_TOKEN",
                                              help="Enables /api/admin/* (export, delete) for this bearer token."),
    battles_per_minute: int = typer.Option(20, "--battles-per-minute", help="Rate limit per voter (per address: "
                                                                           "10 times that)."),
    max_generations: int = typer.Option(16, "--max-generations", min=1, help="Answers generated at once, in all."),
    max_generations_per_voter: int = typer.Option(2, "--max-generations-per-voter", min=1,
                                                  help="Answers generated at once for one voter (2: one battle)."),
    forwarded_allow_ips: str = typer.Option("", "--forwarded-allow-ips",
                                            help="Proxies whose X-Forwarded-For is trusted (comma-separated IPs or "
                                                 "networks, as uvicorn's). Default: none — the socket's address "
                                                 "counts, so the header cannot dodge the per-address limit."),
):
    """Serve the arena page; votes go to --db."""
    import uvicorn

    from jacode.arena.app import build_app, load_models, server_config
    from jacode.arena.store import Store

    app_ = build_app(load_models(models), Store(db), admin_token=admin_token, battles_per_minute=battles_per_minute,
                     max_generations=max_generations, max_generations_per_voter=max_generations_per_voter)
    typer.echo(f"arena on http://{host}:{port}/  (battles: {db})")
    uvicorn.Server(server_config(app_, host, port, forwarded_allow_ips)).run()


@app.command("ratings")
@friendly
def ratings(
    db: Path = Db,
    out: Path = typer.Option(Path("leaderboard"), "--out", "-o"),
    bootstrap: int = typer.Option(1000, "--bootstrap", help="Bootstrap resamples for the intervals (0: none)."),
    battles_file: Optional[Path] = typer.Option(None, "--battles", help="Rate a battles file instead of --db: "
                                                "jacode's export or FastChat's clean_battle JSON/JSONL."),
    min_battles: int = typer.Option(10, "--min-battles", min=0,
                                    help="Rank only models with at least this many battles (all count in the fit)."),
):
    """Bradley–Terry ratings with bootstrap intervals and online Elo: leaderboard .json, .html, .png."""
    from jacode.arena.ratings import leaderboard
    from jacode.arena.report import write_leaderboard
    from jacode.arena.store import Store
    from jacode.errors import JacodeError
    from jacode.formats import battles as read_battles

    battles = read_battles(battles_file) if battles_file else Store(db).battles()
    if len(battles) == 0:
        raise JacodeError("no voted battles yet")
    rows = leaderboard(battles, bootstrap, min_battles=min_battles)
    paths = write_leaderboard(rows, out, len(battles))
    for r in rows:
        if r.get("hidden"):
            typer.echo(f"  -  {r['model']:<30} not ranked: {r['battles']} battles (< --min-battles {min_battles})")
            continue
        ci = r.get("ci95")
        typer.echo(f"{r['rank']:>3}. {r['model']:<30} {r['rating']:7.1f}"
                   + (f"  [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else "") + f"  elo {r['elo']:.1f}  n={r['battles']}")
    typer.echo(f"leaderboard: {paths['html']}")


@app.command("export")
@friendly
def export(db: Path = Db, out: Path = typer.Option(..., "--out", "-o")):
    """Voted battles as JSONL."""
    from jacode.arena.store import Store
    from jacode.io import atomic_write_text

    atomic_write_text(out, Store(db).export_jsonl())
    typer.echo(f"{out}")


@app.command("import")
@friendly
def import_(battles: Path = typer.Argument(..., help="Battles: jacode's export (JSONL) or FastChat's clean_battle "
                                                   "records (JSON list or JSONL)."), db: Path = Db):
    """Add battles (ids already present are skipped); the format is detected per record."""
    from jacode.arena.store import Store
    from jacode.formats import battles as read_battles

    added = Store(db).import_records(read_battles(battles))
    typer.echo(f"added {added} battles to {db}")

