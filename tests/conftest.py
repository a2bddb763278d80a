"""Fixtures shared by several test modules (a module may still define its own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import bot.kinds
from bot import crypto
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.bot_process import BotProcess
from tests.fakes.clinics import World
from tests.fakes.postgres import fresh_database

START_TIMEOUT = 20.0


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    """A fake Telegram Bot API server on 127.0.0.1, without flood limits."""
    with FakeBotApi.in_thread() as api:
        yield api


@pytest.fixture
def bot(fake: FakeBotApi, tmp_path: Path) -> Iterator[BotProcess]:
    """The real ``hipbot run`` against ``fake``, started and serving."""
    process = BotProcess(fake, tmp_path).start()
    try:
        fake.wait_for_sync(lambda: fake.commands, START_TIMEOUT, "setMyCommands at start")
        yield process
    finally:
        process.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Where a ``World`` keeps its data: a SQLite file, or a fresh PostgreSQL database (when
    a server is there: ``scripts/postgres-test-server``; CI starts one)."""
    if request.param == "sqlite":
        yield str(tmp_path / "bot.db")
        return
    monkeypatch.setenv(crypto.KEY_ENV, crypto.new_key())
    yield from fresh_database()


@pytest.fixture
def world(database: str) -> Iterator[World]:
    found = World(database)
    yield found
    found.storage.close()
