"""Dates and times in each language (bot/dates.py, Babel's locale data) and where the bot
says them: the reminders' rules and times, the sweep's reminders in the person's language."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import dates
from bot.features.reminders.chat import when_text
from bot.features.reminders.messages import say_due
from bot.features.reminders.rules import Rule, days_text
from bot.features.reminders.store import Due, ReminderStore
from bot.localtime import QuietHours
from bot.storage import SqlStorage
from bot.storage.sql import OutboxItem

MONDAY = datetime(2026, 12, 7, 8, 0)


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "Monday, 7 December, 08:00"),
        ("es", "lunes, 7 de diciembre, 08:00"),
        ("de", "Montag, 7. Dezember, 08:00"),
        ("fr", "Monday, 7 December, 08:00"),  # a language the bot does not speak: English
    ],
)
def test_a_day_and_time_in_each_language(language: str, said: str) -> None:
    assert dates.day_and_time(MONDAY, language) == said


def test_short_dates_and_day_names() -> None:
    day = date(2026, 5, 3)
    assert [dates.short_date(day, lang) for lang in ("en", "es", "de")] == [
        "3 May 2026",
        "3 may 2026",
        "3. Mai 2026",
    ]
    assert [dates.weekday(6, lang) for lang in ("en", "es", "de")] == [
        "Sunday",
        "domingo",
        "Sonntag",
    ]
    assert dates.clock(datetime(2026, 1, 1, 21, 5), "de") == "21:05"


@pytest.mark.parametrize(
    ("language", "daily", "weekly", "window"),
    [
        (
            "en",
            "every day at 10:00",
            "every Mon at 08:00",
            "every 30 minutes from 09:00 to 17:00, Mon-Fri",
        ),
        (
            "es",
            "cada día a las 10:00",
            "cada lunes a las 08:00",
            "cada 30 minutos de 09:00 a 17:00, de lunes a viernes",
        ),
        (
            "de",
            "jeden Tag um 10:00",
            "jeden Montag um 08:00",
            "alle 30 Minuten von 09:00 bis 17:00, Montag bis Freitag",
        ),
    ],
)
def test_reminder_rules_described_in_each_language(
    language: str, daily: str, weekly: str, window: str
) -> None:
    assert Rule.daily(600).describe(language) == daily
    assert Rule.from_json({"kind": "weekly", "at": 480, "days": [0]}).describe(language) == weekly
    rule = Rule.from_json(
        {"kind": "window", "start": 540, "end": 1020, "every": 30, "days": [0, 1, 2, 3, 4]}
    )
    assert rule.describe(language) == window


def test_days_and_quiet_hours_in_each_language() -> None:
    assert [days_text([0, 2], lang) for lang in ("en", "es", "de")] == [
        "Mon, Wed",
        "lun, mié",
        "Mo, Mi",
    ]
    quiet = QuietHours(21 * 60, 8 * 60)
    assert [quiet.describe(lang) for lang in ("en", "es", "de")] == [
        "21:00 to 08:00",
        "de 21:00 a 08:00",
        "21:00 bis 08:00",
    ]


def test_when_a_reminder_comes_in_each_language() -> None:
    tz = "Europe/Madrid"
    now = datetime(2026, 12, 7, 7, 0, tzinfo=ZoneInfo(tz)).timestamp()
    today, tomorrow, later = now + 3600, now + 86400, now + 3 * 86400
    assert when_text(today, tz, now, "es") == "hoy a las 08:00"
    assert when_text(tomorrow, tz, now, "de") == "morgen um 07:00"
    assert when_text(later, tz, now, "es") == "jueves, 10 de diciembre, 07:00"
    assert when_text(later, tz, now, "en") == "Thursday, 10 December, 07:00"
    assert when_text(None, tz, now, "de") == "nicht geplant"


def test_the_sweep_says_each_reminder_in_its_persons_language(tmp_path: Path) -> None:
    storage = SqlStorage(str(tmp_path / "r.db"))
    said: list[Due] = []

    def say(due: Due) -> OutboxItem:
        said.append(due)
        return say_due(due, {})

    people = {"101": "de", "102": "es", "103": "en"}
    store = ReminderStore(storage.db, say=say, language_of=lambda user: people[user])
    start = datetime(2026, 6, 1, 8, 0, tzinfo=ZoneInfo("Europe/London")).timestamp()
    for user in people:
        store.save_settings(user, start, tz="Europe/London")
        store.set_reminder(user, int(user), "tip", Rule.daily(9 * 60), start)
    store.sweep(start + 3600 + 60)
    assert {due.chat_id: due.language for due in said} == {101: "de", 102: "es", 103: "en"}
