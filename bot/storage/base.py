"""The storage interface and the records it keeps."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from bot.errors import StorageError
from bot.model import Effect, Session


class ConflictError(StorageError):
    """Someone else changed this session since it was loaded; load it again and retry."""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One API call waiting to be sent to a chat (a reply, a reminder, a broadcast)."""

    id: int
    chat_id: int
    method: str
    params: dict[str, Any]
    attempts: int = 0


class Storage(Protocol):
    def load_session(self, user_id: str) -> Session | None:
        """The person's session, or None for someone new."""

    def commit_turn(
        self,
        session: Session,
        effects: Sequence[Effect] = (),
        outbox: Sequence[tuple[int, str, dict[str, Any]]] = (),
        now: float = 0.0,
    ) -> None:
        """Save the new session, its effects and the messages to send, in one transaction.

        Raises ConflictError if the stored session is not the one this turn started from
        (``session.revision - 1``), so two workers never interleave one conversation.
        """

    def commit_outbox(self, outbox: Sequence[tuple[int, str, dict[str, Any]]], now: float) -> None:
        """Queue messages that go with no change of session (notes, /stop's answer)."""

    def release_claims(self) -> None:
        """Forget every claim: at start, when no other process can be sending."""

    def journal(self, user_id: str) -> list[tuple[str, dict[str, Any]]]:
        """Effects recorded for a person (consents, red flags, ...), oldest first."""

    def claim_outbox(self, limit: int, now: float, lease: float = 60.0) -> list[OutboxRow]:
        """Claim up to ``limit`` due outbox rows, oldest first; a claim expires after lease."""

    def mark_sent(self, row_id: int, now: float) -> None: ...

    def mark_sent_many(self, rows: Sequence[OutboxRow], now: float) -> None:
        """Mark several rows sent in one transaction (the sender's rows of one wave)."""

    def retry_later(self, row_id: int, at: float, error: str) -> None: ...

    def park(self, row_id: int, error: str) -> None:
        """Give up on a row that can never be sent (Telegram said 400); keep it for a look."""

    def pending_outbox(self) -> int:
        """Rows not yet sent or parked."""

    def set_flag(self, user_id: str, name: str, value: bool) -> None:
        """Per-person switches such as ``blocked`` (403 from Telegram) or ``stopped``."""

    def get_flag(self, user_id: str, name: str) -> bool: ...

    def delete_user(self, user_id: str) -> None:
        """Erase everything stored about a person."""

    def close(self) -> None: ...


def session_to_json(session: Session) -> str:
    data = asdict(session)
    data["answers"] = dict(session.answers)
    data["picked"] = list(session.picked)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def session_from_json(text: str) -> Session:
    return session_from_data(json.loads(text))


def session_from_data(data: dict[str, Any]) -> Session:
    """A session from its stored JSON object, read already (keys it does not know are left)."""
    data = dict(data)
    data["picked"] = tuple(data.get("picked", ()))
    known = Session.__dataclass_fields__
    return Session(**{key: value for key, value in data.items() if key in known})
