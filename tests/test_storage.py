"""One contract suite, run against every Storage backend (memory fake and SQLite file)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.model import Effect, Session
from bot.storage import ConflictError, MemoryStorage, SqlStorage, Storage, open_storage
from bot.storage.migrations import SQLITE

Factory = Callable[[], Storage]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def storage(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Storage]:
    if request.param == "postgres":
        from bot.crypto import new_key
        from tests.fakes.postgres import fresh_database

        monkeypatch.setenv("HIPBOT_DATA_KEY", new_key())
        databases = fresh_database()
        store: Storage = open_storage(next(databases))
        yield store
        store.close()
        databases.close()
        return
    store = MemoryStorage() if request.param == "memory" else SqlStorage(str(tmp_path / "s.db"))
    yield store
    store.close()


def first_session(user: str = "42", **changes: object) -> Session:
    """A session as the engine hands it over after the person's first event."""
    session = Session(user, "mini", 2, "menu", revision=1)
    return replace(session, **changes)  # type: ignore[arg-type]


def next_turn(session: Session, **changes: object) -> Session:
    return replace(session, revision=session.revision + 1, **changes)  # type: ignore[arg-type]


# ---------------------------------------------------------------- sessions


def test_a_new_person_has_no_session(storage: Storage) -> None:
    assert storage.load_session("nobody") is None


def test_session_round_trip_keeps_every_field(storage: Storage) -> None:
    session = first_session(
        answers={"pain": 7, "adult": True, "hurts": ["sitting", "stairs"], "when": "09:30"},
        language="de",
        failures=2,
        picked=("sitting",),
    )
    storage.commit_turn(session)
    assert storage.load_session("42") == session


def test_unicode_answers_survive(storage: Storage) -> None:
    session = first_session(answers={"note": "Hüfte ✅ <b>"})
    storage.commit_turn(session)
    loaded = storage.load_session("42")
    assert loaded is not None and loaded.answers["note"] == "Hüfte ✅ <b>"


def test_each_turn_replaces_the_session(storage: Storage) -> None:
    first = first_session()
    storage.commit_turn(first)
    second = next_turn(first, step="pain", answers={"adult": True})
    storage.commit_turn(second)
    assert storage.load_session("42") == second


def test_stale_revision_is_a_conflict(storage: Storage) -> None:
    first = first_session()
    storage.commit_turn(first)
    storage.commit_turn(next_turn(first, step="pain"))
    # a second worker that also started from `first` must not overwrite the newer turn
    with pytest.raises(ConflictError):
        storage.commit_turn(next_turn(first, step="help"))
    loaded = storage.load_session("42")
    assert loaded is not None and loaded.step == "pain"


def test_a_new_person_must_start_at_revision_1(storage: Storage) -> None:
    with pytest.raises(ConflictError):
        storage.commit_turn(first_session(revision=5))
    assert storage.load_session("42") is None


def test_a_conflict_saves_nothing_of_the_turn(storage: Storage) -> None:
    first = first_session()
    storage.commit_turn(first)
    with pytest.raises(ConflictError):
        storage.commit_turn(first, [Effect("red_flag")], [(42, "sendMessage", {"text": "x"})])
    assert storage.journal("42") == []
    assert storage.pending_outbox() == 0


# ---------------------------------------------------------------- journal


def test_journal_keeps_effects_in_order_per_person(storage: Storage) -> None:
    first = first_session()
    storage.commit_turn(first, [Effect("consent_given", {"version": 1})])
    storage.commit_turn(next_turn(first), [Effect("red_flag", {"flag": "fever"}), Effect("x")])
    storage.commit_turn(first_session("7"), [Effect("other_person")])
    assert storage.journal("42") == [
        ("consent_given", {"version": 1}),
        ("red_flag", {"flag": "fever"}),
        ("x", {}),
    ]
    assert storage.journal("7") == [("other_person", {})]
    assert storage.journal("nobody") == []


# ---------------------------------------------------------------- outbox


def queue(storage: Storage, *texts: str, chat: int = 42, now: float = 100.0) -> None:
    session = storage.load_session(str(chat))
    turn = next_turn(session) if session else first_session(str(chat))
    storage.commit_turn(
        turn, outbox=[(chat, "sendMessage", {"text": text}) for text in texts], now=now
    )


def test_outbox_claims_due_rows_oldest_first(storage: Storage) -> None:
    queue(storage, "a", "b", "c")
    assert storage.pending_outbox() == 3
    rows = storage.claim_outbox(limit=2, now=100.0)
    assert [row.params["text"] for row in rows] == ["a", "b"]
    assert all(row.chat_id == 42 and row.method == "sendMessage" for row in rows)
    assert [row.attempts for row in rows] == [0, 0]


def test_rows_are_not_due_before_they_were_queued(storage: Storage) -> None:
    queue(storage, "later", now=500.0)
    assert storage.claim_outbox(limit=10, now=499.0) == []
    assert len(storage.claim_outbox(limit=10, now=500.0)) == 1


def test_a_claimed_row_is_not_claimed_again_until_its_lease_expires(storage: Storage) -> None:
    queue(storage, "a", "b")
    (first,) = storage.claim_outbox(limit=1, now=100.0, lease=30.0)
    (second,) = storage.claim_outbox(limit=5, now=101.0, lease=30.0)
    assert (first.params["text"], second.params["text"]) == ("a", "b")
    assert storage.claim_outbox(limit=5, now=129.0) == []
    # the worker holding them died: after the lease both come back
    again = storage.claim_outbox(limit=5, now=131.5, lease=30.0)
    assert [row.id for row in again] == [first.id, second.id]


def test_sent_rows_are_done(storage: Storage) -> None:
    queue(storage, "a", "b")
    rows = storage.claim_outbox(limit=5, now=100.0)
    storage.mark_sent(rows[0].id, now=101.0)
    assert storage.pending_outbox() == 1
    (left,) = storage.claim_outbox(limit=5, now=1000.0)
    assert left.id == rows[1].id


def test_retry_later_counts_the_attempt_and_waits(storage: Storage) -> None:
    queue(storage, "a")
    (row,) = storage.claim_outbox(limit=1, now=100.0)
    storage.retry_later(row.id, at=200.0, error="429 Too Many Requests")
    assert storage.pending_outbox() == 1
    assert storage.claim_outbox(limit=1, now=199.0) == []
    (retried,) = storage.claim_outbox(limit=1, now=200.0)
    assert (retried.id, retried.attempts) == (row.id, 1)
    storage.retry_later(row.id, at=300.0, error="again")
    (third,) = storage.claim_outbox(limit=1, now=300.0)
    assert third.attempts == 2


def test_parked_rows_are_never_claimed(storage: Storage) -> None:
    queue(storage, "a", "b")
    (row,) = storage.claim_outbox(limit=1, now=100.0)
    storage.park(row.id, "400 Bad Request: chat not found")
    assert storage.pending_outbox() == 1
    assert [r.params["text"] for r in storage.claim_outbox(limit=5, now=10_000.0)] == ["b"]


# ---------------------------------------------------------------- flags


def test_flags_default_to_false_and_are_per_person(storage: Storage) -> None:
    assert storage.get_flag("42", "blocked") is False
    storage.set_flag("42", "blocked", True)
    assert storage.get_flag("42", "blocked") is True
    assert storage.get_flag("7", "blocked") is False
    assert storage.get_flag("42", "stopped") is False
    storage.set_flag("42", "blocked", False)
    assert storage.get_flag("42", "blocked") is False


# ---------------------------------------------------------------- erasure


def test_delete_user_removes_everything_of_that_person_only(storage: Storage) -> None:
    for user in ("42", "7"):
        storage.commit_turn(
            first_session(user, answers={"pain": 3}),
            [Effect("consent_given")],
            [(int(user), "sendMessage", {"text": f"hi {user}"})],
            now=100.0,
        )
        storage.set_flag(user, "stopped", True)
    storage.delete_user("42")
    assert storage.load_session("42") is None
    assert storage.journal("42") == []
    assert storage.get_flag("42", "stopped") is False
    assert [row.chat_id for row in storage.claim_outbox(limit=10, now=100.0)] == [7]
    # the other person is untouched
    assert storage.load_session("7") == first_session("7", answers={"pain": 3})
    assert storage.journal("7") == [("consent_given", {})]
    assert storage.get_flag("7", "stopped") is True
    # the person may come back as someone new
    storage.commit_turn(first_session("42"))
    assert storage.load_session("42") == first_session("42")


# ---------------------------------------------------------------- SQLite specifics


def test_sqlite_keeps_everything_across_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "restart.db")
    store = SqlStorage(path)
    session = first_session(answers={"pain": 4})
    store.commit_turn(session, [Effect("red_flag")], [(42, "sendMessage", {"text": "x"})])
    store.set_flag("42", "blocked", True)
    store.close()

    reopened = SqlStorage(path)
    try:
        assert reopened.load_session("42") == session
        assert reopened.journal("42") == [("red_flag", {})]
        assert reopened.get_flag("42", "blocked") is True
        assert reopened.pending_outbox() == 1
        reopened.commit_turn(next_turn(session, step="pain"))  # revisions carry on
        with pytest.raises(ConflictError):
            reopened.commit_turn(next_turn(session, step="help"))
    finally:
        reopened.close()


def test_sqlite_migrations_set_user_version(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    store = SqlStorage(str(path))
    assert store.schema_version() == len(SQLITE) >= 1
    store.close()
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(SQLITE)
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
        assert {"sessions", "journal", "flags", "outbox"} <= tables
    finally:
        raw.close()


def test_sqlite_migrating_twice_changes_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "twice.db")
    SqlStorage(path).close()
    store = SqlStorage(path)  # a second start must not re-run CREATE TABLE
    try:
        store.migrate()
        assert store.schema_version() == len(SQLITE)
    finally:
        store.close()


def test_sqlite_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    SqlStorage(str(path)).close()
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()


# ---------------------------------------------------------------- open_storage


def test_open_storage_picks_the_backend(tmp_path: Path) -> None:
    memory = open_storage("memory://")
    assert isinstance(memory, MemoryStorage)
    nested = tmp_path / "data" / "deep" / "hipbot.db"
    store = open_storage(f"sqlite:///{nested}")
    try:
        assert isinstance(store, SqlStorage)
        assert nested.exists()
    finally:
        store.close()


def test_open_storage_refuses_unknown_urls() -> None:
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="'mysql' is not supported"):
        open_storage("mysql://localhost/hipbot")


def test_sqlite_two_connections_see_each_others_turns(tmp_path: Path) -> None:
    """Two workers on one file: the slower one gets a conflict, not a lost update."""
    path = str(tmp_path / "shared.db")
    one, two = SqlStorage(path), SqlStorage(path)
    try:
        first = first_session()
        one.commit_turn(first)
        started_from = two.load_session("42")
        assert started_from == first
        one.commit_turn(next_turn(first, step="pain"))
        with pytest.raises(ConflictError):
            two.commit_turn(next_turn(started_from, step="help"))
        assert two.load_session("42") == next_turn(first, step="pain")
    finally:
        one.close()
        two.close()
