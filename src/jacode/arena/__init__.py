"""Arena: blind pairwise comparison web app (FastAPI + SQLite) and Bradley–Terry / Elo ratings."""
