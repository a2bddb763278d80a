"""The reminders store on a real SQLite file and on a real PostgreSQL database (when a
server is there: ``scripts/postgres-test-server``; CI starts one), with an injected clock
(nothing sleeps).

A restart is closing the database and opening it again; a race is two connections (threads,
or two processes) sweeping the same database at the same moment.
"""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import crypto
from bot.features import Loaded, Ports
from bot.features.reminders import chat as reminders_feature
from bot.features.reminders.messages import wording
from bot.features.reminders.ports import STORE
from bot.features.reminders.rules import (
    FollowupMessage,
    FollowupSequence,
    QuietHours,
    Rule,
)
from bot.features.reminders.store import PRIORITY, ReminderStore
from bot.model import AnswerTest, AnswerValue, Condition, Effect, Session, Text
from bot.storage import open_storage
from bot.storage.sql import SqlStorage
from tests.fakes.bot_process import REPO
from tests.fakes.postgres import fresh_database

LONDON = "Europe/London"
CHAT = 555_000_001


def at(*parts: int, tz: str = LONDON) -> float:
    return datetime(*parts, tzinfo=ZoneInfo(tz)).timestamp()  # type: ignore[misc]


def local(instant: float | None, tz: str = LONDON) -> str:
    assert instant is not None
    return datetime.fromtimestamp(instant, ZoneInfo(tz)).strftime("%a %d %b %H:%M %Z")


SEQUENCE = FollowupSequence(
    "weeks",
    10 * 60,
    (
        FollowupMessage("hello", 0, Text.plain("Hello! Call {emergency_number} if unwell.")),
        FollowupMessage(
            "sitting", 1, Text.plain("Sit less."), AnswerTest("hurts", "has", "sitting")
        ),
        FollowupMessage("week", 7, Text.plain("One week in.")),
        FollowupMessage("week_b", 7, Text.plain("Also a week in.")),
    ),
)


class Place:
    """One database (a SQLite file, or a PostgreSQL database when ``url`` names one) and the
    answers people gave (for follow-up conditions)."""

    def __init__(self, path: Path, url: str = "") -> None:
        self.path = path
        self.url = url or f"sqlite:///{path}"
        self.answers: dict[str, dict[str, AnswerValue]] = {}
        self.opened: list[SqlStorage] = []

    def open(self) -> tuple[SqlStorage, ReminderStore]:
        storage = open_storage(self.url)
        assert isinstance(storage, SqlStorage)
        self.opened.append(storage)
        store = ReminderStore(
            storage.db,
            followups={"weeks": SEQUENCE},
            answers_of=lambda user: self.answers.get(user, {}),
            say=wording({"emergency_number": "999"}),
        )
        return storage, store

    def close(self) -> None:
        for storage in self.opened:
            storage.close()


@pytest.fixture(params=["sqlite", "postgres"])
def place(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Place]:
    if request.param == "postgres":
        monkeypatch.setenv(crypto.KEY_ENV, crypto.new_key())  # inherited by racer processes
        databases = fresh_database()
        found = Place(tmp_path / "unused.db", next(databases))
        yield found
        found.close()
        databases.close()
        return
    found = Place(tmp_path / "hipbot.db")
    yield found
    found.close()


def outbox(storage: SqlStorage) -> list[tuple[int, dict[str, object], int]]:
    """(chat, params, priority) of every queued message, oldest first."""
    rows = storage.db.all("SELECT chat_id, params, priority FROM outbox ORDER BY id")
    return [(int(chat), storage.codec.open_json(params), int(p)) for chat, params, p in rows]


def ports_with(storage: SqlStorage, store: ReminderStore) -> Ports:
    """Ports on which the feature's handlers find this test's store."""
    ports = Ports(storage, Loaded())
    ports.put(STORE, store)
    return ports


def person(store: ReminderStore, user: int = CHAT, tz: str = LONDON, now: float = 0.0) -> str:
    store.save_settings(str(user), now or at(2026, 6, 1, 6, 0), tz=tz)
    return str(user)


# ---------------------------------------------------------------- sending once


def test_a_due_reminder_is_queued_once_with_its_buttons_then_moves_on(place: Place) -> None:
    storage, store = place.open()
    user = person(store)
    rule = Rule.window(9 * 60, 17 * 60, 60, range(7))
    reminder = store.set_reminder(user, CHAT, "sitting", rule, at(2026, 6, 1, 8, 0))
    assert local(reminder.next_due) == "Mon 01 Jun 10:00 BST"
    assert store.sweep(at(2026, 6, 1, 9, 59)) == 0
    assert store.sweep(at(2026, 6, 1, 10, 0, 1)) == 1
    assert store.sweep(at(2026, 6, 1, 10, 0, 2)) == 0  # the same occurrence never twice
    ((chat, params, priority),) = outbox(storage)
    assert chat == CHAT and priority == PRIORITY
    assert str(params["text"]).startswith("<b>Sitting breaks</b>")
    labels = [label for row in params["buttons"] for label, _ in row]  # type: ignore[union-attr]
    assert labels == ["Done", "Snooze 15 min", "Snooze 1 h", "Stop this reminder"]
    moved = store.reminder(user, reminder.id)
    assert moved is not None and local(moved.next_due) == "Mon 01 Jun 11:00 BST"
    assert moved.sent_count == 1


def test_restart_reloads_every_reminder_from_the_file(place: Place) -> None:
    storage, store = place.open()
    user = person(store)
    store.set_reminder(user, CHAT, "tip", Rule.daily(9 * 60), at(2026, 6, 1, 8, 0))
    store.set_reminder(user, CHAT, "checkin", Rule.weekly(2, 18 * 60), at(2026, 6, 1, 8, 0))
    storage.close()
    storage2, store2 = place.open()  # a new process: nothing but the file
    assert [r.kind for r in store2.reminders(user)] == ["tip", "checkin"]
    assert store2.settings(user).tz == LONDON
    assert store2.sweep(at(2026, 6, 1, 9, 0, 5)) == 1
    assert store2.sweep(at(2026, 6, 3, 18, 0, 5)) == 1  # the check-in on Wednesday
    texts = [str(p["text"]) for _, p, _ in outbox(storage2)]
    assert texts[0].startswith("<b>Daily hip tip</b>")
    assert texts[1].startswith("<b>Weekly check-in</b>")


def test_daily_9am_is_sent_at_9am_local_every_day_through_the_clock_change(place: Place) -> None:
    storage, store = place.open()
    user = person(store)
    store.set_reminder(user, CHAT, "tip", Rule.daily(9 * 60), at(2026, 3, 26, 12, 0))
    sent_at = []
    for day in range(27, 32):  # 29 March: the clocks go forward
        for minute in range(0, 60 * 24, 10):  # a sweep every 10 minutes, all day
            now = at(2026, 3, day, 0, 0) + minute * 60 + 30
            if store.sweep(now):
                sent_at.append(local(now))
    assert sent_at == [
        "Fri 27 Mar 09:00 GMT",
        "Sat 28 Mar 09:00 GMT",
        "Sun 29 Mar 09:00 BST",
        "Mon 30 Mar 09:00 BST",
        "Tue 31 Mar 09:00 BST",
    ]
    assert len(outbox(storage)) == 5


def test_quiet_hours_hold_a_late_reminder_until_morning(place: Place) -> None:
    _storage, store = place.open()
    user = person(store)
    reminder = store.set_reminder(user, CHAT, "tip", Rule.daily(22 * 60), at(2026, 6, 1, 12, 0))
    assert local(reminder.next_due) == "Tue 02 Jun 08:00 BST"
    store.save_settings(user, at(2026, 6, 1, 12, 0), quiet=QuietHours(23 * 60, 7 * 60))
    changed = store.reminder_of(user, "tip")
    assert changed is not None and local(changed.next_due) == "Mon 01 Jun 22:00 BST"
    assert store.sweep(at(2026, 6, 1, 22, 0, 10)) == 1


def test_changing_the_time_zone_moves_the_reminders(place: Place) -> None:
    _storage, store = place.open()
    user = person(store, tz="UTC")
    store.set_reminder(user, CHAT, "tip", Rule.daily(9 * 60), at(2026, 6, 1, 6, 0, tz="UTC"))
    store.save_settings(user, at(2026, 6, 1, 6, 0, tz="UTC"), tz="America/New_York")
    moved = store.reminder_of(user, "tip")
    assert moved is not None
    assert local(moved.next_due, "America/New_York") == "Mon 01 Jun 09:00 EDT"


# ---------------------------------------------------------------- snooze, done, stop


def test_snooze_sends_it_again_later_then_the_rule_goes_on(place: Place) -> None:
    storage, store = place.open()
    user = person(store)
    rule = Rule.window(9 * 60, 17 * 60, 60, range(7))
    reminder = store.set_reminder(user, CHAT, "sitting", rule, at(2026, 6, 1, 8, 0))
    store.sweep(at(2026, 6, 1, 10, 0, 5))
    due = store.snooze(user, reminder.id, 15, at(2026, 6, 1, 10, 1))
    assert local(due) == "Mon 01 Jun 10:16 BST"
    assert store.sweep(at(2026, 6, 1, 10, 15)) == 0
    assert store.sweep(at(2026, 6, 1, 10, 16, 1)) == 1
    after = store.reminder(user, reminder.id)
    assert after is not None and local(after.next_due) == "Mon 01 Jun 11:00 BST"
    hour = store.snooze(user, reminder.id, 60, at(2026, 6, 1, 20, 30))
    assert local(hour) == "Tue 02 Jun 08:00 BST"  # an hour later is quiet time: morning
    assert store.done(user, reminder.id, at(2026, 6, 1, 10, 20))
    assert store.snooze("someone else", reminder.id, 15, at(2026, 6, 1, 10, 20)) is None
    assert len(outbox(storage)) == 2


def test_stop_removes_the_reminder_and_nothing_more_is_sent(place: Place) -> None:
    storage, store = place.open()
    user = person(store)
    reminder = store.set_reminder(user, CHAT, "tip", Rule.daily(9 * 60), at(2026, 6, 1, 8, 0))
    assert store.stop("someone else", reminder.id) is None
    assert store.stop(user, reminder.id) == "tip"
    assert store.stop(user, reminder.id) is None
    assert store.sweep(at(2026, 6, 9, 9, 0, 5)) == 0
    assert store.reminders(user) == [] and outbox(storage) == []


# ---------------------------------------------------------------- downtime, blocked, deleted


def test_after_an_outage_a_stale_one_is_skipped_and_the_next_one_scheduled(place: Place) -> None:
    storage, store = place.open()
    user = person(store)
    rule = Rule.window(9 * 60, 17 * 60, 30, range(7))
    store.set_reminder(user, CHAT, "sitting", rule, at(2026, 6, 1, 9, 0))  # due 09:30
    # the bot was down from 09:20 to 12:07: no burst of the six missed breaks
    assert store.sweep(at(2026, 6, 1, 12, 7)) == 0
    reminder = store.reminder_of(user, "sitting")
    assert reminder is not None and local(reminder.next_due) == "Mon 01 Jun 12:30 BST"
    assert store.sweep(at(2026, 6, 1, 12, 30, 2)) == 1
    # within the grace window a late one is still sent
    assert store.sweep(at(2026, 6, 1, 13, 8)) == 1
    assert len(outbox(storage)) == 2


def test_a_person_who_blocked_the_bot_or_sent_stop_gets_nothing(place: Place) -> None:
    storage, store = place.open()
    blocked = person(store, CHAT)
    stopped = person(store, CHAT + 1)
    fine = person(store, CHAT + 2)
    for user in (blocked, stopped, fine):
        store.set_reminder(user, int(user), "tip", Rule.daily(9 * 60), at(2026, 6, 1, 8, 0))
    storage.set_flag(blocked, "blocked", True)
    storage.set_flag(stopped, "stopped", True)
    assert store.sweep(at(2026, 6, 1, 9, 0, 5)) == 1
    assert [chat for chat, _, _ in outbox(storage)] == [CHAT + 2]
    # their reminders moved on without a message, and come back after /start
    storage.set_flag(stopped, "stopped", False)
    assert store.sweep(at(2026, 6, 2, 9, 0, 5)) == 2
    assert Counter(chat for chat, _, _ in outbox(storage)) == {CHAT + 1: 1, CHAT + 2: 2}


def test_delete_removes_reminders_settings_and_check_ins(place: Place) -> None:
    storage, store = place.open()
    reminders_feature.setup(ports_with(storage, store))
    user = person(store)
    store.set_reminder(user, CHAT, "tip", Rule.daily(9 * 60), at(2026, 6, 1, 8, 0))
    store.enroll_followups(user, CHAT, "weeks", at(2026, 6, 1, 8, 0))
    store.record_checkin(user, 4, "same", at(2026, 6, 1, 8, 0))
    other = person(store, CHAT + 9)
    store.set_reminder(other, CHAT + 9, "tip", Rule.daily(9 * 60), at(2026, 6, 1, 8, 0))
    exported = storage.export_user(user)["reminders"]
    assert [r["kind"] for r in exported["reminders"]] == ["tip", "followup"]
    assert exported["checkins"][0]["pain"] == 4
    storage.delete_user(user)
    assert store.reminders(user) == [] and store.checkins(user) == []
    assert store.settings(user) == store.settings("nobody")
    assert store.sweep(at(2026, 6, 1, 9, 0, 5)) == 1  # only the other person's
    assert [chat for chat, _, _ in outbox(storage)] == [CHAT + 9]


# ---------------------------------------------------------------- racing sweepers

RACE_PEOPLE = 400


def fill(store: ReminderStore, count: int, now: float) -> None:
    """``count`` people with a daily tip due at 09:00 on 1 June."""
    with store.db.transaction():
        for index in range(count):
            user = str(CHAT + index)
            store.save_settings(user, now, tz=LONDON)
            store.set_reminder(user, CHAT + index, "tip", Rule.daily(9 * 60), now)


def test_two_sweepers_in_two_threads_send_each_occurrence_exactly_once(place: Place) -> None:
    storage, store = place.open()
    fill(store, RACE_PEOPLE, at(2026, 6, 1, 8, 0))
    _, other = place.open()  # a second connection to the same file
    start = threading.Barrier(2)
    counts: list[int] = []

    def run(sweeper: ReminderStore) -> None:
        start.wait()
        total = 0
        for second in range(5):  # several sweeps at and after the due time, interleaved
            total += sweeper.sweep(at(2026, 6, 1, 9, 0, second), batch=25)
        counts.append(total)

    threads = [threading.Thread(target=run, args=(s,)) for s in (store, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(counts) == RACE_PEOPLE
    per_chat = Counter(chat for chat, _, _ in outbox(storage))
    assert len(per_chat) == RACE_PEOPLE and set(per_chat.values()) == {1}


RACER = """
import sys
from datetime import datetime
from zoneinfo import ZoneInfo
from bot.storage import open_storage
from bot.features.reminders.messages import wording
from bot.features.reminders.store import ReminderStore
storage = open_storage(sys.argv[1])
store = ReminderStore(storage.db, say=wording({}))
now = datetime(2026, 6, 1, 9, 0, tzinfo=ZoneInfo("Europe/London")).timestamp()
sys.stdin.readline()  # both start together
print(sum(store.sweep(now + second, batch=20) for second in range(4)))
"""


def test_two_sweeper_processes_on_one_database_send_each_occurrence_exactly_once(
    place: Place,
) -> None:
    storage, store = place.open()
    fill(store, RACE_PEOPLE, at(2026, 6, 1, 8, 0))
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, place.url],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for racer in racers:
        assert racer.stdin is not None
        racer.stdin.write("go\n")
        racer.stdin.flush()
    results = [int(racer.communicate(timeout=120)[0].strip()) for racer in racers]
    assert sum(results) == RACE_PEOPLE
    per_chat = Counter(chat for chat, _, _ in outbox(storage))
    assert len(per_chat) == RACE_PEOPLE and set(per_chat.values()) == {1}


HANGER = """
import sys, time
from bot.storage import open_storage
from bot.features.reminders.messages import wording
from bot.features.reminders.store import ReminderStore
storage = open_storage(sys.argv[1])
store = ReminderStore(storage.db, say=wording({}))
claim = store._claim
def claim_then_hang(db, row, now):
    found = claim(db, row, now)
    print("claimed", flush=True)
    time.sleep(600)  # SIGKILLed here: rows moved on, nothing committed
    return found
store._claim = claim_then_hang
store.sweep(float(sys.argv[2]))
"""


def test_a_sweeper_killed_mid_sweep_leaves_its_reminders_to_the_other(place: Place) -> None:
    """A replica killed in the middle of a sweep holds nothing for long: its transaction is
    rolled back with its connection, and another replica's sweep sends every occurrence
    once. (On PostgreSQL, while it lives, the others skip the rows it claimed.)"""
    storage, store = place.open()
    fill(store, 60, at(2026, 6, 1, 8, 0))
    now = at(2026, 6, 1, 9, 0, 5)
    hanger = subprocess.Popen(
        [sys.executable, "-c", HANGER, place.url, repr(now)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert hanger.stdout is not None and hanger.stdout.readline().strip() == "claimed"
        if storage.db.dialect == "postgres":
            assert store.sweep(now) == 0  # its claims are skipped, not waited for
    finally:
        hanger.kill()
        hanger.communicate(timeout=10)
    if storage.db.dialect == "postgres":
        # the server rolls the dead connection's transaction back: wait for that, not longer
        with storage.db.transaction() as db:
            db.execute("SELECT id FROM reminders FOR UPDATE")
    assert store.sweep(now) == 60
    per_chat = Counter(chat for chat, _, _ in outbox(storage))
    assert len(per_chat) == 60 and set(per_chat.values()) == {1}
    assert store.sweep(now + 60) == 0


def test_sweeping_in_small_batches_reaches_everyone(place: Place) -> None:
    _storage, store = place.open()
    fill(store, 120, at(2026, 6, 1, 8, 0))
    assert store.sweep(at(2026, 6, 1, 9, 0, 3), batch=7) == 120
    assert store.due_count(at(2026, 6, 1, 9, 0, 3)) == 0


# ---------------------------------------------------------------- follow-ups


def test_follow_ups_by_day_with_conditions_one_a_day_and_paused_by_stop(place: Place) -> None:
    storage, store = place.open()
    user = person(store)
    place.answers[user] = {"hurts": ["sitting"]}
    store.enroll_followups(user, CHAT, "weeks", at(2026, 6, 1, 15, 0))  # day 0: 1 June
    assert store.sweep(at(2026, 6, 1, 15, 0, 5)) == 1  # day 0 at 10:00 already passed: now
    assert store.sweep(at(2026, 6, 2, 10, 0, 5)) == 1  # day 1: sitting pain, so it fits
    storage.set_flag(user, "stopped", True)
    assert store.sweep(at(2026, 6, 8, 10, 0, 5)) == 0  # day 7 waits while stopped
    storage.set_flag(user, "stopped", False)
    assert store.sweep(at(2026, 6, 9, 10, 0, 5)) == 1  # and comes the next day
    assert store.sweep(at(2026, 6, 9, 18, 0)) == 0  # never two in one day
    assert store.sweep(at(2026, 6, 10, 10, 0, 5)) == 1
    texts = [str(p["text"]) for _, p, _ in outbox(storage)]
    assert "Call 999 if unwell" in texts[0]
    assert [t.split("\n")[-1] for t in texts[1:]] == [
        "Sit less.",
        "One week in.",
        "Also a week in.",
    ]
    assert store.reminder_of(user, "followup") is not None
    assert store.reminder_of(user, "followup").next_due is None  # type: ignore[union-attr]


def test_a_follow_up_whose_condition_does_not_hold_is_skipped(place: Place) -> None:
    _storage, store = place.open()
    user = person(store)
    place.answers[user] = {"hurts": ["stairs"]}
    store.enroll_followups(user, CHAT, "weeks", at(2026, 6, 1, 9, 0), start=date(2026, 6, 1))
    assert store.sweep(at(2026, 6, 1, 10, 0, 5)) == 1
    assert store.sweep(at(2026, 6, 2, 10, 0, 5)) == 0  # "sitting" does not fit: skipped
    assert store.followup_done(user, "weeks") == {"hello": "sent", "sitting": "skipped"}
    following = store.reminder_of(user, "followup")
    assert following is not None and local(following.next_due) == "Mon 08 Jun 10:00 BST"


# ---------------------------------------------------------------- check-ins and effects


def test_check_in_answers_are_kept_over_time_and_sealed_at_rest(place: Place) -> None:
    _storage, store = place.open()
    user = person(store)
    for week, (pain, trend) in enumerate([(6, "same"), (5, "better"), (7, "worse")]):
        store.record_checkin(user, pain, trend, at(2026, 6, 1 + 7 * week, 18, 0))
    assert [(c.pain, c.trend) for c in store.checkins(user)] == [
        (6, "same"),
        (5, "better"),
        (7, "worse"),
    ]
    if place.url.startswith("sqlite"):  # read the file with no help from the bot
        raw = sqlite3.connect(place.path).execute("SELECT data FROM checkin_answers").fetchall()
    else:
        raw = _storage.db.all("SELECT data FROM checkin_answers")
    assert len(raw) == 3
    assert all("worse" not in value and "pain" not in value for (value,) in raw)


def session(user: str, answers: Mapping[str, AnswerValue], revision: int) -> Session:
    return Session(user, "reminders", 1, "rem_sit_save", answers=dict(answers), revision=revision)


def test_the_flow_effect_saves_a_reminder_in_the_turn_and_bad_input_changes_nothing(
    place: Place,
) -> None:
    storage, store = place.open()
    reminders_feature.setup(ports_with(storage, store))
    user = str(CHAT)
    answers = {
        "timezone": "america__new_york",
        "sit_every": "every_60",
        "sit_start": "09:00",
        "sit_end": "12:00",
        "sit_days": "every_day",
    }
    storage.commit_turn(
        session(user, answers, 1),
        [Effect("schedule_reminder", {"kind": "settings", "save": "timezone"})],
        now=at(2026, 6, 1, 8, 0, tz="UTC"),
    )
    storage.commit_turn(
        session(user, answers, 2),
        [
            Effect("schedule_reminder", {"kind": "sitting"}),
            Effect("schedule_reminder", {"kind": "nonsense"}),
            Effect("checkin_recorded", {}),
        ],
        now=at(2026, 6, 1, 8, 0, tz="UTC"),
    )
    assert store.settings(user).tz == "America/New_York"
    (sitting,) = store.reminders(user)
    assert sitting.rule == Rule.window(9 * 60, 12 * 60, 60, range(7))
    assert local(sitting.next_due, "America/New_York") == "Mon 01 Jun 10:00 EDT"
    assert store.checkins(user)[0].pain is None  # no answers yet: kept as not given
    journal = [kind for kind, _ in storage.journal(user)]
    assert journal.count("schedule_reminder") == 3


def test_condition_type_is_the_flow_condition() -> None:
    condition: Condition = AnswerTest("hurts", "has", "sitting")
    assert condition.holds({"hurts": ["sitting"]}) and not condition.holds({})
    assert json.loads(json.dumps(Rule.daily(60).to_json()))["at"] == 60


# ---------------------------------------------------------------- /reminders and its buttons


def test_reminders_command_lists_and_its_buttons_change_stop_and_show_history(
    place: Place,
) -> None:
    from bot.engine import Engine
    from bot.features import Context, parse_button
    from bot.loader import load_bundle

    storage, store = place.open()
    ports = ports_with(storage, store)
    user = person(store)
    now = at(2026, 6, 1, 8, 0)
    store.set_reminder(user, CHAT, "sitting", Rule.window(9 * 60, 17 * 60, 30, range(5)), now)
    store.record_checkin(user, 5, "better", now)
    engine = Engine(load_bundle([REPO / "flows"]))

    def context() -> Context:
        return Context(user, CHAT, storage, engine, now, ports=ports)

    (listing,) = reminders_feature.list_reminders(context()).replies
    assert "Breaks from sitting" in listing.text
    assert "every 30 minutes from 09:00 to 17:00, Mon-Fri" in listing.text
    assert "Next: today at 09:30" in listing.text
    assert "London (Europe/London)" in listing.text and "21:00 to 08:00" in listing.text
    buttons = {b.label: b.data for row in listing.buttons for b in row}
    assert set(buttons) >= {"Change: Breaks from sitting", "Stop: Breaks from sitting"}
    assert all(len(data.encode()) <= 64 for data in buttons.values())

    def press(label: str) -> reminders_feature.Response:
        parsed = parse_button(buttons[label])
        assert parsed is not None
        return reminders_feature.press(context(), parsed[1])

    change = press("Change: Breaks from sitting")
    assert change.then is not None and change.then.timer == "reminders:rem_sit_every"
    history = press("My check-ins").replies[0].text
    assert "1 Jun 2026: pain 5 of 10, better" in history
    stopped = press("Stop: Breaks from sitting")
    assert stopped.edit is not None and stopped.edit.text.startswith("Stopped.")
    assert "no reminders yet" in stopped.edit.text
    assert store.reminders(user) == []
    again = press("Stop: Breaks from sitting")
    assert again.edit is not None and "already off" in again.edit.text
    assert (
        "Berlin"
        in reminders_feature.set_timezone(
            Context(user, CHAT, storage, engine, now, args="berlin", ports=ports)
        )
        .replies[0]
        .text
    )
    assert store.settings(user).tz == "Europe/Berlin"
    unknown = reminders_feature.set_timezone(
        Context(user, CHAT, storage, engine, now, args="xyz", ports=ports)
    )
    assert "could not find that place" in unknown.replies[0].text


def test_a_broken_follow_up_file_fails_validation_with_breadcrumbs(tmp_path: Path) -> None:
    from bot.cli import main

    broken = tmp_path / "more_followups.yaml"
    broken.write_text(
        "followups: more\n"
        "send_at: '25:00'\n"
        "messages:\n"
        "  - {id: a, day: 1, say: 'Hi.', if: {answer: hurst, has: sitting}}\n"
        "  - {id: b, dya: 2, say: 'Hi again.'}\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    with contextlib.redirect_stderr(out):
        code = main(["validate", str(REPO / "flows"), str(broken)])
    said = out.getvalue()
    assert code == 1
    assert f"{broken} > send_at: " in said
    assert f"{broken} > messages[1].dya: unknown key 'dya' (did you mean 'day'?)" in said
    broken.write_text(
        "followups: more\nmessages:\n  - {id: a, day: 1, say: 'Hi.', if: {answer: hurst, has: sitting}}\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    with contextlib.redirect_stderr(out):
        assert main(["validate", str(REPO / "flows"), str(broken)]) == 1
    assert (
        f"{broken} > messages[0].if: no step saves an answer named 'hurst' (did you mean 'hurts'?)"
        in out.getvalue()
    )


def test_the_bench_sweeper_reports_its_figures() -> None:
    from bench.reminders import run_sweeper

    figures = run_sweeper(300)
    assert figures["queued"] == 300
    assert figures["rss_mb"] >= figures["rss_mb_before_sweep"] > 0


def test_withdrawing_consent_erases_the_check_in_history_at_once(place: Place) -> None:
    storage, store = place.open()
    reminders_feature.setup(ports_with(storage, store))
    user = person(store)
    store.set_reminder(user, CHAT, "checkin", Rule.weekly(0, 18 * 60), at(2026, 6, 1, 8, 0))
    store.record_checkin(user, 6, "worse", at(2026, 6, 1, 18, 0))
    storage.commit_turn(
        session(user, {}, 1), [Effect("consent_withdrawn", {})], now=at(2026, 6, 2, 9, 0)
    )
    assert store.checkins(user) == []
    assert [r.kind for r in store.reminders(user)] == ["checkin"]  # the reminder itself stays
