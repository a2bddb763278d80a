"""Reminders and follow-up sequences: the pure part. No clock, no database, no Telegram.

Everything here takes the time it needs as an argument (UTC seconds) and returns values; the
store (``bot.features.reminders.store``) keeps rows and the feature (``bot.features.reminders.chat``) wires
them into the adapters.

Kinds of reminder
    ``sitting``   a sitting break every 30, 45 or 60 minutes inside a daily window on chosen
                  days, each with a short tip that changes from one break to the next;
    ``tip``       a daily hip tip at a chosen time;
    ``exercise``  a daily "time for your exercises" at a chosen time;
    ``checkin``   a weekly check-in (pain 0-10, better / same / worse) on a chosen day and time;
    ``followup``  a follow-up sequence (``flows/followups.yaml``) in progress.
A person has at most one reminder of each kind; setting a kind again changes it.

Local time and daylight saving (DST)
    Rules are kept in the person's wall-clock time and their IANA time zone name, never as a
    UTC offset, and every occurrence is worked out again from the rule: a 09:00 reminder is at
    09:00 local time in winter and in summer. Two days a year need a decision:

    * a time that does not exist (spring forward: 01:30 in Europe/London on the last Sunday
      of March, 02:30 in America/New_York) is sent as the clock jumps past it: it is read
      with the offset from before the change (PEP 495 ``fold=0``), which lands the same
      length of time after the jump (01:30 -> 02:30 BST). It is not skipped.
    * a time that happens twice (fall back: 01:30 on the last Sunday of October in London)
      is sent once, at the first of the two (``fold=0``, summer time).
    Duplicates that these rules could make on such a day (two wall times landing on one
    instant) are merged: an occurrence is an instant, and each instant is sent once.

Windows
    ``every N minutes from S to E`` means S+N, S+2N, ... up to and including E, on the chosen
    weekdays: the first break comes after the first stretch of sitting, the last at the end
    of the window. A window shorter than N is stretched to N (``Rule.window`` does this), so a
    sitting reminder always fires at least once on its days.

Quiet hours
    Per person, 21:00-08:00 by default and changeable (start == end turns them off). Every
    proactive message whose time falls inside them is held until they end (``hold``). Several
    held occurrences of one reminder become one message at the end of the quiet hours,
    because the next occurrence is counted from the time the held one is sent.

Catch-up after downtime (the grace policy)
    A reminder row holds only its next due time, so downtime can never queue a burst. When the
    sweep finds a row due at ``due`` and it is now ``now``:

    * ``now - due`` more than the kind's grace window (``GRACE``: sitting 10 min, daily 1 h,
      check-in 6 h) -> the occurrence is stale: it is skipped (not sent) and the next one
      after ``now`` is scheduled;
    * within the grace window, but ``now`` is inside quiet hours (the bot was down until the
      night) -> held until the quiet hours end;
    * otherwise it is sent now and the next occurrence after ``now`` is scheduled.

    Follow-up messages are content, not alarms: they are never dropped for being late, but at
    most one follow-up message is sent per local day, so after downtime they catch up one a day
    in their order (``next_followup_due``).

Snooze
    "Snooze 15 min" / "Snooze 1 h" move the reminder's next time to now + 15 or 60 minutes
    (held by quiet hours like anything else); afterwards the rule's occurrences go on from
    there. Occurrences that fall inside the snooze are not sent on top of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import ValidationError

from bot import dates, schema, texts
from bot.authoring import (
    Builder,
    CodeNeeds,
    ShapeError,
    check_texts,
    checked_after_flows,
    did_you_mean,
    validation_errors,
)
from bot.content import Kit, fill, shipped_kit
from bot.errors import FlowError

# wall-clock time lives in bot.localtime (the engine and actions use it too); the reminder
# code has always found these names here, so they stay importable from this module
from bot.localtime import QuietHours as QuietHours
from bot.localtime import RuleError as RuleError
from bot.localtime import hhmm as hhmm
from bot.localtime import local_of as local_of
from bot.localtime import match_timezone as match_timezone
from bot.localtime import parse_hhmm as parse_hhmm
from bot.localtime import quiet_from_answers as quiet_from_answers
from bot.localtime import timezone_label as timezone_label
from bot.localtime import wall_to_utc as wall_to_utc
from bot.localtime import zone as zone
from bot.model import DEFAULT_LANGUAGE, AnswerValue, Condition, Text, answers_named

Kind = Literal["sitting", "tip", "exercise", "checkin", "followup"]
KINDS: tuple[str, ...] = ("sitting", "tip", "exercise", "checkin", "followup")
RuleKind = Literal["window", "daily", "weekly"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ALL_DAYS: frozenset[int] = frozenset(range(7))
WORK_DAYS: frozenset[int] = frozenset(range(5))
MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
GRACE: Mapping[str, float] = {
    "sitting": 10 * MINUTE,
    "tip": HOUR,
    "exercise": HOUR,
    "checkin": 6 * HOUR,
}
DEFAULT_GRACE = HOUR
SNOOZE_MINUTES = (15, 60)
# how far a wall time and its instant can drift apart on a DST day (gaps are at most 2 h)
_DST_MARGIN = 180


# ---------------------------------------------------------------- days


def days_text(days: Iterable[int], language: str = DEFAULT_LANGUAGE) -> str:
    """{0,1,2,3,4} -> 'Mon-Fri'; every day -> 'every day'; else 'Mon, Wed' (in ``language``:
    the words are in flows/texts_when.yaml, the day names Babel's)."""
    chosen = sorted(set(days))
    if chosen == list(range(7)):
        return texts.EVERY_DAY.get(language)
    if chosen == list(range(5)):
        return texts.WORK_DAYS.get(language)
    if chosen == [5, 6]:
        return texts.WEEKEND.get(language)
    return ", ".join(_day_name(day, language, short=True) for day in chosen)


def _day_name(day: int, language: str, short: bool) -> str:
    if language == DEFAULT_LANGUAGE and short:
        return DAY_NAMES[day]
    return dates.weekday(day, language, short=short)


# ---------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class Rule:
    """When a reminder comes, in the person's wall-clock time (minutes after midnight)."""

    kind: RuleKind
    at: int = 0  # daily and weekly
    start: int = 0  # window
    end: int = 0  # window
    every: int = 0  # window, minutes
    days: frozenset[int] = ALL_DAYS  # 0 = Monday; weekly: exactly one

    @classmethod
    def window(cls, start: int, end: int, every: int, days: Iterable[int]) -> Rule:
        """A sitting-break window; start after end is swapped, a window shorter than
        ``every`` is stretched to ``every`` (so there is always a break)."""
        if every < 5 or every > 12 * 60:
            raise RuleError(f"every {every} minutes is not a reminder interval")
        start, end = min(start, end), max(start, end)
        if end - start < every:
            end = min(start + every, 24 * 60 - 1)
            start = end - every
        return cls("window", start=start, end=end, every=every, days=_days(days))

    @classmethod
    def daily(cls, at: int, days: Iterable[int] = ALL_DAYS) -> Rule:
        return cls("daily", at=_minute(at), days=_days(days))

    @classmethod
    def weekly(cls, weekday: int, at: int) -> Rule:
        if not 0 <= weekday <= 6:
            raise RuleError(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
        return cls("weekly", at=_minute(at), days=frozenset({weekday}))

    def times(self) -> list[int]:
        """Minutes after midnight at which it fires on one of its days."""
        if self.kind == "window":
            return list(range(self.start + self.every, self.end + 1, self.every))
        return [self.at]

    def describe(self, language: str = DEFAULT_LANGUAGE) -> str:
        """ "every day at 10:00", "cada lunes a las 08:00", "alle 30 Minuten von ..."."""
        if self.kind == "window":
            return fill(
                texts.EVERY_MINUTES.get(language),
                every=str(self.every),
                start=hhmm(self.start),
                end=hhmm(self.end),
                days=days_text(self.days, language),
            )
        if self.kind == "weekly":
            (day,) = self.days
            name = _day_name(day, language, short=language == DEFAULT_LANGUAGE)
            return fill(texts.EVERY_WEEKDAY_AT.get(language), day=name, time=hhmm(self.at))
        if self.days == ALL_DAYS:
            return fill(texts.EVERY_DAY_AT.get(language), time=hhmm(self.at))
        return fill(
            texts.AT_ON_DAYS.get(language), time=hhmm(self.at), days=days_text(self.days, language)
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "days": sorted(self.days)}
        if self.kind == "window":
            data.update(start=self.start, end=self.end, every=self.every)
        else:
            data["at"] = self.at
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rule:
        return cls(
            kind=data["kind"],
            at=int(data.get("at", 0)),
            start=int(data.get("start", 0)),
            end=int(data.get("end", 0)),
            every=int(data.get("every", 0)),
            days=frozenset(int(d) for d in data.get("days", range(7))),
        )


def _minute(value: int) -> int:
    if not 0 <= value < 24 * 60:
        raise RuleError(f"{value} is not a time of day in minutes (0 to 1439)")
    return value


def _days(days: Iterable[int]) -> frozenset[int]:
    chosen = frozenset(days)
    if not chosen or not chosen <= ALL_DAYS:
        raise RuleError(f"days {sorted(chosen)} must be some of 0 (Monday) to 6 (Sunday)")
    return chosen


def next_occurrence(rule: Rule, tz_name: str, after: float) -> float | None:
    """The first instant strictly after ``after`` (UTC seconds) at which the rule fires in the
    zone ``tz_name``; None if it never fires in the next eight days (no usable time)."""
    tz = zone(tz_name)
    local = local_of(after, tz)
    after_minute = local.hour * 60 + local.minute
    times = rule.times()
    # A candidate on a later local day is always later than one on an earlier day (DST moves
    # the clock by at most a couple of hours, never across a whole day), so the first day
    # with a candidate holds the answer. Within that day DST can reorder instants: take
    # the minimum of all of them.
    for offset in range(9):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in rule.days:
            continue
        skip_before = after_minute - _DST_MARGIN if offset == 0 else -1
        found = [
            instant
            for minutes in times
            if minutes >= skip_before and (instant := wall_to_utc(day, minutes, tz)) > after
        ]
        if found:
            return min(found)
    return None


# ---------------------------------------------------------------- quiet hours


def hold(instant: float, tz_name: str, quiet: QuietHours) -> float:
    """``instant``, or the end of the quiet hours it falls in (local time)."""
    if quiet.off:
        return instant
    tz = zone(tz_name)
    local = local_of(instant, tz)
    minutes = local.hour * 60 + local.minute
    if not quiet.contains(minutes):
        return instant
    day = local.date()
    if quiet.start > quiet.end and minutes >= quiet.start:
        day += timedelta(days=1)  # the quiet hours end tomorrow morning
    return max(instant, wall_to_utc(day, quiet.end, tz))


def in_quiet_hours(instant: float, tz_name: str, quiet: QuietHours) -> bool:
    return hold(instant, tz_name, quiet) > instant


def schedule_after(rule: Rule, tz_name: str, quiet: QuietHours, after: float) -> float | None:
    """When the next message of a rule goes out after ``after``: its next occurrence, held
    by quiet hours."""
    occurrence = next_occurrence(rule, tz_name, after)
    return None if occurrence is None else hold(occurrence, tz_name, quiet)


def snooze_until(now: float, minutes: int, tz_name: str, quiet: QuietHours) -> float:
    return hold(now + minutes * MINUTE, tz_name, quiet)


Action = Literal["send", "skip", "hold"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What the sweep does with a due row: send it now, skip a stale one, or hold it."""

    action: Action
    next_due: float | None  # the row's next due time (None: nothing more to send)


def on_due(
    kind: str, rule: Rule, tz_name: str, quiet: QuietHours, due: float, now: float
) -> Decision:
    """The catch-up policy (see the module docstring) for a row due at ``due``."""
    if now - due > GRACE.get(kind, DEFAULT_GRACE):
        return Decision("skip", schedule_after(rule, tz_name, quiet, now))
    held = hold(now, tz_name, quiet)
    if held > now:
        return Decision("hold", held)
    return Decision("send", schedule_after(rule, tz_name, quiet, now))


# ---------------------------------------------------------------- texts


# The words are in flows/texts_reminders.yaml (keys: bot/texts.py, set 'reminders').
_TITLES = {
    "sitting": texts.TITLE_SITTING,
    "tip": texts.TITLE_TIP,
    "exercise": texts.TITLE_EXERCISE,
    "checkin": texts.TITLE_CHECKIN,
    "followup": texts.TITLE_FOLLOWUP,
}
_ROTATIONS = {
    "sitting": texts.SITTING_TIPS,
    "tip": texts.DAILY_TIPS,
    "exercise": texts.EXERCISE_TEXTS,
}


def reminder_title(kind: str, kit: Kit | None = None, language: str = DEFAULT_LANGUAGE) -> str:
    """A reminder kind's name, as a person reads it ("Sitting breaks")."""
    return (kit or shipped_kit()).text(_TITLES.get(kind, texts.TITLE_OTHER)).get(language)


def reminder_text(
    kind: str, count: int, kit: Kit | None = None, language: str = DEFAULT_LANGUAGE
) -> str:
    """The message of a reminder's ``count``-th sending (texts vary from one to the next)."""
    kit = kit or shipped_kit()
    title = f"<b>{reminder_title(kind, kit, language)}</b>"
    rotation = _ROTATIONS.get(kind)
    if rotation is None:
        return f"{title}\n{kit.text(texts.CHECKIN_TEXT).get(language)}"
    said = kit.rotation(rotation)
    return f"{title}\n{said[count % len(said)].get(language)}"


# ---------------------------------------------------------------- rules from answers


# Answers of the reminders flow that the code here reads: ``hipbot validate`` checks that some
# step still saves each (registered in bot.kinds).
NEEDS = (
    CodeNeeds(
        "bot.features.reminders.rules.rule_from_answers",
        "a reminder's times and days",
        "reminders",
        answers=(
            "sit_every",
            "sit_start",
            "sit_end",
            "sit_days",
            "sit_days_list",
            "tip_time",
            "ex_time",
            "ci_day",
            "ci_time",
        ),
    ),
    CodeNeeds(
        "bot.localtime.quiet_from_answers",
        "the quiet hours a person chose",
        "reminders",
        answers=("quiet_start", "quiet_end"),
    ),
)


def rule_from_answers(kind: str, answers: Mapping[str, AnswerValue]) -> Rule:
    """The rule a person chose in the reminders flow (answer names: see flows/reminders.yaml).
    Raises RuleError when the answers do not make a rule."""
    if kind == "sitting":
        every = _every(answers.get("sit_every"))
        start = parse_hhmm(_text(answers.get("sit_start"), "09:00"))
        end = parse_hhmm(_text(answers.get("sit_end"), "17:00"))
        return Rule.window(start, end, every, _chosen_days(answers))
    if kind == "tip":
        return Rule.daily(parse_hhmm(_text(answers.get("tip_time"), "10:00")))
    if kind == "exercise":
        return Rule.daily(parse_hhmm(_text(answers.get("ex_time"), "18:00")))
    if kind == "checkin":
        day = _text(answers.get("ci_day"), "mon")
        weekday = WEEKDAYS.index(day) if day in WEEKDAYS else 0
        return Rule.weekly(weekday, parse_hhmm(_text(answers.get("ci_time"), "10:00")))
    raise RuleError(f"no rule for a reminder of kind {kind!r}")


def _text(value: AnswerValue | None, default: str) -> str:
    return value if isinstance(value, str) and value else default


def _every(value: AnswerValue | None) -> int:
    text = _text(value, "every_30")
    digits = re.sub(r"\D", "", text)
    return int(digits) if digits else 30


def _chosen_days(answers: Mapping[str, AnswerValue]) -> frozenset[int]:
    pick = answers.get("sit_days")
    if pick == "every_day":
        return ALL_DAYS
    if pick == "pick":
        listed = answers.get("sit_days_list")
        if isinstance(listed, list):
            days = frozenset(WEEKDAYS.index(d) for d in listed if d in WEEKDAYS)
            if days:
                return days
    return WORK_DAYS


# ---------------------------------------------------------------- follow-up sequences


@dataclass(frozen=True, slots=True)
class FollowupMessage:
    id: str
    day: int
    text: Text
    condition: Condition | None = None
    at: int | None = None  # local time of day; None: the sequence's send_at


@dataclass(frozen=True, slots=True)
class FollowupSequence:
    id: str
    send_at: int
    messages: tuple[FollowupMessage, ...]
    title: Text | None = None
    source: str = ""

    def ordered(self) -> list[FollowupMessage]:
        """Messages by day; messages of one day in file order."""
        return sorted(self.messages, key=lambda m: m.day)

    def pending(self, done: Iterable[str]) -> list[FollowupMessage]:
        finished = set(done)
        return [m for m in self.ordered() if m.id not in finished]


@dataclass(frozen=True, slots=True)
class FollowupPlan:
    """A sequence's progress as the sweep sees it."""

    anchor: date  # local day 0 (the day the person started, or the date a clinic set)
    done: frozenset[str] = field(default_factory=frozenset)


def followup_nominal(
    sequence: FollowupSequence, message: FollowupMessage, anchor: date, tz_name: str
) -> float:
    """The instant a message is meant for: day ``day`` after the anchor, at its local time."""
    when = message.at if message.at is not None else sequence.send_at
    return wall_to_utc(anchor + timedelta(days=message.day), when, zone(tz_name))


def next_followup_due(
    sequence: FollowupSequence,
    message: FollowupMessage,
    anchor: date,
    tz_name: str,
    quiet: QuietHours,
    last_sent: float | None,
) -> float:
    """When ``message`` goes out: its nominal time, but never on the same local day as the
    previous follow-up message (at most one a day, so downtime never makes a burst), and held
    by quiet hours."""
    due = followup_nominal(sequence, message, anchor, tz_name)
    if last_sent is not None:
        tz = zone(tz_name)
        sent_day = local_of(last_sent, tz).date()
        if local_of(due, tz).date() <= sent_day:
            when = message.at if message.at is not None else sequence.send_at
            due = wall_to_utc(sent_day + timedelta(days=1), when, tz)
    return hold(due, tz_name, quiet)


def render_followup(message: FollowupMessage, language: str, config: Mapping[str, str]) -> str:
    text = message.text.get(language)
    for name, value in config.items():
        text = text.replace(f"{{{name}}}", texts.configured(name, value, language))
    return text


def build_followups(
    file: str, document: Any, saved: set[str]
) -> tuple[FollowupSequence | None, list[FlowError]]:
    """A ``followups:`` document as a sequence, with every problem found (breadcrumbs as
    for flows). ``saved`` is every answer name the flows save, for the conditions. Texts may
    use only configuration placeholders such as {emergency_number}."""
    try:
        doc = schema.FollowupsDoc.model_validate(document)
    except ValidationError as error:
        return None, validation_errors(file, error)
    builder = Builder(file)
    messages: list[FollowupMessage] = []
    seen: set[str] = set()
    for index, raw in enumerate(doc.messages):
        path: list[str | int] = ["messages", index]
        if raw.id in seen:
            builder.problem([*path, "id"], f"duplicate message id '{raw.id}'")
        seen.add(raw.id)
        condition = None
        if raw.if_ is not None:
            try:
                condition = builder.condition(raw.if_)
            except ShapeError as error:
                builder.problem([*path, "if"], str(error))
        for name in sorted(answers_named(condition) - saved if condition else ()):
            hint = did_you_mean(name, saved)
            builder.problem([*path, "if"], f"no step saves an answer named '{name}'{hint}")
        text = builder.text(raw.say, [*path, "say"])
        at = parse_hhmm(raw.at) if raw.at else None
        messages.append(FollowupMessage(raw.id, raw.day, text, condition, at))
    title = builder.label(doc.title, ["title"]) if doc.title else None
    problems = [*builder.problems, *check_texts(file, builder.texts, set())]
    sequence = FollowupSequence(
        doc.followups, parse_hhmm(doc.send_at), tuple(messages), title, file
    )
    return (None if problems else sequence), problems


FOLLOWUPS = checked_after_flows(
    "followups",
    "a follow-up sequence",
    lambda file, document, saved: build_followups(file, document, saved)[1],
)


def condition_holds(condition: Condition | None, answers: Mapping[str, AnswerValue]) -> bool:
    return condition is None or condition.holds(answers)


def weekday_names(days: Sequence[int]) -> list[str]:
    return [WEEKDAYS[d] for d in days]
