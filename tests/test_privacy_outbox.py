"""Sent messages can quote health answers (a summary): /withdraw erases them, and the daily
purge keeps sent messages only as long as a retry could need them."""

from __future__ import annotations

from pathlib import Path

from bot.features import Loaded, Ports, load_features
from bot.features.privacy.chat import SENT_KEPT, purge_job, withdraw
from bot.model import Session
from bot.storage import SqlStorage

DAY = 24 * 3600.0


def _storage(tmp_path: Path, active_at: float = 1.0) -> SqlStorage:
    """A store where people 1, 2, 3, 7 and 42 have a session (messages to people without
    one are forgotten as soon as they are sent)."""
    storage = SqlStorage(str(tmp_path / "p.db"))
    load_features().setup(storage)
    for user in ("1", "2", "3", "7", "42"):
        storage.commit_turn(Session(user, "hip", 1, "menu", revision=1), now=active_at)
    return storage


def _rows(storage: SqlStorage) -> list[tuple[int, str, str]]:
    return [
        tuple(r) for r in storage.db.all("SELECT chat_id, state, method FROM outbox ORDER BY id")
    ]


def test_withdraw_erases_sent_messages_but_not_what_is_still_to_send(tmp_path: Path) -> None:
    storage = _storage(tmp_path)
    storage.commit_outbox([(42, "sendMessage", {"chat_id": 42, "text": "Pain 9 of 10"})], 10.0)
    storage.commit_outbox([(7, "sendMessage", {"chat_id": 7, "text": "other person"})], 10.0)
    for row in storage.claim_outbox(10, 11.0):
        storage.mark_sent(row.id, 11.0)
    storage.commit_outbox([(42, "sendMessage", {"chat_id": 42, "text": "goodbye"})], 12.0)
    with storage.db.transaction() as db:
        withdraw(db, "42", 13.0)
    assert _rows(storage) == [(7, "sent", "sendMessage"), (42, "pending", "sendMessage")]


def test_daily_purge_drops_old_sent_messages(tmp_path: Path) -> None:
    now = 1_000 * DAY
    storage = _storage(tmp_path, active_at=now - DAY)  # active people: the purge keeps them
    storage.commit_outbox([(1, "sendMessage", {"chat_id": 1, "text": "old"})], now - SENT_KEPT - 60)
    storage.commit_outbox([(2, "sendMessage", {"chat_id": 2, "text": "new"})], now - 60)
    for row in storage.claim_outbox(10, now):
        storage.mark_sent(row.id, now)
    storage.commit_outbox(
        [(3, "sendMessage", {"chat_id": 3, "text": "waiting"})], now - SENT_KEPT - 60
    )
    purge_job(Ports(storage, Loaded()), now)
    chats = [row[0] for row in _rows(storage)]
    assert chats == [2, 3]  # the old sent one is gone; a pending one is never dropped
