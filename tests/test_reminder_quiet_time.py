"""A reminder time in the person's quiet hours: the confirmation says when it really comes
(the end of the quiet hours), and that is when the store schedules it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.conversation import parse_input
from bot.engine import Engine
from bot.features import load_features
from bot.features.reminders.rules import local_of, zone
from bot.features.reminders.store import ReminderStore
from bot.loader import load_bundle
from bot.model import Event, Reply
from bot.storage.sql import SqlStorage

ROOT = Path(__file__).resolve().parent.parent
USER = "7770001234"
T0 = 1_800_000_000.0  # 2027-01-15 08:00 UTC: winter, London is on UTC


class Chat:
    """One person's turns on the real engine and storage, at a fixed clock."""

    def __init__(self, storage: SqlStorage) -> None:
        self.engine = Engine(load_bundle([str(ROOT / "flows")]))
        self.storage = storage
        self.replies: list[Reply] = []

    def handle(self, event: Event) -> str:
        outcome = self.engine.handle(self.storage.load_session(USER), event, USER)
        self.storage.commit_turn(outcome.session, outcome.effects, [], T0)
        self.replies = list(outcome.replies)
        return "\n".join(r.text for r in self.replies)

    def send(self, text: str) -> str:
        return self.handle(parse_input(text))

    def click(self, label: str) -> str:
        offered = {b.label: b.data for r in self.replies for row in r.buttons for b in row}
        assert label in offered, f"no button {label!r}; offered {sorted(offered)}"
        return self.handle(Event.button(offered[label]))


@pytest.fixture
def chat() -> Chat:
    storage = SqlStorage(":memory:")
    load_features().setup(storage)
    found = Chat(storage)
    found.send("/start")
    for label in ("Open the menu", "Reminders", "Europe", "London", "Yes, that is fine"):
        found.click(label)
    return found


def next_local(chat: Chat, kind: str) -> str:
    [reminder] = [r for r in ReminderStore(chat.storage.db).reminders(USER) if r.kind == kind]
    assert reminder.next_due is not None
    return local_of(reminder.next_due, zone("Europe/London")).strftime("%H:%M")


def test_a_tip_at_23_15_is_confirmed_for_08_00_when_it_comes(chat: Chat) -> None:
    chat.click("A daily hip tip")
    warned = chat.send("23:15")
    assert "23:15 is in your quiet time, from 21:00 to 08:00" in warned
    assert "your tip would come at 08:00 each day" in warned
    done = chat.click("Send it after quiet time")
    assert "every day at 08:00, when your quiet time ends" in done
    assert "every day at 23:15" not in done
    assert next_local(chat, "tip") == "08:00"


def test_moving_the_quiet_hours_lets_the_tip_come_at_its_time(chat: Chat) -> None:
    chat.click("A daily hip tip")
    chat.send("23:15")
    chat.click("Change my quiet time")
    chat.send("23:30")
    done = chat.send("07:00")
    assert "quiet from 23:30 to 07:00" in done and "every day at 23:15." in done
    assert next_local(chat, "tip") == "23:15"


def test_a_time_outside_the_quiet_hours_is_confirmed_as_it_is(chat: Chat) -> None:
    chat.click("Time for my exercises")
    done = chat.send("20:59")  # a minute before the default quiet hours
    assert "every day at 20:59." in done and "quiet" not in done
    assert next_local(chat, "exercise") == "20:59"
    chat.click("Set another reminder")
    chat.click("Time for my exercises")
    assert "07:59 is in your quiet time" in chat.send("07:59")


def next_local_day(chat: Chat, kind: str) -> str:
    [reminder] = [r for r in ReminderStore(chat.storage.db).reminders(USER) if r.kind == kind]
    assert reminder.next_due is not None
    return local_of(reminder.next_due, zone("Europe/London")).strftime("%a %H:%M")


def test_a_sunday_night_check_in_is_confirmed_for_monday_morning(chat: Chat) -> None:
    chat.click("A weekly check-in")
    chat.click("Sunday")
    warned = chat.send("22:00")
    assert "would come the next day, at 08:00" in warned
    done = chat.click("Send it after quiet time")
    assert "once a week, the day after each Sunday, at 08:00" in done
    assert next_local_day(chat, "checkin") == "Mon 08:00"


def test_new_quiet_hours_bring_the_check_in_back_to_its_question(chat: Chat) -> None:
    chat.click("A weekly check-in")
    chat.click("Sunday")
    chat.send("22:00")
    chat.click("Change my quiet time")
    chat.send("23:00")
    done = chat.send("07:00")
    assert "quiet from 23:00 to 07:00" in done and "every Sunday at 22:00." in done
    assert next_local_day(chat, "checkin") == "Sun 22:00"
