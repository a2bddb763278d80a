"""The worse-trend rule and the check-in actions of the reminders flow (``bot.actions`` runs
them; ``bot.progress`` charts the check-ins): pure, over answers.

The rule (``worse_run``): the last three check-ins in a row are worse when

* the pain went up by 2 or more from the first to the third, never going down between
  them (4, 5, 6 and 4, 4, 6 are worse; 4, 7, 6 and 4, 5, 5 are not), or
* the person said "worse" at all three.

A person is told once per episode: an episode is a run of check-ins where the rule holds,
and it ends at the first check-in where it does not (``tell_now``: the rule holds now and
did not hold at the check-in before).

``track_checkin`` (a flow action, run with ``record_checkin``) keeps the last four check-ins
in the answers (``ci_recent``: "pain:trend:day" strings, sealed with the other answers), counts
them (``ci_count``) and saves ``ci_worse_run`` (yes when the person should be told now).

A day has one check-in: the last (``last_per_day``). The count that gates the chart, the
worse-trend rule, the chart and the summary all go by it (``bot.features.progress`` draws
``last_per_day`` of the stored check-ins), so a second check-in on one day replaces the first
everywhere. The day is the local day in the person's time zone (answer ``timezone``) at the
turn's time, which the engine gives this action as ``now`` (``bot.actions.TIMED``).
``pick_activities`` turns the activities a person picked (``ci_acts``) into up to three
named slots (``ci_act1`` ... ``ci_act3``) that the weekly rating questions ask about. With
a slot free, the person may type one of their own (``ci_act_own``, a 'text' question);
``add_own_activity`` puts those words in the next free slot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any, TypeVar

from bot.localtime import local_of, zone
from bot.model import AnswerValue, Session

RUN = 3  # check-ins in a row
PAIN_RISE = 2  # points of pain, first to last
KEPT = RUN + 1  # check-ins the answers remember: this run and the one before
MAX_ACTIVITIES = 3

# the symptom check's activities (flows/hip.yaml, sx_hurts) as the rating questions name them
ACTIVITY_NAMES: Mapping[str, str] = {
    "sitting": "sitting",
    "driving": "driving or riding in a car",
    "squatting": "squatting",
    "stairs": "going up and down stairs",
    "running": "running",
    "sport": "sport or the gym",
    "side_lying": "lying on one side",
    "standing": "standing for a long time",
}
# the same in the other languages (the rating questions: "How well can you do this now: ...?")
ACTIVITY_WORDS: Mapping[str, Mapping[str, str]] = {
    "en": ACTIVITY_NAMES,
    "es": {
        "sitting": "estar sentado",
        "driving": "conducir o ir en coche",
        "squatting": "ponerse en cuclillas",
        "stairs": "subir y bajar escaleras",
        "running": "correr",
        "sport": "hacer deporte o ir al gimnasio",
        "side_lying": "acostarse de lado",
        "standing": "estar de pie mucho rato",
    },
    "de": {
        "sitting": "sitzen",
        "driving": "Auto fahren oder mitfahren",
        "squatting": "in die Hocke gehen",
        "stairs": "Treppen steigen",
        "running": "joggen oder rennen",
        "sport": "Sport oder Fitnessstudio",
        "side_lying": "auf der Seite liegen",
        "standing": "lange stehen",
    },
}


def activity_name(value: str, language: str) -> str:
    """A listed activity (``sitting``) as the rating questions name it in ``language``
    (English for a language without its own words)."""
    return ACTIVITY_WORDS.get(language, ACTIVITY_NAMES).get(value, ACTIVITY_NAMES[value])


OWN_ANSWER = "ci_act_own"  # the activity the person typed, in their words
SLOTS = tuple(f"ci_act{n}" for n in range(1, MAX_ACTIVITIES + 1))
SCORES = tuple(f"ci_score{n}" for n in range(1, MAX_ACTIVITIES + 1))
ANSWERS = frozenset({"ci_recent", "ci_count", "ci_worse_run", *SLOTS})


T = TypeVar("T")


@dataclass(frozen=True)
class Point:
    pain: int | None
    trend: str | None
    day: str = ""  # the local day (ISO), "" when not known (then never merged)


def last_per_day(items: Sequence[T], day_of: Callable[[T], object]) -> list[T]:
    """One check-in per day, the last: ``items`` in time order, each replacing the one before
    when both have the same (known) day. The one rule for the chart, summary, count and trend."""
    kept: list[T] = []
    for item in items:
        day = day_of(item)
        if kept and day and day_of(kept[-1]) == day:
            kept[-1] = item
        else:
            kept.append(item)
    return kept


def worse_run(points: Sequence[Point]) -> bool:
    """Whether the last ``RUN`` check-ins show the hip getting worse (see the module)."""
    if len(points) < RUN:
        return False
    last = points[-RUN:]
    if all(p.trend == "worse" for p in last):
        return True
    pains = [p.pain for p in last if p.pain is not None]
    if len(pains) < RUN:
        return False
    steady = all(b >= a for a, b in pairwise(pains))
    return steady and pains[-1] - pains[0] >= PAIN_RISE


def tell_now(points: Sequence[Point]) -> bool:
    """The rule holds at the newest check-in and did not at the one before (once per episode)."""
    return worse_run(points) and not worse_run(points[:-1])


def _encode(point: Point) -> str:
    text = f"{'' if point.pain is None else point.pain}:{point.trend or ''}"
    return f"{text}:{point.day}" if point.day else text


def _decode(text: str) -> Point:
    pain, _, rest = text.partition(":")
    trend, _, day = rest.partition(":")
    return Point(int(pain) if pain.isdigit() else None, trend or None, day)


def checkin_day(answers: Mapping[str, AnswerValue], now: object) -> str:
    """The local day (ISO) of a check-in at ``now`` in the person's time zone; "" without a
    time."""
    if not isinstance(now, int | float) or isinstance(now, bool) or now <= 0:
        return ""
    name = answers.get("timezone")
    return local_of(float(now), zone(name if isinstance(name, str) else "UTC")).date().isoformat()


def recent(answers: Mapping[str, AnswerValue]) -> list[Point]:
    kept = answers.get("ci_recent")
    return [_decode(t) for t in kept] if isinstance(kept, list) else []


def track_checkin(session: Session, args: Mapping[str, Any]) -> Session:
    """After a check-in (ci_pain, ci_trend): remember it, count it, and say whether the person
    should be told about a worse run now (``ci_worse_run``: yes or no). A second check-in on
    the same day (``now``, the turn's time) replaces the first and is not counted again."""
    answers = session.answers
    pain = answers.get("ci_pain")
    trend = answers.get("ci_trend")
    point = Point(
        pain if isinstance(pain, int) and not isinstance(pain, bool) else None,
        trend if isinstance(trend, str) else None,
        checkin_day(answers, args.get("now")),
    )
    before = recent(answers)
    points = last_per_day([*before, point], lambda p: p.day)[-KEPT:]
    same_day = bool(before) and bool(point.day) and before[-1].day == point.day
    count = answers.get("ci_count")
    counted = (count if isinstance(count, int) and not isinstance(count, bool) else 0) + (
        0 if same_day else 1
    )
    return (
        session.with_answer("ci_recent", [_encode(p) for p in points])
        .with_answer("ci_count", counted)
        .with_answer("ci_worse_run", "yes" if tell_now(points) else "no")
    )


def pick_activities(session: Session, args: Mapping[str, Any]) -> Session:
    """The activities picked (``ci_acts``, at most the first three) as ``ci_act1`` ...
    in words, in the person's language (the questions ask with them, the chart and the
    summary show them); slots beyond those picked are cleared."""
    picked = session.answers.get("ci_acts")
    chosen = [v for v in picked if v in ACTIVITY_NAMES] if isinstance(picked, list) else []
    answers = {k: v for k, v in session.answers.items() if k not in SLOTS and k not in SCORES}
    answers.pop(OWN_ANSWER, None)
    for slot, value in zip(SLOTS, chosen[:MAX_ACTIVITIES], strict=False):
        answers[slot] = activity_name(value, session.language)
    return replace(session, answers=answers)


def add_own_activity(session: Session, args: Mapping[str, Any]) -> Session:
    """The activity the person typed (``ci_act_own``) in the first free slot, unless a slot
    already names it or all are taken."""
    typed = session.answers.get(OWN_ANSWER)
    if not isinstance(typed, str) or not typed.strip():
        return session
    named = [session.answers.get(slot) for slot in SLOTS]
    taken = {n.casefold() for n in named if isinstance(n, str)}
    if typed.casefold() in taken:
        return session
    for slot, name in zip(SLOTS, named, strict=True):
        if not isinstance(name, str):
            return session.with_answer(slot, typed)
    return session


def activity_scores(answers: Mapping[str, AnswerValue]) -> dict[str, int]:
    """This week's ratings: activity (in words) -> 0-10, for the slots that were rated."""
    found: dict[str, int] = {}
    for slot, score_key in zip(SLOTS, SCORES, strict=True):
        name, score = answers.get(slot), answers.get(score_key)
        if isinstance(name, str) and isinstance(score, int) and not isinstance(score, bool):
            found[name] = score
    return found
