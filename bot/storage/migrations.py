"""Schema migrations, applied in order. Never edit a released step: add a new one."""

from __future__ import annotations

SQLITE: list[str] = [
    # 1: sessions, the effects journal, per-person flags and the outbox
    """
    CREATE TABLE sessions (
        user_id    TEXT PRIMARY KEY,
        data       TEXT NOT NULL,
        revision   INTEGER NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE journal (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id TEXT NOT NULL,
        kind    TEXT NOT NULL,
        data    TEXT NOT NULL,
        at      REAL NOT NULL
    );
    CREATE INDEX journal_user ON journal (user_id, id);
    CREATE TABLE flags (
        user_id TEXT NOT NULL,
        name    TEXT NOT NULL,
        value   INTEGER NOT NULL,
        PRIMARY KEY (user_id, name)
    );
    CREATE TABLE outbox (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id       INTEGER NOT NULL,
        method        TEXT NOT NULL,
        params        TEXT NOT NULL,
        state         TEXT NOT NULL DEFAULT 'pending',
        attempts      INTEGER NOT NULL DEFAULT 0,
        due_at        REAL NOT NULL,
        claimed_until REAL NOT NULL DEFAULT 0,
        created_at    REAL NOT NULL,
        sent_at       REAL,
        error         TEXT
    );
    CREATE INDEX outbox_due ON outbox (state, due_at, id);
    CREATE INDEX outbox_chat ON outbox (chat_id);
    """,
]
