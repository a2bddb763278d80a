"""A lost PostgreSQL connection (server restart, network blip) is replaced between
transactions; work inside a transaction that lost it fails loudly, never half-applied."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from bot.crypto import new_key
from bot.model import Session
from bot.storage import SqlStorage, open_storage
from tests.fakes.postgres import fresh_database


@pytest.fixture
def storage(monkeypatch: pytest.MonkeyPatch) -> Iterator[SqlStorage]:
    monkeypatch.setenv("HIPBOT_DATA_KEY", new_key())
    databases = fresh_database()
    store = open_storage(next(databases))
    assert isinstance(store, SqlStorage)
    yield store
    store.close()
    databases.close()


def _cut(storage: SqlStorage) -> None:
    """Terminate the storage's server connection from outside, as a restart would."""
    pid = storage.db.one("SELECT pg_backend_pid()")[0]
    with psycopg.connect(storage.db.path, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_work_goes_on_after_the_connection_is_lost(storage: SqlStorage) -> None:
    storage.commit_turn(Session("1", "hip", 1, "menu", revision=1))
    _cut(storage)
    assert storage.load_session("1") is not None  # a read on a fresh connection
    _cut(storage)
    storage.commit_turn(Session("1", "hip", 1, "learn_joint", revision=2))  # a transaction too
    session = storage.load_session("1")
    assert session is not None and session.step == "learn_joint"


def test_a_transaction_that_lost_its_connection_fails_whole(storage: SqlStorage) -> None:
    with pytest.raises(psycopg.OperationalError), storage.db.transaction() as db:
        db.execute("INSERT INTO flags (user_id, name, value) VALUES ('9', 'stopped', 1)")
        _cut(storage)
        db.execute("INSERT INTO flags (user_id, name, value) VALUES ('9', 'blocked', 1)")
    assert storage.get_flag("9", "stopped") is False  # nothing of it was kept


def test_a_commit_whose_answer_was_lost_is_not_sent_again(
    storage: SqlStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch ending in COMMIT may have committed before its answer was lost: sending it
    again on a new connection would repeat the transaction (a message queued twice). The
    writes go first, where a retry is safe; the COMMIT goes once, and a loss is reported."""
    db = storage.db
    real = db._pipeline  # type: ignore[attr-defined]
    commits: list[int] = []

    def lose_the_commit_answer(queue: list[object], final: tuple[str, object] | None) -> object:
        if final is not None and final[0] == "COMMIT":
            commits.append(len(queue))
            real(queue, final)  # the server commits ...
            raise psycopg.OperationalError("connection lost")  # ... and the answer is lost
        return real(queue, final)

    monkeypatch.setattr(db, "_pipeline", lose_the_commit_answer)
    with pytest.raises(psycopg.OperationalError):
        storage.commit_outbox([(7, "say", {"text": "once"})], 1.0)
    monkeypatch.undo()
    assert commits == [0]  # COMMIT sent once, on its own
    assert db.one("SELECT count(*) FROM outbox WHERE chat_id = 7")[0] == 1
