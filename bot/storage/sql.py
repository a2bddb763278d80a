"""The core store on SQL: sessions, effects journal, per-person flags and the outbox.

One class for both databases: SQLite (WAL mode) is the embedded default, PostgreSQL comes in
through ``PostgresDatabase`` (``bot.storage.postgres``). Other stores (reminders, clinics, ...) share its
``Database`` (``storage.db``) and join its transactions, and they register:

* ``on_effect(name, handler)``: applied to an engine effect inside the turn's transaction
  (several features may handle one effect; they run in the order they were added);
* ``erasers``: called inside ``delete_user``'s transaction, so one erasure covers every table;
* ``exporters[name]``: what ``export_user`` (``/mydata``) includes under ``name``;
* ``outcome_hooks``: told inside the same transaction when an outbox row is sent, parked
  (Telegram refused it) or blocked, with the row's params (e.g. a broadcast's delivery id).

Sessions (with the answers), journal data and outbox params are sealed at rest with the data
key (``bot.crypto``); a session is stored with the time each answer was given
(``answered_at``, for /mydata).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot import crypto
from bot.model import AnswerValue, Effect, Session
from bot.storage.base import ConflictError, OutboxRow, session_from_data, session_to_json
from bot.storage.db import Database
from bot.storage.migrations import CORE

EffectHandler = Callable[[Database, Session, Effect, float], None]
Eraser = Callable[[Database, str], None]
Exporter = Callable[[Database, str], Any]
OutcomeHook = Callable[
    [Database, int, dict[str, Any], str, str], None
]  # chat, params, state, error
TurnHook = Callable[[Database, Session, float], None]  # the session a turn wrote, when
OutboxItem = tuple[int, str, dict[str, Any]]
Before = tuple[Mapping[str, Any], Mapping[str, Any]]  # stored answers, when each was given
SESSION_READ = "SELECT data FROM sessions WHERE user_id = ?"
LOADED_KEEP = 4096  # sessions read and not yet written whose answers are kept for the write


def insert_outbox(
    db: Database, outbox: Sequence[OutboxItem], now: float, priority: int = 0, due: float = 0.0
) -> None:
    """Queue API calls; call inside a transaction to commit them with the state they follow."""
    codec = crypto.codec_for(db)
    db.defer_many(
        "INSERT INTO outbox (chat_id, method, params, priority, due_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (chat, method, codec.seal(json.dumps(params)), priority, due or now, now)
            for chat, method, params in outbox
        ],
    )


class SqlStorage:
    def __init__(self, path: str, db: Database | None = None) -> None:
        self.path = path
        self.db = db or Database(path)
        self.effect_handlers: dict[str, list[EffectHandler]] = {}
        self.erasers: list[Eraser] = []
        self.exporters: dict[str, Exporter] = {}
        self.outcome_hooks: list[OutcomeHook] = []
        self.turn_hooks: list[TurnHook] = []  # told inside commit_turn's transaction
        self._loaded: dict[str, tuple[int, Mapping[str, Any], Mapping[str, Any]]] = {}
        self.migrate()
        crypto.check_readable(self.db, self.codec)

    @property
    def codec(self) -> crypto.Codec:
        """The data key ring that seals sessions, journal data and outbox params."""
        return crypto.codec_for(self.db)

    def on_effect(self, name: str, handler: EffectHandler) -> None:
        self.effect_handlers.setdefault(name, []).append(handler)

    def schema_version(self) -> int:
        row = self.db.one("SELECT max(version) FROM schema_migrations WHERE store = 'core'")
        return int(row[0] or 0)

    def migrate(self) -> None:
        version = self.db.migrate("core", CORE)
        if self.db.dialect == "sqlite":
            self.db.execute(f"PRAGMA user_version = {version}")

    def prefetch_session(self, user_id: str) -> None:
        """The turn will read this session: on a database server the read goes with the
        turn's first round trip (``Database.prefetch``)."""
        self.db.prefetch(SESSION_READ, (user_id,))

    def load_session(self, user_id: str) -> Session | None:
        row = self.db.one(SESSION_READ, (user_id,))
        if row is None:
            return None
        data = json.loads(self.codec.open(row[0]))
        session = session_from_data(data)
        # what commit_turn needs of it (its revision and when each answer was given), so the
        # turn that writes it next need not read it again
        if len(self._loaded) >= LOADED_KEEP:
            self._loaded.clear()
        self._loaded[user_id] = (
            session.revision,
            data.get("answers", {}),
            data.get("answered_at", {}),
        )
        return session

    def session_record(self, user_id: str) -> dict[str, Any] | None:
        """The stored session as plain data, with ``answered_at`` (for /mydata)."""
        row = self.db.one("SELECT data FROM sessions WHERE user_id = ?", (user_id,))
        return dict(self.codec.open_json(row[0])) if row else None

    def _sealed_record(self, session: Session, before: Before, now: float) -> str:
        """The session sealed, with when each answer was given (kept from ``before``, the
        stored answers and their times, for the answers that did not change)."""
        times = answered_at(session.answers, before[0], before[1], now)
        text = session_to_json(session)  # a JSON object: add one key before its closing brace
        if times:
            text = f'{text[:-1]},"answered_at":{json.dumps(times, separators=(",", ":"))}}}'
        return self.codec.seal(text)

    def commit_turn(
        self,
        session: Session,
        effects: Sequence[Effect] = (),
        outbox: Sequence[OutboxItem] = (),
        now: float = 0.0,
    ) -> None:
        now = now or time.time()
        with self.db.transaction() as db:
            self._write_session(db, session, now)
            db.defer_many(
                "INSERT INTO journal (user_id, kind, data, at) VALUES (?, ?, ?, ?)",
                [
                    (session.user_id, e.name, self.codec.seal(json.dumps(dict(e.args))), now)
                    for e in effects
                ],
            )
            for effect in effects:
                for handler in self.effect_handlers.get(effect.name, ()):
                    handler(db, session, effect, now)
            for hook in self.turn_hooks:
                hook(db, session, now)
            insert_outbox(db, outbox, now)

    def _write_session(self, db: Database, session: Session, now: float) -> None:
        """Write the session if the stored one is still ``session.revision - 1``, else raise
        ConflictError. The stored answers (for ``answered_at``) come from the read of this
        revision that the turn made (``load_session``); only without one is the row read."""
        user = session.user_id
        loaded = self._loaded.pop(user, None)
        if session.revision == 1:  # a new session: nothing stored may be there yet
            record = self._sealed_record(session, ({}, {}), now)
            db.write_one(
                "INSERT INTO sessions (user_id, data, revision, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO NOTHING",
                (user, record, session.revision, now),
                ConflictError(f"session of {user} changed meanwhile"),
            )
        else:
            before = loaded[1:] if loaded and loaded[0] == session.revision - 1 else None
            if before is None:
                row = db.one("SELECT revision, data FROM sessions WHERE user_id = ?", (user,))
                if row is None or row[0] != session.revision - 1:
                    raise ConflictError(f"session of {user} changed meanwhile")
                old = json.loads(self.codec.open(row[1]))
                before = (old.get("answers", {}), old.get("answered_at", {}))
            record = self._sealed_record(session, before, now)
            db.write_one(
                "UPDATE sessions SET data = ?, revision = ?, updated_at = ?"
                " WHERE user_id = ? AND revision = ?",
                (record, session.revision, now, user, session.revision - 1),
                ConflictError(f"session of {user} changed meanwhile"),
            )

    def commit_outbox(self, outbox: Sequence[OutboxItem], now: float) -> None:
        with self.db.transaction() as db:
            insert_outbox(db, outbox, now or time.time())

    def journal(self, user_id: str) -> list[tuple[str, dict[str, Any]]]:
        rows = self.db.all(
            "SELECT kind, data FROM journal WHERE user_id = ? ORDER BY id", (user_id,)
        )
        return [(kind, self.codec.open_json(data)) for kind, data in rows]

    def claim_outbox(
        self, limit: int, now: float, lease: float = 60.0, chat_id: int | None = None
    ) -> list[OutboxRow]:
        """Due rows, replies before bulk messages, oldest first; claimed for ``lease`` s.
        A row whose chat has a row before it (by priority, then id) waiting for a retry is
        left for later: a chat's messages never overtake one that failed.
        ``chat_id`` limits the claim to one chat (the console serves one person)."""
        only = "" if chat_id is None else " AND o.chat_id = ?"
        extra = () if chat_id is None else (chat_id,)
        with self.db.transaction() as db:
            rows = db.all(
                "SELECT o.id, o.chat_id, o.method, o.params, o.attempts FROM outbox o"
                " WHERE o.state = 'pending' AND o.due_at <= ? AND o.claimed_until <= ?"
                + only
                + " AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.chat_id = o.chat_id"
                " AND e.state = 'pending' AND e.due_at > ?"
                " AND (e.priority < o.priority OR (e.priority = o.priority AND e.id < o.id)))"
                " ORDER BY o.priority, o.id LIMIT ? {skip_locked}",
                (now, now, *extra, now, limit),
            )
            db.executemany(
                "UPDATE outbox SET claimed_until = ? WHERE id = ?",
                [(now + lease, row[0]) for row in rows],
            )
        codec = self.codec
        return [OutboxRow(r[0], r[1], r[2], codec.open_json(r[3]), r[4]) for r in rows]

    def mark_sent(self, row_id: int, now: float) -> None:
        with self.db.transaction() as db:
            db.execute("UPDATE outbox SET state = 'sent', sent_at = ? WHERE id = ?", (now, row_id))
            self._tell_hooks(db, row_id, "sent", "")

    def mark_sent_many(self, rows: Sequence[OutboxRow], now: float) -> None:
        """Mark rows sent in one transaction, telling the outcome hooks of each inside it
        (with the params the claim read: no second read). A row erased meanwhile (the person
        asked to be forgotten) is skipped."""
        if not rows:
            return
        update = "UPDATE outbox SET state = 'sent', sent_at = ? WHERE id = ?"
        with self.db.transaction() as db:
            if not self.outcome_hooks:
                db.executemany(update, [(now, row.id) for row in rows])
                return
            for row in rows:
                if db.execute(update, (now, row.id)).rowcount:
                    for hook in self.outcome_hooks:
                        hook(db, row.chat_id, row.params, "sent", "")

    def _tell_hooks(self, db: Database, row_id: int, state: str, error: str) -> None:
        if not self.outcome_hooks:
            return
        row = db.one("SELECT chat_id, params FROM outbox WHERE id = ?", (row_id,))
        if row is None:
            return
        params = self.codec.open_json(row[1])
        for hook in self.outcome_hooks:
            hook(db, int(row[0]), params, state, error)

    def retry_later(self, row_id: int, at: float, error: str) -> None:
        with self.db.transaction() as db:
            db.execute(
                "UPDATE outbox SET due_at = ?, claimed_until = 0, attempts = attempts + 1,"
                " error = ? WHERE id = ?",
                (at, error, row_id),
            )

    def park(self, row_id: int, error: str) -> None:
        with self.db.transaction() as db:
            db.execute(
                "UPDATE outbox SET state = 'parked', error = ? WHERE id = ?", (error, row_id)
            )
            self._tell_hooks(db, row_id, "blocked" if error.startswith("403") else "parked", error)

    def release_claims(self) -> None:
        with self.db.transaction() as db:
            db.execute("UPDATE outbox SET claimed_until = 0 WHERE state = 'pending'")

    def pending_outbox(self) -> int:
        row = self.db.one("SELECT count(*) FROM outbox WHERE state = 'pending'")
        return int(row[0])

    def set_flag(self, user_id: str, name: str, value: bool) -> None:
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO flags (user_id, name, value) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id, name) DO UPDATE SET value = excluded.value",
                (user_id, name, int(value)),
            )

    def get_flag(self, user_id: str, name: str) -> bool:
        row = self.db.one("SELECT value FROM flags WHERE user_id = ? AND name = ?", (user_id, name))
        return bool(row and row[0])

    def delete_user(self, user_id: str) -> None:
        chat = int(user_id) if user_id.lstrip("-").isdigit() else None
        with self.db.transaction() as db:
            for table in ("sessions", "journal", "flags"):
                db.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
            db.execute("DELETE FROM outbox WHERE chat_id = ?", (chat,))
            for eraser in self.erasers:
                eraser(db, user_id)

    def export_user(self, user_id: str) -> dict[str, Any]:
        """Everything stored about a person, as plain data (for /mydata)."""
        session = self.load_session(user_id)
        data: dict[str, Any] = {
            "session": json.loads(session_to_json(session)) if session else None,
            "journal": [{"kind": k, "data": d} for k, d in self.journal(user_id)],
            "flags": {
                name: bool(value)
                for name, value in self.db.all(
                    "SELECT name, value FROM flags WHERE user_id = ?", (user_id,)
                )
            },
        }
        for name, exporter in self.exporters.items():
            data[name] = exporter(self.db, user_id)
        return data

    def close(self) -> None:
        self.db.close()


def answered_at(
    answers: Mapping[str, AnswerValue],
    before: Mapping[str, Any],
    times: Mapping[str, Any],
    now: float,
) -> dict[str, float]:
    """When each answer was given: ``now`` for a new or changed one, else its earlier time."""
    return {
        name: float(times.get(name, now)) if name in before and before[name] == value else now
        for name, value in answers.items()
    }
