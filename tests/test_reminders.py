"""The pure reminder rules (bot.features.reminders.rules): DST, quiet hours, windows, days, snooze, stop and
the catch-up policy. Every time is given; nothing sleeps and nothing reads a clock."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import lint, texts
from bot.content import Kit, TextKey, shipped_kit
from bot.errors import FlowError
from bot.features.reminders.messages import reminder_buttons
from bot.features.reminders.rules import (
    FollowupMessage,
    FollowupSequence,
    QuietHours,
    Rule,
    RuleError,
    build_followups,
    hold,
    match_timezone,
    next_followup_due,
    next_occurrence,
    on_due,
    quiet_from_answers,
    reminder_text,
    reminder_title,
    rule_from_answers,
    schedule_after,
    snooze_until,
    timezone_label,
)
from bot.model import Text

LONDON = "Europe/London"
NEW_YORK = "America/New_York"
NO_QUIET = QuietHours(0, 0)


def at(tz: str, *parts: int) -> float:
    """A local wall time in ``tz`` as UTC seconds (the first, if it happens twice)."""
    return datetime(*parts, tzinfo=ZoneInfo(tz)).timestamp()  # type: ignore[misc]


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()  # type: ignore[misc]


def local(instant: float, tz: str) -> str:
    return datetime.fromtimestamp(instant, ZoneInfo(tz)).strftime("%a %Y-%m-%d %H:%M %Z")


def chain(rule: Rule, tz: str, start: float, count: int) -> list[float]:
    found, after = [], start
    for _ in range(count):
        nxt = next_occurrence(rule, tz, after)
        assert nxt is not None
        found.append(nxt)
        after = nxt
    return found


# ---------------------------------------------------------------- daylight saving time


@pytest.mark.parametrize(
    ("tz", "spring", "autumn"),
    [
        # London: last Sundays of March and October; New York: 8 March and 1 November 2026
        (LONDON, date(2026, 3, 27), date(2026, 10, 23)),
        (NEW_YORK, date(2026, 3, 6), date(2026, 10, 30)),
    ],
)
def test_a_9am_reminder_stays_at_9am_local_across_both_transitions(
    tz: str, spring: date, autumn: date
) -> None:
    rule = Rule.daily(9 * 60)
    for start, short_or_long in ((spring, -3600), (autumn, 3600)):
        instants = chain(rule, tz, at(tz, start.year, start.month, start.day, 12, 0), 4)
        assert [local(i, tz)[15:20] for i in instants] == ["09:00"] * 4
        gaps = [round(b - a) for a, b in itertools.pairwise(instants)]
        # the day of the change is 23 or 25 hours long: the UTC time moved, 09:00 did not
        assert sorted(gaps) == sorted([86400, 86400, 86400 + short_or_long])


def test_london_utc_hour_of_the_9am_reminder_changes_with_the_clocks() -> None:
    rule = Rule.daily(9 * 60)
    winter = next_occurrence(rule, LONDON, utc(2026, 3, 27, 12))
    summer = next_occurrence(rule, LONDON, utc(2026, 3, 29, 12))
    autumn = next_occurrence(rule, LONDON, utc(2026, 10, 25, 12))
    assert winter == utc(2026, 3, 28, 9)  # GMT
    assert summer == utc(2026, 3, 30, 8)  # BST: 09:00 local is 08:00 UTC
    assert autumn == utc(2026, 10, 26, 9)  # GMT again


def test_a_time_that_does_not_exist_is_sent_as_the_clock_jumps_past_it() -> None:
    # London, 29 March 2026: 01:00 GMT jumps to 02:00 BST, so 01:30 never happens
    rule = Rule.daily(1 * 60 + 30)
    instants = chain(rule, LONDON, utc(2026, 3, 27, 12), 3)
    assert instants[0] == utc(2026, 3, 28, 1, 30)  # 01:30 GMT
    assert instants[1] == utc(2026, 3, 29, 1, 30)  # read with GMT: 02:30 BST, not skipped
    assert local(instants[1], LONDON).endswith("02:30 BST")
    assert instants[2] == utc(2026, 3, 30, 0, 30)  # 01:30 BST
    # New York, 8 March 2026: 02:30 does not exist; it is sent at 03:30 EDT
    ny = next_occurrence(Rule.daily(2 * 60 + 30), NEW_YORK, at(NEW_YORK, 2026, 3, 7, 12, 0))
    ny2 = next_occurrence(Rule.daily(2 * 60 + 30), NEW_YORK, ny or 0)
    assert local(ny or 0, NEW_YORK) == "Sun 2026-03-08 03:30 EDT"
    assert local(ny2 or 0, NEW_YORK) == "Mon 2026-03-09 02:30 EDT"


def test_a_time_that_happens_twice_is_sent_once_at_the_first() -> None:
    # London, 25 October 2026: 01:00-02:00 happens twice (BST, then GMT)
    rule = Rule.daily(1 * 60 + 30)
    instants = chain(rule, LONDON, utc(2026, 10, 24, 12), 2)
    assert instants[0] == utc(2026, 10, 25, 0, 30)  # 01:30 BST, the first of the two
    assert instants[1] == utc(2026, 10, 26, 1, 30)  # the next day, not 01:30 GMT the same day
    ny = chain(rule, NEW_YORK, at(NEW_YORK, 2026, 10, 31, 12, 0), 2)
    assert [local(i, NEW_YORK) for i in ny] == [
        "Sun 2026-11-01 01:30 EDT",
        "Mon 2026-11-02 01:30 EST",
    ]


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)], ids=["spring", "autumn"])
def test_a_window_through_the_change_sends_each_instant_once_in_order(day: date) -> None:
    rule = Rule.window(0, 4 * 60, 30, range(7))
    start = at(LONDON, day.year, day.month, day.day - 1, 23, 59)
    instants = chain(rule, LONDON, start, 10)
    assert instants == sorted(set(instants))  # strictly increasing: no duplicate, no loop
    same_day = [i for i in instants if local(i, LONDON)[4:14] == day.isoformat()]
    assert 5 <= len(same_day) <= 8


# ---------------------------------------------------------------- windows and days


def test_window_every_30_from_9_to_5_on_weekdays() -> None:
    rule = Rule.window(9 * 60, 17 * 60, 30, range(5))
    monday = at(LONDON, 2026, 6, 1, 8, 0)
    instants = chain(rule, LONDON, monday, 16)
    assert local(instants[0], LONDON) == "Mon 2026-06-01 09:30 BST"
    assert local(instants[-1], LONDON) == "Mon 2026-06-01 17:00 BST"
    # Friday's last break, then the weekend is skipped
    friday = at(LONDON, 2026, 6, 5, 16, 45)
    assert [local(i, LONDON) for i in chain(rule, LONDON, friday, 2)] == [
        "Fri 2026-06-05 17:00 BST",
        "Mon 2026-06-08 09:30 BST",
    ]


@pytest.mark.parametrize(("every", "last"), [(45, "16:30"), (60, "17:00")])
def test_window_intervals(every: int, last: str) -> None:
    rule = Rule.window(9 * 60, 17 * 60, every, range(7))
    times = [f"{m // 60:02d}:{m % 60:02d}" for m in rule.times()]
    assert times[0] == f"09:{every % 60:02d}" if every < 60 else times[0] == "10:00"
    assert times[-1] == last


def test_chosen_days_only() -> None:
    rule = Rule.daily(10 * 60, days={1, 3})  # Tuesday and Thursday
    instants = chain(rule, LONDON, at(LONDON, 2026, 6, 1, 0, 0), 3)
    assert [local(i, LONDON)[:3] for i in instants] == ["Tue", "Thu", "Tue"]
    weekly = chain(Rule.weekly(6, 18 * 60), NEW_YORK, at(NEW_YORK, 2026, 6, 1, 0, 0), 2)
    assert [local(i, NEW_YORK) for i in weekly] == [
        "Sun 2026-06-07 18:00 EDT",
        "Sun 2026-06-14 18:00 EDT",
    ]


def test_window_start_after_end_is_swapped_and_a_short_one_stretched() -> None:
    assert Rule.window(17 * 60, 9 * 60, 30, range(5)).start == 9 * 60
    short = Rule.window(9 * 60, 9 * 60 + 20, 60, range(5))
    assert short.end - short.start == 60 and len(short.times()) == 1


def test_impossible_rules_are_refused_with_the_rule_named() -> None:
    with pytest.raises(RuleError, match="days"):
        Rule.daily(9 * 60, days=set())
    with pytest.raises(RuleError, match="every 0 minutes"):
        Rule.window(9 * 60, 17 * 60, 0, range(5))
    with pytest.raises(RuleError, match="weekday 7"):
        Rule.weekly(7, 60)


def test_rules_round_trip_through_json() -> None:
    for rule in (
        Rule.window(8 * 60, 18 * 60, 45, {0, 2, 4}),
        Rule.daily(7 * 60 + 15),
        Rule.weekly(3, 19 * 60),
    ):
        assert Rule.from_json(rule.to_json()) == rule


def test_rules_from_the_flows_answers() -> None:
    sitting = rule_from_answers(
        "sitting",
        {
            "sit_every": "every_45",
            "sit_start": "08:00",
            "sit_end": "16:00",
            "sit_days": "pick",
            "sit_days_list": ["mon", "wed"],
        },
    )
    assert sitting == Rule.window(8 * 60, 16 * 60, 45, {0, 2})
    assert rule_from_answers("sitting", {"sit_days": "every_day"}).days == frozenset(range(7))
    assert rule_from_answers("tip", {"tip_time": "07:30"}) == Rule.daily(7 * 60 + 30)
    assert rule_from_answers("exercise", {"ex_time": "18:15"}) == Rule.daily(18 * 60 + 15)
    assert rule_from_answers("checkin", {"ci_day": "sun", "ci_time": "19:00"}) == Rule.weekly(
        6, 19 * 60
    )
    assert quiet_from_answers({"quiet_start": "22:30", "quiet_end": "07:00"}) == QuietHours(
        22 * 60 + 30, 7 * 60
    )
    assert quiet_from_answers({}) is None


# ---------------------------------------------------------------- quiet hours


def test_quiet_hours_hold_until_they_end() -> None:
    quiet = QuietHours()  # 21:00-08:00
    assert hold(at(LONDON, 2026, 6, 1, 22, 0), LONDON, quiet) == at(LONDON, 2026, 6, 2, 8, 0)
    assert hold(at(LONDON, 2026, 6, 1, 7, 59), LONDON, quiet) == at(LONDON, 2026, 6, 1, 8, 0)
    noon = at(LONDON, 2026, 6, 1, 12, 0)
    assert hold(noon, LONDON, quiet) == noon
    assert hold(at(LONDON, 2026, 6, 1, 21, 0), LONDON, quiet) == at(LONDON, 2026, 6, 2, 8, 0)
    lunch = QuietHours(12 * 60, 13 * 60)  # a window that does not wrap midnight
    assert hold(noon, LONDON, lunch) == at(LONDON, 2026, 6, 1, 13, 0)
    assert hold(at(LONDON, 2026, 6, 1, 23, 0), LONDON, NO_QUIET) == at(LONDON, 2026, 6, 1, 23)


def test_quiet_hours_end_at_local_8_on_the_morning_the_clocks_change() -> None:
    held = hold(at(LONDON, 2026, 3, 28, 23, 0), LONDON, QuietHours())
    assert local(held, LONDON) == "Sun 2026-03-29 08:00 BST"


def test_a_reminder_set_inside_quiet_hours_comes_when_they_end() -> None:
    rule = Rule.daily(22 * 60)
    due = schedule_after(rule, LONDON, QuietHours(), at(LONDON, 2026, 6, 1, 12, 0))
    assert local(due or 0, LONDON) == "Tue 2026-06-02 08:00 BST"
    # and its next one is the next evening's, held again: one message a day, no pile-up
    again = schedule_after(rule, LONDON, QuietHours(), due or 0)
    assert local(again or 0, LONDON) == "Wed 2026-06-03 08:00 BST"


def test_occurrences_inside_quiet_hours_become_one_message() -> None:
    rule = Rule.window(6 * 60, 10 * 60, 30, range(7))  # 06:30, 07:00, ... 10:00
    first = schedule_after(rule, LONDON, QuietHours(), at(LONDON, 2026, 6, 1, 5, 0))
    assert local(first or 0, LONDON) == "Mon 2026-06-01 08:00 BST"
    second = schedule_after(rule, LONDON, QuietHours(), first or 0)
    assert local(second or 0, LONDON) == "Mon 2026-06-01 08:30 BST"


# ---------------------------------------------------------------- snooze, stop, catch-up


def test_snooze_moves_it_by_15_minutes_or_an_hour_but_not_into_the_night() -> None:
    ten = at(LONDON, 2026, 6, 1, 10, 0)
    assert snooze_until(ten, 15, LONDON, QuietHours()) == ten + 15 * 60
    assert snooze_until(ten, 60, LONDON, QuietHours()) == ten + 3600
    late = at(LONDON, 2026, 6, 1, 20, 50)
    assert snooze_until(late, 15, LONDON, QuietHours()) == at(LONDON, 2026, 6, 2, 8, 0)


def test_every_reminder_has_done_snooze_and_stop_buttons() -> None:
    for kind in ("sitting", "tip", "exercise", "checkin"):
        labels = [b.label for row in reminder_buttons(123456789, kind) for b in row]
        assert {"Done", "Snooze 15 min", "Snooze 1 h", "Stop this reminder"} <= set(labels)
        data = [b.data for row in reminder_buttons(123456789, kind) for b in row]
        assert all(len(d.encode()) <= 64 for d in data)
        assert len(set(data)) == len(data)
    assert "Start the check-in" in [b.label for r in reminder_buttons(1, "checkin") for b in r]
    assert [b.label for r in reminder_buttons(1, "followup") for b in r] == ["Stop these tips"]


def test_catch_up_sends_a_slightly_late_one_and_skips_a_stale_one() -> None:
    rule = Rule.window(9 * 60, 17 * 60, 60, range(7))
    due = at(LONDON, 2026, 6, 1, 11, 0)
    on_time = on_due("sitting", rule, LONDON, QuietHours(), due, due + 5 * 60)
    assert on_time.action == "send"
    assert local(on_time.next_due or 0, LONDON).endswith("12:00 BST")
    # the bot was down from 10:58 to 14:20: the 11:00 break is stale, the next is 15:00
    stale = on_due("sitting", rule, LONDON, QuietHours(), due, at(LONDON, 2026, 6, 1, 14, 20))
    assert stale.action == "skip"
    assert local(stale.next_due or 0, LONDON).endswith("15:00 BST")
    # a daily tip 50 minutes late is still worth sending; 3 hours late it is not
    tip = Rule.daily(9 * 60)
    nine = at(LONDON, 2026, 6, 1, 9, 0)
    assert on_due("tip", tip, LONDON, QuietHours(), nine, nine + 50 * 60).action == "send"
    skipped = on_due("tip", tip, LONDON, QuietHours(), nine, nine + 3 * 3600)
    assert skipped.action == "skip" and local(skipped.next_due or 0, LONDON).startswith("Tue")


def test_a_due_one_found_in_quiet_hours_after_downtime_is_held_not_sent() -> None:
    rule = Rule.weekly(0, 20 * 60 + 50)
    due = at(LONDON, 2026, 6, 1, 20, 50)
    late = on_due("checkin", rule, LONDON, QuietHours(), due, due + 20 * 60)  # 21:10
    assert late.action == "hold"
    assert local(late.next_due or 0, LONDON) == "Tue 2026-06-02 08:00 BST"


# ---------------------------------------------------------------- texts


def rotation(key: TextKey) -> list[str]:
    return [text.get("en") for text in shipped_kit().rotation(key)]


def test_sitting_tips_vary_from_one_break_to_the_next() -> None:
    said = [reminder_text("sitting", n) for n in range(4)]
    assert len(set(said)) == 4
    assert all(text.startswith("<b>Sitting breaks</b>\n") for text in said)
    assert any("hips" in text and "knees" in text for text in rotation(texts.SITTING_TIPS))
    assert reminder_text("checkin", 0) != reminder_text("tip", 0)


def test_reminder_texts_come_from_the_kit_in_turn() -> None:
    sitting = rotation(texts.SITTING_TIPS)
    assert reminder_text("sitting", len(sitting) + 1) == f"<b>Sitting breaks</b>\n{sitting[1]}"
    kit = Kit(
        {
            texts.TITLE_TIP.id: Text({"en": "Tip", "de": "Tipp"}),
            texts.DAILY_TIPS.id: (Text({"en": "One.", "de": "Eins."}), Text.plain("Two.")),
        }
    )
    assert reminder_text("tip", 0, kit, "de") == "<b>Tipp</b>\nEins."
    assert reminder_text("tip", 3, kit, "de") == "<b>Tipp</b>\nTwo."  # falls back to English
    assert reminder_title("followup") == "Tips over the next weeks"
    assert reminder_title("no_such_kind") == "Reminder"


def test_reminder_texts_read_at_grade_6() -> None:
    messages = [
        lint.Message("reminders", f"{key.name}[{i}]", text)
        for key in (texts.SITTING_TIPS, texts.DAILY_TIPS, texts.EXERCISE_TEXTS)
        for i, text in enumerate(rotation(key))
    ]
    assert len(messages) >= 20
    lint.ensure_offline_cmudict()
    with lint._no_downloads():
        scores = lint._measure(messages)
        problems = lint._problems(scores, messages)
    assert not problems, problems


# ---------------------------------------------------------------- time zones


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Berlin", "Europe/Berlin"),
        ("  new york ", "America/New_York"),
        ("London", "Europe/London"),
        ("Londn", "Europe/London"),
        ("sao paulo", "America/Sao_Paulo"),
        ("India", "Asia/Kolkata"),
        ("Europe/Paris", "Europe/Paris"),
        ("america__los_angeles", "America/Los_Angeles"),
        ("UTC+2", "Etc/GMT-2"),
        ("-5", "Etc/GMT+5"),
        ("GMT", "UTC"),
        ("+5:30", "Asia/Kolkata"),
        ("utc_minus_3", "Etc/GMT+3"),
        ("utc_plus_5_30", "Asia/Kolkata"),
    ],
)
def test_time_zones_from_what_people_type(typed: str, expected: str) -> None:
    assert match_timezone(typed) == expected


@pytest.mark.parametrize("typed", ["", "my house", "UTC+15", "+4:15", "x" * 80])
def test_what_is_not_a_time_zone(typed: str) -> None:
    assert match_timezone(typed) is None


def test_utc_offsets_are_real_fixed_offsets() -> None:
    plus_two = match_timezone("UTC+2") or ""
    assert datetime(2026, 6, 1, tzinfo=ZoneInfo(plus_two)).utcoffset().total_seconds() == 7200  # type: ignore[union-attr]
    assert timezone_label(plus_two) == "UTC+2"
    assert timezone_label("America/New_York") == "New York (America/New_York)"


# ---------------------------------------------------------------- follow-ups


def sequence() -> FollowupSequence:
    return FollowupSequence(
        "basics",
        10 * 60,
        (
            FollowupMessage("welcome", 0, Text.plain("Welcome")),
            FollowupMessage("day2", 2, Text.plain("Day 2")),
            FollowupMessage("day2b", 2, Text.plain("Also day 2"), at=18 * 60),
        ),
    )


def test_follow_ups_come_at_their_day_and_local_time_one_a_day() -> None:
    seq = sequence()
    start = date(2026, 3, 27)  # the clocks change on day 2
    welcome = next_followup_due(seq, seq.messages[0], start, LONDON, QuietHours(), None)
    assert local(welcome, LONDON) == "Fri 2026-03-27 10:00 GMT"
    day2 = next_followup_due(seq, seq.messages[1], start, LONDON, QuietHours(), welcome)
    assert local(day2, LONDON) == "Sun 2026-03-29 10:00 BST"
    # the second message of day 2 waits for day 3: never two in one local day
    day2b = next_followup_due(seq, seq.messages[2], start, LONDON, QuietHours(), day2)
    assert local(day2b, LONDON) == "Mon 2026-03-30 18:00 BST"
    # after a week of downtime the next one comes the day after the last, not in a burst
    late = next_followup_due(
        seq, seq.messages[2], start, LONDON, QuietHours(), at(LONDON, 2026, 4, 6, 10, 0)
    )
    assert local(late, LONDON) == "Tue 2026-04-07 18:00 BST"


def test_follow_up_documents_are_checked_with_breadcrumbs() -> None:
    good = {
        "followups": "basics",
        "messages": [
            {"id": "a", "day": 0, "say": "Hi there."},
            {"id": "b", "day": 3, "say": "Sit less.", "if": {"answer": "hurts", "has": "sitting"}},
        ],
    }
    built, problems = build_followups("f.yaml", good, {"hurts"})
    assert not problems and built is not None
    assert [m.day for m in built.ordered()] == [0, 3]
    bad = {
        "followups": "basics",
        "messages": [
            {"id": "a", "day": 0, "say": "Hi {name}."},
            {"id": "a", "day": 1, "say": "x", "if": {"answer": "hurst", "has": "sitting"}},
        ],
    }
    built, problems = build_followups("f.yaml", bad, {"hurts"})
    said = [str(p) for p in problems]
    assert built is None
    assert "f.yaml > messages[1].id: duplicate message id 'a'" in said
    assert any(
        s.startswith("f.yaml > messages[1].if: no step saves an answer named 'hurst'")
        and "did you mean 'hurts'" in s
        for s in said
    )
    assert any("messages[0].say" in s and "unknown placeholder '{name}'" in s for s in said)
    _, shape = build_followups("f.yaml", {"followups": "x", "messages": [{"day": -1}]}, set())
    assert all(isinstance(p, FlowError) for p in shape)
    assert {str(p) for p in shape} >= {
        "f.yaml > messages[0].id: 'id' is required here",
        "f.yaml > messages[0].say: 'say' is required here",
    }
