"""SQLite storage: the embedded default. WAL mode, one transaction per turn."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from bot.model import Effect, Session
from bot.storage.base import ConflictError, OutboxRow, session_from_json, session_to_json
from bot.storage.migrations import SQLITE


class SqliteStorage:
    def __init__(self, path: str) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._lock = threading.RLock()
        self._db.execute("PRAGMA busy_timeout = 30000")
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute("PRAGMA foreign_keys = ON")
        self.migrate()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; BEGIN IMMEDIATE so concurrent writers queue, not fail."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        with self._write() as db:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            for number, script in enumerate(SQLITE[version:], start=version + 1):
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    def load_session(self, user_id: str) -> Session | None:
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM sessions WHERE user_id = ?", (user_id,)
            ).fetchone()
        return session_from_json(row[0]) if row else None

    def commit_turn(
        self,
        session: Session,
        effects: Sequence[Effect] = (),
        outbox: Sequence[tuple[int, str, dict[str, Any]]] = (),
        now: float = 0.0,
    ) -> None:
        now = now or time.time()
        with self._write() as db:
            row = db.execute(
                "SELECT revision FROM sessions WHERE user_id = ?", (session.user_id,)
            ).fetchone()
            if session.revision - 1 != (row[0] if row else 0):
                raise ConflictError(f"session of {session.user_id} changed meanwhile")
            db.execute(
                "INSERT INTO sessions (user_id, data, revision, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET data = excluded.data,"
                " revision = excluded.revision, updated_at = excluded.updated_at",
                (session.user_id, session_to_json(session), session.revision, now),
            )
            db.executemany(
                "INSERT INTO journal (user_id, kind, data, at) VALUES (?, ?, ?, ?)",
                [(session.user_id, e.name, json.dumps(dict(e.args)), now) for e in effects],
            )
            self._insert_outbox(db, outbox, now)

    def commit_outbox(self, outbox: Sequence[tuple[int, str, dict[str, Any]]], now: float) -> None:
        with self._write() as db:
            self._insert_outbox(db, outbox, now or time.time())

    @staticmethod
    def _insert_outbox(
        db: sqlite3.Connection, outbox: Sequence[tuple[int, str, dict[str, Any]]], now: float
    ) -> None:
        db.executemany(
            "INSERT INTO outbox (chat_id, method, params, due_at, created_at) VALUES (?, ?, ?, ?, ?)",
            [(chat, method, json.dumps(params), now, now) for chat, method, params in outbox],
        )

    def release_claims(self) -> None:
        with self._write() as db:
            db.execute("UPDATE outbox SET claimed_until = 0 WHERE state = 'pending'")

    def journal(self, user_id: str) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT kind, data FROM journal WHERE user_id = ? ORDER BY id", (user_id,)
            ).fetchall()
        return [(kind, json.loads(data)) for kind, data in rows]

    def claim_outbox(self, limit: int, now: float, lease: float = 60.0) -> list[OutboxRow]:
        with self._write() as db:
            rows = db.execute(
                "SELECT id, chat_id, method, params, attempts FROM outbox"
                " WHERE state = 'pending' AND due_at <= ? AND claimed_until <= ?"
                " ORDER BY id LIMIT ?",
                (now, now, limit),
            ).fetchall()
            db.executemany(
                "UPDATE outbox SET claimed_until = ? WHERE id = ?",
                [(now + lease, row[0]) for row in rows],
            )
        return [OutboxRow(r[0], r[1], r[2], json.loads(r[3]), r[4]) for r in rows]

    def mark_sent(self, row_id: int, now: float) -> None:
        with self._write() as db:
            db.execute("UPDATE outbox SET state = 'sent', sent_at = ? WHERE id = ?", (now, row_id))

    def retry_later(self, row_id: int, at: float, error: str) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE outbox SET due_at = ?, claimed_until = 0, attempts = attempts + 1,"
                " error = ? WHERE id = ?",
                (at, error, row_id),
            )

    def park(self, row_id: int, error: str) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE outbox SET state = 'parked', error = ? WHERE id = ?", (error, row_id)
            )

    def pending_outbox(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()
        return int(row[0])

    def set_flag(self, user_id: str, name: str, value: bool) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO flags (user_id, name, value) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id, name) DO UPDATE SET value = excluded.value",
                (user_id, name, int(value)),
            )

    def get_flag(self, user_id: str, name: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM flags WHERE user_id = ? AND name = ?", (user_id, name)
            ).fetchone()
        return bool(row and row[0])

    def delete_user(self, user_id: str) -> None:
        chat = int(user_id) if user_id.lstrip("-").isdigit() else None
        with self._write() as db:
            for table in ("sessions", "journal", "flags"):
                db.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
            db.execute("DELETE FROM outbox WHERE chat_id = ?", (chat,))

    def close(self) -> None:
        with self._lock:
            self._db.close()
