"""Reminders end to end: set in the conversation, received, snoozed, stopped; durable across a
SIGKILL and a restart. Over Telegram (the real ``hipbot run`` against the fake Bot API) and in
``hipbot chat`` (the console adapter).

The bot subprocess uses the real clock, so a reminder set for 10:00 would take hours to come.
These tests make it due now by writing its ``next_due_utc`` in the database file while the
bot runs (``make_due``), exactly what the passing of time would do to that row; the sweep
(every 2 seconds) then finds it. The console tests inject their clock instead.

What the bot does with a due reminder depends on the person's local hour (quiet hours hold it
at night), so the test person's time zone is a UTC offset picked from the current UTC time
(``offset_for_local_hour``): midday for the tests that expect a reminder, 23:00 or 03:00 for
the ones that expect it held. The tests then pass at any hour, in any ``TZ``.
"""

from __future__ import annotations

import io
import sqlite3
import time
from contextlib import closing
from datetime import UTC, date, datetime, timedelta, timezone
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.console import Console, console_chat_id
from bot.conversation import Conversation
from bot.engine import Engine
from bot.features import load_features
from bot.loader import load_bundle
from bot.storage.sql import SqlStorage
from bot.telegram.app import JOB_INTERVAL
from tests.fakes.bot_api import FakeBotApi, SentMessage
from tests.fakes.bot_process import REPO, BotProcess

CHAT = 4343
TIMEOUT = 20.0
TITLE = "Daily hip tip"


def sql(bot: BotProcess, statement: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement on the bot's database file (it runs meanwhile: WAL allows that)."""
    with closing(sqlite3.connect(bot.db_path, timeout=30, isolation_level=None)) as conn:
        return conn.execute(statement, params).fetchall()


def reminder_row(bot: BotProcess) -> tuple[int, float | None, int] | None:
    rows = sql(
        bot,
        "SELECT id, next_due_utc, sent_count FROM reminders WHERE user_id = ? AND kind = 'tip'",
        (str(CHAT),),
    )
    return None if not rows else (int(rows[0][0]), rows[0][1], int(rows[0][2]))


def make_due(bot: BotProcess, seconds_ago: float = 1.0) -> None:
    """What time passing does to the reminder: its next time is now (or a little ago)."""
    sql(
        bot,
        "UPDATE reminders SET next_due_utc = ? WHERE user_id = ? AND kind = 'tip'",
        (time.time() - seconds_ago, str(CHAT)),
    )


def wait_until_sent(bot: BotProcess, fake: FakeBotApi) -> None:
    def sent() -> bool:
        return sql(bot, "SELECT count(*) FROM outbox WHERE state = 'pending'")[0][0] == 0

    fake.wait_for_sync(sent, TIMEOUT, "the outbox marked sent")


def reminders_received(fake: FakeBotApi) -> list[SentMessage]:
    return [
        m
        for m in fake.messages(CHAT)
        if (m.history[0][0] if m.history else m.text or "").startswith(TITLE)
    ]


def wait_for_reminders(fake: FakeBotApi, count: int) -> list[SentMessage]:
    return fake.wait_for_sync(
        lambda: found if len(found := reminders_received(fake)) >= count else None,
        TIMEOUT,
        f"{count} reminder message(s)",
    )


def keyboard_with(fake: FakeBotApi, label: str, after: int = 0) -> SentMessage:
    def find() -> SentMessage | None:
        found = [m for m in fake.messages(CHAT) if m.message_id > after and label in m.button_texts]
        return found[-1] if found else None

    return fake.wait_for_sync(find, TIMEOUT, f"a message with button {label!r}")


def text_with(fake: FakeBotApi, words: str) -> SentMessage:
    def find() -> SentMessage | None:
        found = [m for m in fake.messages(CHAT) if words in (m.text or "")]
        return found[-1] if found else None

    return fake.wait_for_sync(find, TIMEOUT, f"a message containing {words!r}")


def offset_for_local_hour(hour: int, now: float | None = None) -> int:
    """The whole-hour UTC offset (-12..+14) at which the local time now is ``hour``:xx."""
    utc_hour = datetime.fromtimestamp(time.time() if now is None else now, UTC).hour
    offset = (hour - utc_hour) % 24
    return offset - 24 if offset > 14 else offset


def set_daily_tip(fake: FakeBotApi, local_hour: int = 12) -> int:
    """The person sets a daily tip at 10:00, in the conversation, living at the UTC offset
    where the local time is now ``local_hour``:xx (they type the offset). Returns it."""
    offset = offset_for_local_hour(local_hour)
    user = fake.user(CHAT)
    user.send_command("/start")
    keyboard_with(fake, "Open the menu")
    user.click("Open the menu")
    keyboard_with(fake, "Reminders")
    user.click("Reminders")
    keyboard_with(fake, "Europe")
    user.send_text(f"UTC{offset:+d}")
    keyboard_with(fake, "Yes, that is fine")
    user.click("Yes, that is fine")
    keyboard_with(fake, "A daily hip tip")
    user.click("A daily hip tip")
    text_with(fake, "What time suits you?")
    user.send_text("10:00")
    text_with(fake, "every day at 10:00")
    return offset


def test_set_receive_snooze_receive_again_and_stop_over_telegram(
    fake: FakeBotApi, bot: BotProcess
) -> None:
    set_daily_tip(fake)
    row = fake.wait_for_sync(lambda: reminder_row(bot), TIMEOUT, "the reminder row")
    assert row is not None and row[1] is not None and row[1] > time.time()
    make_due(bot)
    (first,) = wait_for_reminders(fake, 1)
    assert first.button_texts == ["Done", "Snooze 15 min", "Snooze 1 h", "Stop this reminder"]
    fake.user(CHAT).click("Snooze 15 min", message_id=first.message_id)
    text_with(fake, "Snoozed")
    snoozed = reminder_row(bot)
    assert snoozed is not None and snoozed[1] is not None and snoozed[1] >= time.time() + 14 * 60
    make_due(bot)
    second = wait_for_reminders(fake, 2)[-1]
    assert second.message_id > first.message_id
    assert not fake.unanswered_callback_queries()
    fake.user(CHAT).click("Stop this reminder", message_id=second.message_id)
    text_with(fake, "Stopped")
    fake.wait_for_sync(lambda: reminder_row(bot) is None, TIMEOUT, "the reminder removed")
    assert len(reminders_received(fake)) == 2


def test_sigkill_and_restart_lose_nothing_and_repeat_nothing(
    fake: FakeBotApi, bot: BotProcess
) -> None:
    set_daily_tip(fake)
    fake.wait_for_sync(lambda: reminder_row(bot), TIMEOUT, "the reminder row")
    make_due(bot)
    wait_for_reminders(fake, 1)
    # killed while the next one becomes due: it comes after the restart, once. (The kill
    # waits for the outbox to be marked sent: a message in flight at a kill may be sent
    # again, by design of the outbox, and that is not what this test is about.)
    wait_until_sent(bot, fake)
    bot.kill()
    make_due(bot, seconds_ago=30)
    bot.start()
    wait_for_reminders(fake, 2)
    wait_until_sent(bot, fake)
    # killed right after sending: nothing is sent again after the restart
    bot.kill()
    starts = len(fake.calls("setMyCommands"))
    bot.start()
    fake.wait_for_sync(
        lambda: len(fake.calls("setMyCommands")) > starts, TIMEOUT, "the bot back (setMyCommands)"
    )
    # its sweeps run from before setMyCommands: two and more, room for a wrong repeat to show up
    time.sleep(2.5 * JOB_INTERVAL)
    assert len(reminders_received(fake)) == 2
    row = reminder_row(bot)
    assert row is not None and row[2] == 2 and row[1] is not None and row[1] > time.time()


@pytest.mark.parametrize("local_hour", [23, 3])
def test_a_reminder_due_in_quiet_hours_is_held_until_eight(
    fake: FakeBotApi, bot: BotProcess, local_hour: int
) -> None:
    offset = set_daily_tip(fake, local_hour)
    (_, planned, _) = fake.wait_for_sync(lambda: reminder_row(bot), TIMEOUT, "the reminder row")
    make_due(bot)
    # the sweep moves the row to the end of the quiet hours (08:00 local) instead of sending
    row = fake.wait_for_sync(
        lambda: r if (r := reminder_row(bot)) and r[1] and r[1] > time.time() + 60 else None,
        TIMEOUT,
        "the reminder held",
    )
    local_zone = timezone(timedelta(hours=offset))
    held_until = datetime.fromtimestamp(row[1], local_zone)
    now_local = datetime.now(local_zone)
    assert (held_until.hour, held_until.minute) == (8, 0)
    assert timedelta(0) < held_until - now_local < timedelta(hours=10)
    assert row[2] == 0  # nothing counted as sent
    assert reminders_received(fake) == []
    assert planned is not None and planned > time.time()


def test_offset_for_local_hour_gives_that_hour_at_every_utc_hour() -> None:
    midnight = datetime(2026, 12, 2, tzinfo=UTC).timestamp()
    for utc_hour in range(24):
        now = midnight + utc_hour * 3600 + 30 * 60
        for hour in (3, 12, 23):
            offset = offset_for_local_hour(hour, now)
            assert -12 <= offset <= 14
            assert datetime.fromtimestamp(now, timezone(timedelta(hours=offset))).hour == hour


# ---------------------------------------------------------------- hipbot chat


LONDON = ZoneInfo("Europe/London")


class Clock:
    """The console's clock, starting at a fixed London wall time (never the machine's)."""

    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def set_local(self, day: date, hour: int, minute: int) -> None:
        self.now = datetime.combine(day, dtime(hour, minute), LONDON).timestamp()


class ConsoleChat:
    """``hipbot chat`` on a real SQLite file, with an injected clock."""

    def __init__(self, folder: Path, clock: Clock) -> None:
        self.storage = SqlStorage(str(folder / "chat.db"))
        features = load_features(["bot.features.reminders"])
        features.setup(self.storage)
        chat_id = console_chat_id("pat")
        self.out = io.StringIO()
        engine = Engine(load_bundle([REPO / "flows"]))
        conversation = Conversation(engine, self.storage, str(chat_id))
        self.console = Console(conversation, features, chat_id, self.out, clock)

    def said(self, action: str) -> str:
        start = len(self.out.getvalue())
        self.console.act(action)
        return self.out.getvalue()[start:]

    def delivered(self) -> str:
        start = len(self.out.getvalue())
        self.console.deliver_due()
        return self.out.getvalue()[start:]

    def tip_due(self) -> float:
        return float(
            self.storage.db.one("SELECT next_due_utc FROM reminders WHERE kind = 'tip'")[0]
        )

    def set_daily_tip_in_london(self) -> None:
        for step in ("/remind", "Europe", "London", "Yes, that is fine", "A daily hip tip"):
            self.said(step)
        assert "every day at 10:00" in self.said("10:00")


def test_set_receive_snooze_and_stop_in_hipbot_chat(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 12, 2, 12, 0, tzinfo=LONDON))
    chat = ConsoleChat(tmp_path, clock)
    storage, said, delivered = chat.storage, chat.said, chat.delivered
    chat.set_daily_tip_in_london()
    listing = said("/reminders")
    assert "A daily hip tip" in listing and "every day at 10:00" in listing
    assert delivered() == ""  # not due yet
    due = storage.db.one("SELECT next_due_utc FROM reminders WHERE kind = 'tip'")[0]
    clock.now = due + 5
    shown = delivered()
    assert TITLE in shown and "Snooze 15 min" in shown and "Stop this reminder" in shown
    assert delivered() == ""  # printed once
    assert "Snoozed" in said("Snooze 15 min")
    snoozed = storage.db.one("SELECT next_due_utc FROM reminders WHERE kind = 'tip'")[0]
    assert snoozed >= clock.now + 15 * 60
    clock.now = snoozed + 1
    again = delivered()
    assert TITLE in again
    assert "Stopped" in said("Stop this reminder")
    clock.now += 3 * 86400
    assert delivered() == ""
    assert "no reminders yet" in said("/reminders")
    storage.close()


@pytest.mark.parametrize(("hour", "minute", "next_morning"), [(23, 30, True), (3, 0, False)])
def test_a_reminder_due_at_night_waits_for_eight_in_hipbot_chat(
    tmp_path: Path, hour: int, minute: int, next_morning: bool
) -> None:
    """Quiet hours (21:00-08:00 by default) hold a reminder that falls due at 23:30 or 03:00
    London time; it comes at 08:00, once."""
    night = date(2026, 12, 2)
    clock = Clock(datetime(2026, 12, 2, 12, 0, tzinfo=LONDON))
    chat = ConsoleChat(tmp_path, clock)
    chat.set_daily_tip_in_london()
    clock.set_local(night, hour, minute)
    chat.storage.db.execute("UPDATE reminders SET next_due_utc = ?", (clock.now - 5,))
    assert chat.delivered() == ""
    morning = night + timedelta(days=1) if next_morning else night
    eight = datetime.combine(morning, dtime(8, 0), LONDON).timestamp()
    assert chat.tip_due() == eight
    clock.now = eight - 60
    assert chat.delivered() == ""
    clock.now = eight + 1
    assert TITLE in chat.delivered()
    assert chat.delivered() == ""
    chat.storage.close()
