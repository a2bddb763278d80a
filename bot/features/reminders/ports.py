"""The reminders' ports: what the chat handlers use of the store (``Reminders``), and the
names under which the feature puts its store on a storage's ``Ports``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Protocol

from bot.features import Port
from bot.features.reminders.rules import FollowupSequence, QuietHours
from bot.features.reminders.store import Checkin, PersonSettings, Reminder, ReminderStore


class Reminders(Protocol):
    """The store as /reminders, /timezone and the reminder buttons use it."""

    @property
    def followups(self) -> Mapping[str, FollowupSequence]: ...

    def settings(self, user_id: str) -> PersonSettings: ...

    def save_settings(
        self,
        user_id: str,
        now: float,
        tz: str | None = None,
        quiet: QuietHours | None = None,
        followup_start: date | None = None,
    ) -> PersonSettings: ...

    def reminders(self, user_id: str) -> list[Reminder]: ...

    def reminder(self, user_id: str, reminder_id: int) -> Reminder | None: ...

    def followup_done(self, user_id: str, sequence: str) -> dict[str, str]: ...

    def snooze(self, user_id: str, reminder_id: int, minutes: int, now: float) -> float | None: ...

    def done(self, user_id: str, reminder_id: int, now: float) -> bool: ...

    def stop(self, user_id: str, reminder_id: int) -> str | None: ...

    def checkins(self, user_id: str) -> list[Checkin]: ...


# One store under one name, seen two ways: the handlers' protocol, and the whole store for
# the feature's own set-up (effect handlers, erasers) and sweep.
REMINDERS: Port[Reminders] = Port("reminders")
STORE: Port[ReminderStore] = Port("reminders")
