"""In-memory storage: the fake every test can use, with the same contract as SQLite."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.model import Effect, Session
from bot.storage.base import ConflictError, OutboxRow


@dataclass
class _Outgoing:
    row: OutboxRow
    due: float
    state: str = "pending"  # pending | sent | parked
    claimed_until: float = 0.0
    error: str = ""


class MemoryStorage:
    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._journal: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self._outbox: dict[int, _Outgoing] = {}
        self._flags: dict[tuple[str, str], bool] = {}
        self._next_id = 1
        self._lock = threading.Lock()

    def load_session(self, user_id: str) -> Session | None:
        return self._sessions.get(user_id)

    def commit_turn(
        self,
        session: Session,
        effects: Sequence[Effect] = (),
        outbox: Sequence[tuple[int, str, dict[str, Any]]] = (),
        now: float = 0.0,
    ) -> None:
        with self._lock:
            stored = self._sessions.get(session.user_id)
            expected = stored.revision if stored else 0
            if session.revision - 1 != expected:
                raise ConflictError(f"session of {session.user_id} changed meanwhile")
            self._sessions[session.user_id] = session
            log = self._journal.setdefault(session.user_id, [])
            log += [(effect.name, dict(effect.args)) for effect in effects]
        self.commit_outbox(outbox, now)

    def commit_outbox(self, outbox: Sequence[tuple[int, str, dict[str, Any]]], now: float) -> None:
        with self._lock:
            for chat_id, method, params in outbox:
                row = OutboxRow(self._next_id, chat_id, method, dict(params))
                self._outbox[row.id] = _Outgoing(row, now)
                self._next_id += 1

    def release_claims(self) -> None:
        for item in self._outbox.values():
            item.claimed_until = 0.0

    def journal(self, user_id: str) -> list[tuple[str, dict[str, Any]]]:
        return list(self._journal.get(user_id, []))

    def claim_outbox(self, limit: int, now: float, lease: float = 60.0) -> list[OutboxRow]:
        with self._lock:
            waiting: set[int] = set()  # chats with an earlier row waiting for a retry
            due = []
            for item in sorted(self._outbox.values(), key=lambda i: i.row.id):
                if item.state != "pending":
                    continue
                if item.due > now:
                    waiting.add(item.row.chat_id)
                elif item.row.chat_id not in waiting and item.claimed_until <= now:
                    due.append(item)
            due = due[:limit]
            for item in due:
                item.claimed_until = now + lease
            return [item.row for item in due]

    def mark_sent(self, row_id: int, now: float) -> None:
        self._outbox[row_id].state = "sent"

    def mark_sent_many(self, rows: Sequence[OutboxRow], now: float) -> None:
        for row in rows:
            if row.id in self._outbox:
                self._outbox[row.id].state = "sent"

    def retry_later(self, row_id: int, at: float, error: str) -> None:
        item = self._outbox[row_id]
        item.due, item.claimed_until, item.error = at, 0.0, error
        item.row = OutboxRow(
            item.row.id, item.row.chat_id, item.row.method, item.row.params, item.row.attempts + 1
        )

    def park(self, row_id: int, error: str) -> None:
        self._outbox[row_id].state = "parked"
        self._outbox[row_id].error = error

    def pending_outbox(self) -> int:
        return sum(1 for item in self._outbox.values() if item.state == "pending")

    def set_flag(self, user_id: str, name: str, value: bool) -> None:
        self._flags[(user_id, name)] = value

    def get_flag(self, user_id: str, name: str) -> bool:
        return self._flags.get((user_id, name), False)

    def delete_user(self, user_id: str) -> None:
        with self._lock:
            self._sessions.pop(user_id, None)
            self._journal.pop(user_id, None)
            for key in [k for k in self._flags if k[0] == user_id]:
                del self._flags[key]
            chat = int(user_id) if user_id.lstrip("-").isdigit() else None
            for row_id in [i for i, o in self._outbox.items() if o.row.chat_id == chat]:
                del self._outbox[row_id]

    def close(self) -> None:
        pass
