"""What comes in from Telegram, end to end (the real ``hipbot run`` against the fake Bot
API), issue 11: update ids numbered anew (fault 2), updates the library cannot read
(fault 3), webhook bodies that are no update (fault 7), a 403 that outlives the person's
next message (fault 8), the edit note said on every edit (fault 10)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bot.storage import SqlStorage, open_storage, updates
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.bot_process import BotProcess
from tests.test_telegram_e2e import TIMEOUT, _free_port, keyboard_with, last_id, text_with

ANNA, BEN = 5550001, 5550002


def storage_of(bot: BotProcess) -> SqlStorage:
    return SqlStorage(str(bot.db_path))


def answered(fake: FakeBotApi, chat: int, send: Any) -> int:
    """Do ``send`` and wait for the bot's next message to ``chat``; its message number."""
    before = last_id(fake, chat)
    send()
    fake.wait_for_sync(lambda: last_id(fake, chat) > before, TIMEOUT, f"an answer in {chat}")
    return last_id(fake, chat)


def started(fake: FakeBotApi, chat: int) -> None:
    fake.user(chat).send_command("/start")
    keyboard_with(fake, chat, "Open the menu")


# ---------------------------------------------------------------- fault 2


def test_people_are_answered_after_telegram_numbers_updates_anew(
    fake: FakeBotApi, bot: BotProcess
) -> None:
    started(fake, ANNA)
    started(fake, BEN)
    fake.restart_numbering(1)  # far below the ids both have sent so far
    for chat in (ANNA, BEN):
        user = fake.user(chat)
        answered(fake, chat, lambda u=user: u.send_command("/menu"))
        keyboard_with(fake, chat, "About hip impingement")
    assert all(u["update_id"] < 100 for u in fake.updates()[-2:])


def test_a_redelivered_update_acts_once_even_after_a_crash(
    fake: FakeBotApi, bot: BotProcess
) -> None:
    started(fake, ANNA)
    fake.restart_numbering(7)
    user = fake.user(ANNA)
    menu: dict[str, Any] = {}
    answered(fake, ANNA, lambda: menu.update(user.send_command("/menu")))
    count = len(fake.messages(ANNA))
    fake.redeliver(menu)  # in the same process
    answered(fake, ANNA, lambda: user.send_command("/help"))  # in order: after the copy
    assert len(fake.messages(ANNA)) == count + 1
    bot.kill()
    bot.start()
    fake.redeliver(menu)  # after a crash, as if its offset had never been confirmed
    answered(fake, ANNA, lambda: user.send_command("/help"))
    assert len(fake.messages(ANNA)) == count + 2


def test_an_id_seen_long_ago_is_no_repeat(database: str) -> None:
    storage = open_storage(database) if "://" in database else SqlStorage(database)
    assert isinstance(storage, SqlStorage)
    with storage.db.transaction() as db:
        updates.remember(db, 1, 42, now=1000.0)
        updates.remember(db, 1, 2**62, now=1000.0)  # ids fit a BIGINT
    assert updates.seen(storage.db, 1, 42, now=1000.0 + updates.KEEP - 1)
    assert updates.seen(storage.db, 1, 2**62, now=1001.0)
    assert not updates.seen(storage.db, 2, 42, now=1001.0)  # another bot's numbering
    assert not updates.seen(storage.db, 1, 42, now=1000.0 + 7 * 86400)  # a week's silence
    assert updates.forget_old(storage.db, now=1000.0 + updates.KEEP + 1) == 2
    assert not updates.seen(storage.db, 1, 42, now=1001.0)
    storage.close()


# ---------------------------------------------------------------- fault 3


def unreadable_poll(chat: int) -> dict[str, Any]:
    """A poll as older Bot API servers send it: its options have no persistent_id."""
    person = {"id": chat, "is_bot": False, "first_name": "Zelda", "username": "zelda_private"}
    return {
        "message": {
            "message_id": 900,
            "date": 1_700_000_000,
            "chat": {"id": chat, "type": "private", "first_name": "Zelda"},
            "from": person,
            "poll": {
                "id": "6000000000000000001",
                "question": "Which knee aches most today",
                "options": [{"text": "Left knee hurts", "voter_count": 0}],
                "total_voter_count": 0,
                "is_closed": False,
                "is_anonymous": False,
                "type": "regular",
                "allows_multiple_answers": False,
            },
        }
    }


def test_an_unreadable_update_is_skipped_and_the_batch_goes_on(
    fake: FakeBotApi, bot: BotProcess
) -> None:
    started(fake, ANNA)
    with fake._lock:  # one batch: the unreadable update, then Ben's /start
        bad = fake.push_update(unreadable_poll(ANNA))
        fake.user(BEN).send_command("/start")
    keyboard_with(fake, BEN, "Open the menu")
    fake.wait_for_sync(
        lambda: all(u["update_id"] != bad["update_id"] for u in fake.pending_updates()),
        TIMEOUT,
        "the unreadable update confirmed",
    )
    bot.stop()
    bot.start()  # it does not come back, and kills nothing
    answered(fake, ANNA, lambda: fake.user(ANNA).send_command("/menu"))
    assert bot.process is not None and bot.process.poll() is None
    logs = bot.logs()
    assert "update_unreadable" in logs
    for private in ("Zelda", "zelda_private", "knee", str(ANNA), str(BEN)):
        assert private not in logs, private
    assert "CRITICAL" not in logs


# ---------------------------------------------------------------- fault 7


def _post_raw(url: str, body: bytes, secret: str) -> int:
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("X-Telegram-Bot-Api-Secret-Token", secret)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_webhook_refuses_bodies_that_are_no_update_and_stores_nothing(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    port, secret = _free_port(), "s3cret_token-2"
    process = BotProcess(
        fake,
        tmp_path,
        HIPBOT_MODE="webhook",
        HIPBOT_WEBHOOK_LISTEN="127.0.0.1",
        HIPBOT_WEBHOOK_PORT=str(port),
        HIPBOT_WEBHOOK_PATH="/tg",
        HIPBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}",
        HIPBOT_WEBHOOK_SECRET=secret,
    )
    url = f"http://127.0.0.1:{port}/tg"
    with process:
        fake.wait_for_sync(lambda: fake.calls("setWebhook"), TIMEOUT, "setWebhook")
        fake.disable_webhook()  # this test posts by hand
        start = fake.user(ANNA).send_command("/start")
        bad_id = {**start, "update_id": "abc"}
        for body in (
            b"null",
            b"[]",
            b"123",
            b'"text"',
            b"{not json",
            b"[" * 100_000 + b"]" * 100_000,
            json.dumps(bad_id).encode(),
            json.dumps({**start, "update_id": True}).encode(),
            json.dumps({**start, "update_id": -5}).encode(),
            json.dumps({k: v for k, v in start.items() if k != "update_id"}).encode(),
        ):
            assert _post_raw(url, body, secret) == 400, body[:40]
        storage = storage_of(process)
        assert storage.load_session(str(ANNA)) is None
        assert storage.pending_outbox() == 0
        # an update the library cannot read: confirmed (200, so Telegram stops sending it)
        unreadable = {"update_id": 77, **unreadable_poll(ANNA)}
        assert _post_raw(url, json.dumps(unreadable).encode(), secret) == 200
        assert _post_raw(url, json.dumps(start).encode(), secret) == 200
        keyboard_with(fake, ANNA, "Open the menu")
        menu = fake.user(ANNA).send_command("/menu")
        assert _post_raw(url, json.dumps(menu).encode(), secret) == 200
        keyboard_with(fake, ANNA, "About hip impingement")
        assert process.process is not None and process.process.poll() is None


# ---------------------------------------------------------------- fault 8


def test_a_message_from_a_person_clears_an_old_403(fake: FakeBotApi, bot: BotProcess) -> None:
    started(fake, ANNA)
    storage = storage_of(bot)
    fake.block(ANNA, notify=False)  # only the 403 on the next send tells the bot
    fake.user(ANNA).send_command("/menu")
    fake.wait_for_sync(lambda: storage.get_flag(str(ANNA), "blocked"), TIMEOUT, "403 noticed")
    fake.unblock(ANNA, notify=False)  # e.g. they unblocked the bot and write again
    answered(fake, ANNA, lambda: fake.user(ANNA).send_text("hello again"))
    assert not storage.get_flag(str(ANNA), "blocked")


# ---------------------------------------------------------------- fault 10


def test_the_edit_note_is_said_once(fake: FakeBotApi, bot: BotProcess) -> None:
    started(fake, ANNA)
    user = fake.user(ANNA)
    answered(fake, ANNA, lambda: user.send_text("my first words"))
    answered(fake, ANNA, lambda: user.edit_last_text("changed once"))
    user.edit_last_text("changed twice")
    user.edit_last_text("changed thrice")
    answered(fake, ANNA, lambda: user.send_command("/help"))  # in order: after the edits
    notes = [m for m in fake.messages(ANNA) if "edited a message" in (m.text or "")]
    assert len(notes) == 1
    text_with(fake, ANNA, "edited a message")
