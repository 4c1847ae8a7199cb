"""Battles in SQLite (WAL). A vote is acknowledged only after its transaction is committed with synchronous=FULL,
so a server crash loses nothing already acknowledged; `vote IS NULL` in the UPDATE makes a second vote on the same
battle a no-op, so concurrent or repeated submissions count once."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

VOTES = ("a", "b", "tie", "bothbad")
SCHEMA = """
CREATE TABLE IF NOT EXISTS battles (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    voter TEXT NOT NULL,
    prompt TEXT NOT NULL,
    model_a TEXT NOT NULL,      -- shown on the left (position A)
    model_b TEXT NOT NULL,      -- shown on the right (position B)
    answer_a TEXT,
    answer_b TEXT,
    vote TEXT CHECK (vote IN ('a', 'b', 'tie', 'bothbad')),
    voted_at REAL
);
CREATE INDEX IF NOT EXISTS battles_voted ON battles (voted_at);
"""
FIELDS = ("id", "created_at", "voter", "prompt", "model_a", "model_b", "answer_a", "answer_b", "vote", "voted_at")


class Store:
    def __init__(self, path: str | Path):
        self.path = str(path)
        with self.connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @contextmanager
    def connect(self):
        # One connection per use: sqlite3 connections are not shared across the server's worker threads.
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA busy_timeout=30000")
            yield db
        finally:
            db.close()

    def create(self, voter: str, prompt: str, model_a: str, model_b: str) -> str:
        battle = uuid.uuid4().hex
        with self.connect() as db:
            db.execute("INSERT INTO battles (id, created_at, voter, prompt, model_a, model_b) VALUES (?,?,?,?,?,?)",
                       (battle, time.time(), voter, prompt, model_a, model_b))
        return battle

    def get(self, battle: str) -> dict | None:
        with self.connect() as db:
            row = db.execute(f"SELECT {','.join(FIELDS)} FROM battles WHERE id=?", (battle,)).fetchone()
        return dict(zip(FIELDS, row)) if row else None

    def set_answer(self, battle: str, side: str, text: str) -> bool:
        """Stores the answer unless one is already stored (the first finished stream wins; a vote never refers to
        an answer that changes afterwards). True when this call stored it."""
        column = {"a": "answer_a", "b": "answer_b"}[side]
        with self.connect() as db:
            cur = db.execute(f"UPDATE battles SET {column}=? WHERE id=? AND {column} IS NULL", (text, battle))
            return cur.rowcount == 1

    def vote(self, battle: str, voter: str, vote: str) -> bool:
        """True when this call recorded the vote; False when the battle already had one (or is not this voter's)."""
        if vote not in VOTES:
            raise ValueError(f"vote must be one of {VOTES}")
        with self.connect() as db:
            cur = db.execute("UPDATE battles SET vote=?, voted_at=? WHERE id=? AND voter=? AND vote IS NULL "
                             "AND trim(coalesce(answer_a, '')) != '' AND trim(coalesce(answer_b, '')) != ''",
                             (vote, time.time(), battle, voter))
            return cur.rowcount == 1

    def delete(self, battle: str) -> bool:
        with self.connect() as db:
            return db.execute("DELETE FROM battles WHERE id=?", (battle,)).rowcount == 1

    def battles(self, voted_only: bool = True) -> list[dict]:
        where = "WHERE vote IS NOT NULL" if voted_only else ""
        with self.connect() as db:
            rows = db.execute(f"SELECT {','.join(FIELDS)} FROM battles {where} ORDER BY voted_at, id").fetchall()
        return [dict(zip(FIELDS, r)) for r in rows]

    def export_jsonl(self) -> str:
        return "".join(json.dumps(b, ensure_ascii=False) + "\n" for b in self.battles())

    def import_records(self, records: list[dict]) -> int:
        """Adds battles (skipping ids already present); returns how many were added."""
        added = 0
        with self.connect() as db:
            db.execute("BEGIN")
            for r in records:
                missing = [f for f in ("id", "prompt", "model_a", "model_b", "vote") if r.get(f) is None]
                if missing or r["vote"] not in VOTES:
                    db.execute("ROLLBACK")
                    raise ValueError(f"battle {r.get('id')!r}: missing {missing} or bad vote {r.get('vote')!r}")
                cur = db.execute(f"INSERT OR IGNORE INTO battles ({','.join(FIELDS)}) VALUES ({','.join('?' * 10)})",
                                 tuple(r.get(f) if f not in ("created_at", "voter") else
                                       r.get(f) or (time.time() if f == "created_at" else "imported")
                                       for f in FIELDS))
                added += cur.rowcount
            db.execute("COMMIT")
        return added
