"""Actions a flow can run with ``do:``. Each is pure: it returns effects for adapters.

An action takes the session and its ``with:`` arguments and returns an ``ActionResult``.
Adapters carry out the effects (store a consent, schedule a reminder, ...). A flow that
names an action not registered here fails validation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

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


def clear_answers(session: Session, args: Mapping[str, Any]) -> ActionResult:
    """Forget every saved answer (for example for someone under 16)."""
    return ActionResult(replace(session, answers={}, picked=()), (Effect("answers_cleared"),))


def withdraw_consent(session: Session, args: Mapping[str, Any]) -> ActionResult:
    """Stop processing health data: forget the answers and record the withdrawal."""
    cleared = replace(session, answers={}, picked=())
    return ActionResult(cleared, (Effect("consent_withdrawn"), Effect("answers_cleared")))


ACTIONS: dict[str, Action] = {
    "record_consent": _effect_only("consent_given"),
    "withdraw_consent": withdraw_consent,
    "record_red_flag": _effect_only("red_flag"),
    "clear_answers": clear_answers,
    "finish_check": _effect_only("check_finished"),
    "schedule_reminder": _effect_only("schedule_reminder"),
}
