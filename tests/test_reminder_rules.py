"""Reminder rules a person or a follow-up author would notice when they go wrong.

How late a reminder may still come (the grace windows), what the days default to, the
minutes right after a daylight-saving jump, which time zone a typed city or offset means,
and what a follow-up file is built into (or why it is refused). All with fixed instants:
nothing here reads the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.features.reminders.rules import (
    FollowupMessage,
    FollowupSequence,
    QuietHours,
    Rule,
    RuleError,
    build_followups,
    condition_holds,
    followup_nominal,
    in_quiet_hours,
    match_timezone,
    next_followup_due,
    next_occurrence,
    on_due,
    parse_hhmm,
    quiet_from_answers,
    reminder_text,
    render_followup,
    rule_from_answers,
    timezone_label,
)
from bot.model import AnswerTest, Text

LONDON = "Europe/London"
NO_QUIET = QuietHours(0, 0)
MINUTE = 60.0
HOUR = 3600.0


def at(tz: str, *parts: int) -> float:
    return datetime(*parts, tzinfo=ZoneInfo(tz)).timestamp()  # type: ignore[misc]


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()  # type: ignore[misc]


def local(instant: float, tz: str = LONDON) -> str:
    return datetime.fromtimestamp(instant, ZoneInfo(tz)).strftime("%a %Y-%m-%d %H:%M %Z")


# ---------------------------------------------------------------- how late is too late


@pytest.mark.parametrize(
    ("kind", "grace"),
    [
        ("sitting", 10 * MINUTE),
        ("tip", HOUR),
        ("exercise", HOUR),
        ("checkin", 6 * HOUR),
        ("followup", HOUR),  # no window of its own: one hour
        ("something_new", HOUR),
    ],
)
def test_a_late_reminder_is_sent_up_to_its_grace_window_and_skipped_after(
    kind: str, grace: float
) -> None:
    rule = Rule.daily(9 * 60)
    due = at(LONDON, 2026, 6, 3, 9, 0)  # a Wednesday, far from any quiet hours
    just_in_time = on_due(kind, rule, LONDON, NO_QUIET, due, due + grace)
    assert just_in_time.action == "send"
    assert local(just_in_time.next_due or 0) == "Thu 2026-06-04 09:00 BST"
    too_late = on_due(kind, rule, LONDON, NO_QUIET, due, due + grace + 1)
    assert too_late.action == "skip"
    assert local(too_late.next_due or 0) == "Thu 2026-06-04 09:00 BST"


def test_a_late_sitting_break_is_counted_from_the_time_it_is_sent() -> None:
    rule = Rule.window(9 * 60, 12 * 60, 30, range(7))
    due = at(LONDON, 2026, 6, 3, 10, 0)
    sent = on_due("sitting", rule, LONDON, NO_QUIET, due, due + 9 * MINUTE)
    assert sent.action == "send"
    assert local(sent.next_due or 0) == "Wed 2026-06-03 10:30 BST"


# ---------------------------------------------------------------- days and times from answers


def test_sitting_breaks_come_on_weekdays_unless_other_days_are_picked() -> None:
    weekdays = rule_from_answers("sitting", {})
    assert weekdays.describe() == "every 30 minutes from 09:00 to 17:00, Mon-Fri"
    nothing_picked = rule_from_answers("sitting", {"sit_days": "pick", "sit_days_list": []})
    assert nothing_picked.days == weekdays.days
    odd = rule_from_answers(
        "sitting", {"sit_days": "pick", "sit_days_list": ["mon", "sat", "someday"]}
    )
    assert odd.describe() == "every 30 minutes from 09:00 to 17:00, Mon, Sat"
    every = rule_from_answers("sitting", {"sit_days": "every_day", "sit_every": "every_45"})
    assert every.describe() == "every 45 minutes from 09:00 to 17:00, every day"
    # Friday 17:00 is the last break of the week; the next is Monday 09:30
    friday_end = at(LONDON, 2026, 6, 5, 17, 0)
    assert local(next_occurrence(weekdays, LONDON, friday_end) or 0) == "Mon 2026-06-08 09:30 BST"


def test_a_weekend_rule_reads_as_a_weekend() -> None:
    weekend = Rule.daily(10 * 60, {5, 6})
    assert weekend.describe() == "at 10:00, Sat and Sun"


def test_a_midnight_reminder_comes_every_midnight() -> None:
    rule = Rule.daily(0)
    first = next_occurrence(rule, LONDON, at(LONDON, 2026, 6, 3, 0, 0))
    assert local(first or 0) == "Thu 2026-06-04 00:00 BST"
    second = next_occurrence(rule, LONDON, first or 0)
    assert local(second or 0) == "Fri 2026-06-05 00:00 BST"


# ---------------------------------------------------------------- right after a DST jump


def test_a_reminder_in_the_skipped_hour_still_comes_when_asked_for_just_after_the_jump() -> None:
    # London, 29 March 2026: at 01:00 GMT the clocks jump to 02:00 BST; 01:30 never happens
    # and is sent at 02:30 BST. Asked at 02:10 BST, the next one is that 02:30, not tomorrow.
    rule = Rule.daily(1 * 60 + 30)
    after = utc(2026, 3, 29, 1, 10)
    assert local(after) == "Sun 2026-03-29 02:10 BST"
    assert next_occurrence(rule, LONDON, after) == utc(2026, 3, 29, 1, 30)


def test_the_hour_that_happens_twice_sends_a_window_break_once() -> None:
    # 25 October 2026, London: 01:00-02:00 comes twice. A break every 30 minutes from
    # 00:00 to 03:00 asked for at the second 01:10 (GMT) comes at 02:00 GMT, not at 01:30.
    rule = Rule.window(0, 3 * 60, 30, range(7))
    after = utc(2026, 10, 25, 1, 10)
    assert local(after) == "Sun 2026-10-25 01:10 GMT"
    assert local(next_occurrence(rule, LONDON, after) or 0) == "Sun 2026-10-25 02:00 GMT"


# ---------------------------------------------------------------- typed time zones


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("utc", "UTC"),
        ("Z", "UTC"),
        ("0", "UTC"),
        ("UTC+0", "UTC"),
        ("gmt+0", "UTC"),
        ("utc 0", "UTC"),
        ("utc_plus_0", "UTC"),
        ("+0", "UTC"),
        ("EUROPE/LONDON", "Europe/London"),
        ("america/new york", "America/New_York"),
        ("Etc/GMT+5", "Etc/GMT+5"),
        ("Berlin.", "Europe/Berlin"),
        ("  munich!", "Europe/Berlin"),
        ("Hawaii", "Pacific/Honolulu"),
        ("new-york", "America/New_York"),
        ("buenos aires", "America/Buenos_Aires"),
        ("Istanbul", "Asia/Istanbul"),
        ("Louisville", "America/Louisville"),
        ("los_angeles", "America/Los_Angeles"),
        ("Berlinn", "Europe/Berlin"),
        ("UTC +2", "Etc/GMT-2"),
        ("gmt-3", "Etc/GMT+3"),
        ("+14", "Etc/GMT-14"),
        ("-12", "Etc/GMT+12"),
        ("+0530", "Asia/Kolkata"),
        ("+5.30", "Asia/Kolkata"),
        ("+5h30", "Asia/Kolkata"),
        ("utc+05:30", "Asia/Kolkata"),
        ("+5:45", "Asia/Kathmandu"),
        ("+3:30", "Asia/Tehran"),
        ("+9:30", "Australia/Darwin"),
        ("-9:30", "Pacific/Marquesas"),
        ("utc_minus_9_30", "Pacific/Marquesas"),
        ("utc_plus_14", "Etc/GMT-14"),
    ],
)
def test_what_people_type_for_their_time_zone(typed: str, expected: str) -> None:
    assert match_timezone(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["+15", "-13", "utc_minus_13", "utc_plus_15", "+2:30", "-5:30", "Alaska", "Aleutian", "Ber"],
)
def test_offsets_and_names_that_are_no_time_zone(typed: str) -> None:
    assert match_timezone(typed) is None


def test_a_long_text_is_not_searched_for_a_city() -> None:
    assert match_timezone("London " * 9) is None  # 62 characters, more than anyone types
    assert match_timezone("  London  ") == "Europe/London"


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("UTC", "UTC"),
        ("Etc/GMT+5", "UTC-5"),
        ("Etc/GMT-14", "UTC+14"),
        ("America/Argentina/Buenos_Aires", "Buenos Aires (America/Argentina/Buenos_Aires)"),
    ],
)
def test_time_zone_labels(name: str, label: str) -> None:
    assert timezone_label(name) == label


# ---------------------------------------------------------------- follow-up files


def followups(*messages: dict[str, object], **head: object) -> dict[str, object]:
    return {"followups": "weeks", **head, "messages": list(messages)}


def test_a_follow_up_file_becomes_a_sequence_with_its_times_and_title() -> None:
    built, problems = build_followups(
        "flows/followups.yaml",
        followups(
            {"id": "hello", "day": 0, "say": "Hello. Call {emergency_number} if it gets bad."},
            {"id": "evening", "day": 1, "at": "18:45", "say": "A tip for the evening."},
            title="Tips over the next weeks",
            send_at="09:15",
        ),
        set(),
    )
    assert problems == []
    assert built is not None
    assert (built.id, built.send_at, built.source) == ("weeks", 9 * 60 + 15, "flows/followups.yaml")
    assert built.title is not None and built.title.get("en") == "Tips over the next weeks"
    hello, evening = built.ordered()
    assert (hello.id, hello.day, hello.at, hello.condition) == ("hello", 0, None, None)
    assert (evening.id, evening.day, evening.at) == ("evening", 1, 18 * 60 + 45)
    start = date(2026, 6, 1)
    assert local(followup_nominal(built, hello, start, LONDON)) == "Mon 2026-06-01 09:15 BST"
    assert local(followup_nominal(built, evening, start, LONDON)) == "Tue 2026-06-02 18:45 BST"
    assert render_followup(hello, "en", {"emergency_number": "999"}) == (
        "Hello. Call 999 if it gets bad."
    )


def test_a_follow_up_file_without_title_or_time_sends_at_ten() -> None:
    built, problems = build_followups(
        "f.yaml", followups({"id": "a", "day": 0, "say": "Hi."}), set()
    )
    assert problems == [] and built is not None
    assert built.title is None
    assert built.send_at == 10 * 60


def test_a_follow_up_condition_decides_whether_it_is_sent() -> None:
    built, problems = build_followups(
        "f.yaml",
        followups(
            {"id": "a", "day": 0, "say": "Hi."},
            {"id": "b", "day": 2, "say": "Sit less.", "if": {"answer": "hurts", "has": "sitting"}},
        ),
        {"hurts"},
    )
    assert problems == [] and built is not None
    always, sitting = built.ordered()
    assert condition_holds(always.condition, {}) is True
    assert condition_holds(sitting.condition, {"hurts": ["sitting"]}) is True
    assert condition_holds(sitting.condition, {"hurts": ["stairs"]}) is False
    assert condition_holds(sitting.condition, {}) is False
    assert condition_holds(AnswerTest("pain", "at_least", 7), {"pain": 8}) is True


def test_follow_up_mistakes_name_the_message_and_the_fix() -> None:
    built, problems = build_followups(
        "f.yaml",
        followups(
            {"id": "a", "day": 0, "say": "   "},
            {"id": "b", "day": 1, "say": "x", "if": {"answer": "pain", "at_least": 7, "equals": 3}},
            {"id": "c", "day": 2, "say": {"de": "Hallo"}},
            {"id": "d", "day": 3, "say": "Hi {pain}"},
            title={"en": "Tips", "english": "Tips"},
        ),
        {"pain"},
    )
    assert built is None
    assert [str(p) for p in problems] == [
        "f.yaml > messages[1].if: a test on 'pain' needs exactly one of equals, not_equals, in, "
        "has, has_any, at_least, at_most, answered (found ['at_least', 'equals'])",
        "f.yaml > messages[2].say: missing the 'en' text (found only ['de'])",
        "f.yaml > title: 'english' is not a language code like 'en' or 'de'",
        "f.yaml > messages[0].say: the text is empty",
        "f.yaml > messages[3].say: unknown placeholder '{pain}' (known: emergency_number, urgent_care)",
    ]


def test_a_follow_up_file_of_the_wrong_shape_is_not_built() -> None:
    late = {"id": "a", "day": 0, "at": "9:30", "say": "Hi."}
    built, problems = build_followups("f.yaml", followups(late, send_at="25:00"), set())
    assert built is None
    assert [str(p) for p in problems] == [
        "f.yaml > send_at: '25:00' is not a time of day like 09:30 (00:00 to 23:59)",
        "f.yaml > messages[0].at: '9:30' is not a time of day like 09:30 (00:00 to 23:59)",
    ]


def test_follow_ups_after_a_late_one_wait_for_the_next_day() -> None:
    seq = FollowupSequence(
        "weeks",
        10 * 60,
        (
            FollowupMessage("a", 0, Text.plain("A")),
            FollowupMessage("b", 0, Text.plain("B")),
        ),
    )
    start = date(2026, 6, 1)
    sent_first = at(LONDON, 2026, 6, 1, 10, 0)
    second = next_followup_due(seq, seq.messages[1], start, LONDON, NO_QUIET, sent_first)
    assert local(second) == "Tue 2026-06-02 10:00 BST"
    # a message due the day after the last one goes at its own time
    third = FollowupMessage("c", 2, Text.plain("C"))
    assert local(next_followup_due(seq, third, start, LONDON, NO_QUIET, sent_first)) == (
        "Wed 2026-06-03 10:00 BST"
    )


# ---------------------------------------------------------------- rules as a person sets them


def test_sitting_intervals_from_5_minutes_to_12_hours() -> None:
    assert Rule.window(9 * 60, 17 * 60, 5, range(7)).every == 5
    assert Rule.window(0, 23 * 60, 12 * 60, range(7)).every == 12 * 60
    for every in (4, 12 * 60 + 1):
        with pytest.raises(RuleError, match=f"every {every} minutes is not a reminder interval"):
            Rule.window(9 * 60, 17 * 60, every, range(7))


def test_no_break_after_the_window_ends() -> None:
    rule = Rule.window(0, 59, 30, range(7))
    assert rule.times() == [30]
    assert rule.describe() == "every 30 minutes from 00:00 to 00:59, every day"


def test_a_weekly_check_in_reads_as_its_day_and_time() -> None:
    assert rule_from_answers("checkin", {}).describe() == "every Mon at 10:00"
    chosen = rule_from_answers("checkin", {"ci_day": "fri", "ci_time": "18:30"})
    assert chosen.describe() == "every Fri at 18:30"
    assert chosen == Rule.from_json(chosen.to_json())
    assert rule_from_answers("checkin", {"ci_day": "someday"}).describe() == "every Mon at 10:00"


def test_a_stored_rule_without_days_fires_every_day() -> None:
    assert Rule.from_json({"kind": "daily", "at": 600}).describe() == "every day at 10:00"


def test_the_minute_quiet_hours_end_is_not_quiet() -> None:
    lunch = QuietHours(12 * 60, 14 * 60)
    assert lunch.describe() == "12:00 to 14:00"
    assert [lunch.contains(m) for m in (11 * 60 + 59, 12 * 60, 13 * 60 + 59, 14 * 60)] == [
        False,
        True,
        True,
        False,
    ]
    night = QuietHours()
    assert [night.contains(m) for m in (20 * 60 + 59, 21 * 60, 7 * 60 + 59, 8 * 60)] == [
        False,
        True,
        True,
        False,
    ]
    assert QuietHours(9 * 60, 9 * 60).describe() == "off"
    assert in_quiet_hours(at(LONDON, 2026, 6, 3, 22, 0), LONDON, night) is True
    assert in_quiet_hours(at(LONDON, 2026, 6, 3, 8, 0), LONDON, night) is False
    assert in_quiet_hours(at(LONDON, 2026, 6, 3, 22, 0), LONDON, NO_QUIET) is False


def test_quiet_hours_are_changed_only_when_both_ends_are_given() -> None:
    assert quiet_from_answers({"quiet_start": "22:00", "quiet_end": "07:00"}) == QuietHours(
        22 * 60, 7 * 60
    )
    assert quiet_from_answers({"quiet_start": "22:00"}) is None
    assert quiet_from_answers({"quiet_end": "07:00"}) is None


def test_times_of_day_stop_at_23_59() -> None:
    assert parse_hhmm("23:59") == 23 * 60 + 59
    for text in ("09:60", "24:00"):
        with pytest.raises(RuleError, match="is not a time of day"):
            parse_hhmm(text)


def test_a_short_window_late_in_the_day_ends_at_23_59() -> None:
    rule = Rule.window(23 * 60 + 50, 23 * 60 + 55, 30, range(7))
    assert rule.describe() == "every 30 minutes from 23:29 to 23:59, every day"


def test_default_times_of_the_daily_reminders() -> None:
    assert rule_from_answers("tip", {}).describe() == "every day at 10:00"
    assert rule_from_answers("exercise", {}).describe() == "every day at 18:00"
    assert rule_from_answers("sitting", {"sit_every": "often"}).every == 30


def test_each_kind_of_reminder_has_its_title() -> None:
    assert reminder_text("tip", 0).startswith("<b>Daily hip tip</b>\n")
    assert reminder_text("tip", 0) != reminder_text("tip", 1)
    assert reminder_text("exercise", 0).startswith("<b>Exercise time</b>\n")
    assert reminder_text("exercise", 0) != reminder_text("exercise", 1)
    assert reminder_text("checkin", 0).startswith("<b>Weekly check-in</b>\n")
    assert reminder_text("something", 0).startswith("<b>Reminder</b>\n")
