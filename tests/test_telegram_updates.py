"""Reading raw updates (bot.telegram.updates): the whole batch is confirmed, what cannot be
read is skipped and counted, and the log names its type only."""

from __future__ import annotations

import json
import logging

import pytest
from telegram import Bot

from bot.telegram import updates as telegram_updates
from bot.telegram.updates import envelope, parse_batch
from tests.test_telegram_input import unreadable_poll

BOT = Bot("123:abc")


def message(update_id: int, chat: int, text: str) -> dict[str, object]:
    person = {"id": chat, "is_bot": False, "first_name": "Pat"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1,
            "chat": {"id": chat, "type": "private"},
            "from": person,
            "text": text,
        },
    }


def test_a_batch_is_confirmed_whole_and_the_readable_updates_come_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = telegram_updates.UNREADABLE["message"]
    bad = {"update_id": 12, **unreadable_poll(8123)}
    batch = [message(10, 7001, "first"), bad, "junk", message(11, 7002, "second")]
    with caplog.at_level(logging.WARNING):
        updates, offset = parse_batch(batch, BOT)
    assert [u.update_id for u in updates] == [10, 11]
    assert offset == 13
    assert telegram_updates.UNREADABLE["message"] == before + 1
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "update_unreadable" in logged
    for private in ("8123", "Zelda", "knee"):
        assert private not in logged


def test_numbering_anew_confirms_by_the_highest_id() -> None:
    _, offset = parse_batch([message(900, 1, "a"), message(3, 1, "b")], BOT)
    assert offset == 901


def test_an_empty_or_odd_result_confirms_nothing() -> None:
    assert parse_batch([], BOT) == ([], None)
    assert parse_batch({"not": "a list"}, BOT) == ([], None)


@pytest.mark.parametrize(
    "body",
    [
        b"null",
        b"[]",
        b"123",
        b"",
        b"\xff\xfe",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"update_id": "abc"}',
        b'{"update_id": 1.5}',
        b'{"update_id": false}',
        b'{"update_id": 9223372036854775808}',
        b'{"message": {}}',
    ],
)
def test_bodies_that_are_no_update(body: bytes) -> None:
    assert envelope(body) is None


def test_an_update_is_an_update() -> None:
    assert envelope(json.dumps(message(5, 1, "hi")).encode()) == message(5, 1, "hi")
