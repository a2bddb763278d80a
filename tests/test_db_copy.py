"""`hipbot db upgrade` and `hipbot db copy`: from the embedded SQLite file to PostgreSQL
without losing a row."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.conversation import Conversation
from bot.crypto import new_key
from bot.engine import Engine
from bot.features import load_features
from bot.loader import load_bundle
from bot.storage import SqlStorage, open_storage
from tests.fakes.postgres import fresh_database

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def postgres_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("HIPBOT_DATA_KEY", new_key())
    yield from fresh_database()


def _fill(storage: SqlStorage) -> None:
    engine = Engine(load_bundle([REPO / "flows"]))
    for person in range(12):
        chat = Conversation(engine, storage, str(1000 + person))
        chat.send("/start")
        chat.click("Open the menu")
        if person % 2:
            chat.click("About hip impingement")
    storage.commit_outbox(
        [(1000, "sendMessage", {"chat_id": 1000, "text": "100% <b>done</b>"})], 5.0
    )


def _dump(storage: SqlStorage) -> dict[str, list[tuple[object, ...]]]:
    tables = [t for t in storage.db.tables() if t != "schema_migrations"]
    return {t: sorted(map(tuple, storage.db.all(f"SELECT * FROM {t}")), key=repr) for t in tables}


def test_copy_moves_every_row_and_the_bot_carries_on(tmp_path: Path, postgres_url: str) -> None:
    source = open_storage(f"sqlite:///{tmp_path / 'hipbot.db'}")
    assert isinstance(source, SqlStorage)
    load_features().setup(source)
    _fill(source)
    before = _dump(source)
    source.close()
    env = {**os.environ}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "db",
            "copy",
            f"sqlite:///{tmp_path / 'hipbot.db'}",
            postgres_url,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "copied" in result.stdout
    target = open_storage(postgres_url)
    assert isinstance(target, SqlStorage)
    after = _dump(target)
    assert set(after) == set(before)
    for table, rows in before.items():
        assert len(after[table]) == len(rows), table
    assert sum(len(rows) for rows in before.values()) >= 25
    # sessions read back the same, and new rows get fresh ids after the copied ones
    session = target.load_session("1001")
    assert session is not None and session.step == "learn_joint"
    target.commit_outbox([(1, "sendMessage", {"chat_id": 1, "text": "new"})], 6.0)
    ids = [row[0] for row in target.db.all("SELECT id FROM outbox ORDER BY id")]
    assert len(ids) == len(set(ids)) and ids[-1] > max(r[0] for r in before["outbox"])
    target.close()


def test_copy_refuses_a_target_that_is_not_empty(tmp_path: Path, postgres_url: str) -> None:
    url = f"sqlite:///{tmp_path / 'hipbot.db'}"
    source = open_storage(url)
    assert isinstance(source, SqlStorage)
    _fill(source)
    source.close()
    command = [sys.executable, "-m", "bot", "db", "copy", url, postgres_url]
    first = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert first.returncode == 0, first.stderr
    second = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert second.returncode == 2
    assert "not empty" in second.stderr


def test_db_upgrade_applies_every_store(postgres_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade", postgres_url],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "core v" in result.stdout
    storage = open_storage(postgres_url)
    assert isinstance(storage, SqlStorage)
    assert {"sessions", "outbox", "journal", "flags"} <= set(storage.db.tables())
    storage.close()
