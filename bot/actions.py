"""Actions a flow can run with ``do:``. Each is pure: it returns effects for adapters.

An action takes the session and its ``with:`` arguments and returns an ``ActionResult``.
Adapters carry out the effects (store a consent, schedule a reminder, ...). A flow that
names an action not registered here fails validation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot import safety, trend
from bot.localtime import QuietHours, RuleError, hhmm, parse_hhmm, quiet_from_answers
from bot.model import Effect, Session


@dataclass(frozen=True, slots=True)
class ActionResult:
    session: Session
    effects: tuple[Effect, ...] = ()


Action = Callable[[Session, Mapping[str, Any]], ActionResult]


def _effect_only(name: str) -> Action:
    def run(session: Session, args: Mapping[str, Any]) -> ActionResult:
        return ActionResult(session, (Effect(name, dict(args)),))

    run.__doc__ = f"Ask the adapter to record '{name}'."
    return run


# The policy version a person agreed to (``record_consent``), kept with the answers so that
# clearing them (withdrawal, under 16, "no thanks") also ends the consent. Not a valid
# answer name in a flow, so no flow can save or test it (the engine does: bot.features.privacy).
CONSENT_ANSWER = "_consent"


def record_consent(session: Session, args: Mapping[str, Any]) -> ActionResult:
    """Remember which policy version the person agreed to; the adapter stores it with the
    time (``with: {policy_version: N}``)."""
    version = args.get("policy_version")
    agreed = session.with_answer(CONSENT_ANSWER, version if isinstance(version, int) else 0)
    return ActionResult(agreed, (Effect("consent_given", dict(args)),))


def clear_answers(session: Session, args: Mapping[str, Any]) -> ActionResult:
    """Forget every saved answer (for example for someone under 16). With
    ``with: {erase: everything}`` the adapter also erases every record of the person;
    without it, a recent red-flag yes stays remembered (it is part of the red-flag record,
    which is kept without consent: flows/privacy.yaml)."""
    kept = {} if args.get("erase") == "everything" else safety.kept_answers(session)
    cleared = replace(session, answers=kept, picked=())
    return ActionResult(cleared, (Effect("answers_cleared", dict(args)),))


def withdraw_consent(session: Session, args: Mapping[str, Any]) -> ActionResult:
    """Stop processing health data: forget the answers and record the withdrawal."""
    cleared = replace(session, answers={}, picked=())
    return ActionResult(cleared, (Effect("consent_withdrawn"), Effect("answers_cleared")))


# Answers an action saves (no step asks for them); flows may test and show them.
QUIET_ANSWERS = ("in_quiet_time", "quiet_next_day", "quiet_from", "quiet_until", "quiet_check_for")
ACTION_ANSWERS = frozenset(QUIET_ANSWERS) | trend.ANSWERS


def check_quiet_time(session: Session, args: Mapping[str, Any]) -> ActionResult:
    """Whether the time answer named by ``with: {time: ANSWER}`` falls in the person's quiet
    hours (those they chose, else 21:00-08:00), when a reminder at that time is held until
    the quiet hours end. Saves ``in_quiet_time`` (yes | no), ``quiet_next_day`` (yes: the
    quiet hours end the next day, as 23:15 in 21:00-08:00), ``quiet_from``, ``quiet_until``
    and ``quiet_check_for`` (the answer checked, so a flow can come back to it)."""
    name = str(args.get("time", ""))
    typed = session.answers.get(name)
    try:
        quiet = quiet_from_answers(session.answers) or QuietHours()
        minutes = parse_hhmm(typed) if isinstance(typed, str) else -1
    except RuleError:  # a stored time that no longer parses: nothing to warn about
        quiet, minutes = QuietHours(), -1
    inside = minutes >= 0 and quiet.contains(minutes)
    next_day = inside and quiet.start > quiet.end and minutes >= quiet.start
    checked = (
        session.with_answer("in_quiet_time", "yes" if inside else "no")
        .with_answer("quiet_next_day", "yes" if next_day else "no")
        .with_answer("quiet_from", hhmm(quiet.start))
        .with_answer("quiet_until", hhmm(quiet.end))
        .with_answer("quiet_check_for", name)
    )
    return ActionResult(checked)


def track_checkin(session: Session, args: Mapping[str, Any]) -> ActionResult:
    """After a weekly check-in: keep it among the recent ones, count it, and apply the
    worse-trend rule (``ci_worse_run``: yes when the person is told now; ``bot.trend``)."""
    return ActionResult(trend.track_checkin(session, args))


def pick_activities(session: Session, args: Mapping[str, Any]) -> ActionResult:
    """The activities picked at the first check-in as ``ci_act1`` ... (``bot.trend``)."""
    return ActionResult(trend.pick_activities(session, args))


def add_own_activity(session: Session, args: Mapping[str, Any]) -> ActionResult:
    """The activity the person typed at the first check-in in the next free slot."""
    return ActionResult(trend.add_own_activity(session, args))


ACTIONS: dict[str, Action] = {
    "record_consent": record_consent,
    "withdraw_consent": withdraw_consent,
    "record_red_flag": _effect_only("red_flag"),
    "clear_answers": clear_answers,
    "finish_check": _effect_only("check_finished"),
    "schedule_reminder": _effect_only("schedule_reminder"),
    "record_checkin": _effect_only("checkin_recorded"),  # kept: bot.features.reminders
    "check_quiet_time": check_quiet_time,  # a reminder time in quiet hours (flows/reminders.yaml)
    "track_checkin": track_checkin,  # the worse-trend rule (bot.trend)
    "pick_activities": pick_activities,  # the activities rated each week
    "add_own_activity": add_own_activity,  # and one the person typed
}
# Actions the engine gives the turn's time as ``now`` (a Unix time; 0 when not known).
TIMED = frozenset({"track_checkin"})
