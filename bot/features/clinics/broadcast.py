"""Clinic broadcasts: from a draft to a report, through delivery rows and the shared outbox.

Lifecycle of a broadcast::

    draft --confirm--> queued --first delivery handed to the sender--> sending --> done
                       queued | sending --/cancel--> cancelled

Confirming creates one delivery row per recipient (``pending``), each with its own due time:
now (staff chose "now") or the chosen local time in the recipient's own time zone, and
either way held past the recipient's quiet hours, so no clinic message wakes anyone at night
(time zones and quiet hours as the reminders keep them, ``bot.features.reminders.store``; daylight
saving as in ``bot.features.reminders.rules``). A delivery ends
``sent``, ``failed`` (Telegram refused it: 400), ``blocked`` (403: the person blocked the
bot) or ``skipped`` (they left the clinic or sent /stop before their turn, or the broadcast
was cancelled first).

The sweep (a feature job, every few seconds) hands due deliveries to the outbox in batches at
priority 10, with the delivery's id in the params (``_delivery``); it keeps at most
``rate x LEAD_SECONDS`` of them in the outbox at a time, so replies (priority 0) and reminders
(priority 5) always go first and /cancel takes effect within seconds. The outbox sender sends
within the global rate limit (``HIPBOT_RATE_LIMIT``, shared with replies and reminders); its
outcome hook marks each delivery, in the same transaction as the outbox row. When no delivery
of a broadcast is pending any more, the broadcast is finished and its report is queued to the
staff member who sent it, in that same transaction: it is sent once.

Resuming after a crash. Every step is a committed row: a delivery handed to the outbox is
marked in the transaction that inserts its outbox row, and marked sent in the transaction that
marks the row sent. After a kill, a restart releases the outbox claims and the sweep carries
on, so nobody is skipped. A recipient can get a message twice only if Telegram accepted it and
the process died before the sender recorded that: the duplicates are bounded by the outbox
rows in flight at the kill (claimed and not yet marked), which is at most one sender batch
(``bot.telegram.sender``'s claim size), and never more than the deliveries in the outbox
(``rate x LEAD_SECONDS``). tests/test_broadcast.py checks this bound.

Several replicas on one PostgreSQL database each run the sweep: an advisory lock held until
the sweep's transaction commits lets one replica sweep at a time, so the next one reads what
the last handed over and a delivery goes to the outbox once. A replica killed mid-sweep takes
its uncommitted work and its lock with it; the next sweep, anywhere, does that work.

Paid broadcasts: with ``HIPBOT_ALLOW_PAID_BROADCAST=true`` broadcast messages carry
``allow_paid_broadcast`` (Telegram then allows up to 1000 messages a second, for a fee; set
``HIPBOT_RATE_LIMIT`` to match).
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from bot import outgoing
from bot.features.clinics.rules import Audience, Counts, Person, patient_message, select, shown_html
from bot.features.clinics.store import GOING, Broadcast, ClinicStore
from bot.features.reminders import rules as reminders
from bot.features.reminders.rules import QuietHours
from bot.storage.db import Database
from bot.storage.sql import SqlStorage, insert_outbox

PRIORITY = 10  # bulk: after replies (0) and reminders (5)
REPORT_PRIORITY = 1  # a staff member's report: right after replies
LEAD_SECONDS = 4.0  # deliveries kept in the outbox: this many seconds of sending at the rate
DEFAULT_RATE = 30.0
STOP_BUTTON = "cl"  # the feature's leave button key (x:cl:<clinic id>)


# ---------------------------------------------------------------- the window


def outbox_window(rate: float) -> int:
    """How many deliveries the sweep keeps in the outbox at most."""
    return max(10, int(rate * LEAD_SECONDS))


# ---------------------------------------------------------------- local times


@dataclass(frozen=True, slots=True)
class LocalTime:
    """A wall-clock time, in each recipient's own time zone; on a date, or the next one."""

    hour: int
    minute: int
    day: date | None = None

    def __str__(self) -> str:
        clock = f"{self.hour:02d}:{self.minute:02d}"
        return f"{self.day.isoformat()} {clock}" if self.day else clock


_TIME = re.compile(r"^(?:(\d{4}-\d{2}-\d{2})[ T])?(\d{1,2})[:.](\d{2})$")


def parse_local_time(text: str) -> LocalTime:
    """``09:30`` (the next 09:30) or ``2026-11-20 09:30``; ValueError says what is wanted."""
    match = _TIME.match(text.strip())
    problem = f"{text.strip()!r} is not a time: write it like 09:30, or 2026-11-20 09:30"
    if not match:
        raise ValueError(problem)
    day_text, hour, minute = match.groups()
    if int(hour) > 23 or int(minute) > 59:
        raise ValueError(problem)
    try:
        day = date.fromisoformat(day_text) if day_text else None
    except ValueError as error:
        raise ValueError(problem) from error
    return LocalTime(int(hour), int(minute), day)


def now_due(now: float, zone_name: str, quiet: QuietHours) -> float:
    """A "send now" delivery: at once, or when the person's quiet hours end."""
    return max(now, reminders.hold(now, zone_name, quiet))


def local_due(now: float, at: LocalTime, zone_name: str, quiet: QuietHours) -> float:
    """When a delivery scheduled at ``at`` is due for someone in ``zone_name`` (UTC seconds):
    the next such local time (or that date's), held to the end of their quiet hours if it
    falls inside them; never before ``now``. Daylight saving follows the reminders' rules
    (``bot.features.reminders.rules.wall_to_utc``: a time in the spring gap lands just after the jump)."""
    tz = reminders.zone(zone_name)
    minutes = at.hour * 60 + at.minute
    day = at.day or reminders.local_of(now, tz).date()
    moment = reminders.wall_to_utc(day, minutes, tz)
    if at.day is None and moment <= now:
        moment = reminders.wall_to_utc(day + timedelta(days=1), minutes, tz)
    return max(now, reminders.hold(moment, zone_name, quiet))


def clinic_due(
    now: float, at: LocalTime, clinic_zone: str, zone_name: str, quiet: QuietHours
) -> float:
    """When a delivery scheduled at ``at`` in the clinic's time zone is due for someone in
    ``zone_name``: that one moment for everyone, held to the end of the person's quiet hours."""
    moment = local_due(now, at, clinic_zone, QuietHours(0, 0))
    return max(now, reminders.hold(moment, zone_name, quiet))


def person_clocks(db: Database) -> Callable[[str], tuple[str, QuietHours]]:
    """Each person's time zone and quiet hours, as the reminders keep them
    (``ReminderStore.settings``: UTC and 21:00-08:00 for someone who never set them)."""
    from bot.features.reminders.store import ReminderStore

    store = ReminderStore(db)

    def clock(user_id: str) -> tuple[str, QuietHours]:
        settings = store.settings(user_id)
        return settings.tz, settings.quiet

    return clock


# ---------------------------------------------------------------- texts per language
#
# A broadcast's text is one text for everyone, or one per language the clinic writes in,
# stored as a JSON object ``{"en": "...", "es": "..."}``. Then each patient gets the text in
# their language, and patients in a language it lacks get nothing (counted when it is queued).


def texts_by_language(text: str) -> dict[str, str] | None:
    """The texts of a per-language broadcast by language code; None for one text for all."""
    if not text.startswith("{"):
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    if not isinstance(found, dict) or not found:
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in found.items()):
        return None
    return found


def encode_texts(texts: dict[str, str]) -> str:
    """The stored form of a per-language broadcast (``texts_by_language`` reads it)."""
    return json.dumps(texts, ensure_ascii=False, sort_keys=True)


def text_for(text: str, language: str) -> str | None:
    """What a patient in ``language`` gets; None when the broadcast has no text for it."""
    found = texts_by_language(text)
    return text if found is None else found.get(language)


def split_by_language(people: list[Person], text: str) -> tuple[list[Person], Counter[str]]:
    """Those who get the broadcast, and how many are left out per language it lacks."""
    found = texts_by_language(text)
    if found is None:
        return people, Counter()
    kept = [p for p in people if p.language in found]
    return kept, Counter(p.language for p in people if p.language not in found)


# ---------------------------------------------------------------- audiences and queueing


def recipients(storage: SqlStorage, clinic_id: int, audience: Audience, now: float) -> list[Person]:
    """The clinic's linked patients in the audience, leaving out anyone who blocked the bot
    or sent /stop (they get no proactive messages)."""
    store = ClinicStore(storage.db)
    people = []
    for link in store.patients(clinic_id):
        if storage.get_flag(link.user_id, "blocked") or storage.get_flag(link.user_id, "stopped"):
            continue
        session = storage.load_session(link.user_id)
        people.append(
            Person(
                link.user_id,
                link.joined_at,
                session.answers if session else {},
                session.language if session else "en",
            )
        )
    return select(people, audience, now)


def queue(
    storage: SqlStorage,
    clinic_id: int,
    broadcast_id: int,
    audience: Audience,
    at: LocalTime | None,
    now: float,
    report_to: str | None,
    text: str = "",
    clinic_zone: str | None = None,
) -> int | None:
    """Confirm a draft: one delivery per recipient, due now or at ``at`` locally. With a
    per-language ``text`` (the draft's) only patients in its languages are recipients.
    With ``clinic_zone`` the ``at`` time is the clinic's (one moment), not each patient's.
    Returns the number of recipients, or None if the draft was gone (sent twice, discarded)."""
    everyone = recipients(storage, clinic_id, audience, now)
    people, _ = split_by_language(everyone, text)
    kept = {p.user_id for p in people}
    no_language = [p.user_id for p in everyone if p.user_id not in kept]
    due = []
    clock_of = person_clocks(storage.db)
    for person in people:
        zone, quiet = clock_of(person.user_id)
        if at is None:
            due.append((person.user_id, now_due(now, zone, quiet)))
        elif clinic_zone is not None:
            due.append((person.user_id, clinic_due(now, at, clinic_zone, zone, quiet)))
        else:
            due.append((person.user_id, local_due(now, at, zone, quiet)))
    store = ClinicStore(storage.db)
    if not store.queue(clinic_id, broadcast_id, due, now, report_to, no_language):
        return None
    return len(people)


# ---------------------------------------------------------------- the sweep


def sweep(storage: SqlStorage, now: float, rate: float = 30.0, paid: bool = False) -> int:
    """Hand due deliveries to the outbox (within the window), finish broadcasts with nothing
    pending and queue their reports. Returns how many outbox rows it queued. ``rate`` and
    ``paid``: ``HIPBOT_RATE_LIMIT`` and ``HIPBOT_ALLOW_PAID_BROADCAST`` (the job passes the
    loaded settings)."""
    store = ClinicStore(storage.db)
    window = outbox_window(rate)
    queued = 0
    with storage.db.transaction() as db:
        # Replicas sweep one at a time (PostgreSQL: an advisory lock until this commits), so
        # the next one reads the deliveries this one handed over and never hands them again.
        db.lock_key("broadcast-sweep")
        due = _due_with_flags(db, now, window - store.in_outbox())
        broadcasts: dict[int, Broadcast | None] = {}
        names: dict[int, str] = {}
        rows: list[tuple[int, str, dict[str, Any]]] = []
        handed: list[int] = []
        for delivery_id, broadcast_id, clinic_id, user_id, opted_in, blocked, stopped in due:
            if broadcast_id not in broadcasts:
                broadcasts[broadcast_id] = store.broadcast(clinic_id, broadcast_id)
            broadcast = broadcasts[broadcast_id]
            if broadcast is None or broadcast.state not in GOING:
                store.finish_delivery(delivery_id, "skipped", now, "cancelled")
            elif blocked:
                store.finish_delivery(delivery_id, "blocked", now, "blocked the bot")
            elif not opted_in or stopped:
                store.finish_delivery(delivery_id, "skipped", now, "left or stopped")
            else:
                if clinic_id not in names:
                    clinic = store.clinic(clinic_id)
                    names[clinic_id] = clinic.name if clinic else ""
                language = _language_of(storage, user_id)
                rows.append(
                    _outbox_row(names[clinic_id], broadcast, user_id, delivery_id, paid, language)
                )
                handed.append(delivery_id)
        insert_outbox(db, rows, now, priority=PRIORITY)
        store.mark_outboxed(handed, now)
        store.set_sending(sorted({b for b, v in broadcasts.items() if v is not None}))
        queued += len(rows)
        for broadcast in store.unfinished():
            if not store.has_pending(broadcast.id):
                queued += finish(db, broadcast.id, now)
    return queued


def _due_with_flags(db: Database, now: float, limit: int) -> list[tuple[Any, ...]]:
    """Due deliveries with what decides whether they may still go: the link, /stop, blocked."""
    if limit <= 0:
        return []
    return db.all(
        "SELECT d.id, d.broadcast_id, d.clinic_id, d.user_id, COALESCE(p.opted_in, 0),"
        " COALESCE((SELECT f.value FROM flags f WHERE f.user_id = d.user_id"
        "  AND f.name = 'blocked'), 0),"
        " COALESCE((SELECT f.value FROM flags f WHERE f.user_id = d.user_id"
        "  AND f.name = 'stopped'), 0)"
        " FROM clinic_deliveries d LEFT JOIN clinic_patients p"
        " ON p.clinic_id = d.clinic_id AND p.user_id = d.user_id"
        " WHERE d.state = 'pending' AND d.outboxed_at IS NULL AND d.due_at <= ?"
        " ORDER BY d.due_at, d.id LIMIT ?",
        (now, limit),
    )


def stop_data(clinic_id: int) -> str:
    return f"x:{STOP_BUTTON}:{clinic_id}"


def _language_of(storage: SqlStorage, user_id: str) -> str:
    """The patient's language (their session's): for the text and the stop button."""
    session = storage.load_session(user_id)
    return session.language if session is not None else "en"


def _outbox_row(
    clinic_name: str,
    broadcast: Broadcast,
    user_id: str,
    delivery_id: int,
    paid: bool,
    language: str = "en",
) -> tuple[int, str, dict[str, Any]]:
    chat = int(user_id)
    found = texts_by_language(broadcast.text)
    # a patient whose language changed since it was queued: the first text the clinic wrote
    text = broadcast.text if found is None else found.get(language) or next(iter(found.values()))
    reply = patient_message(clinic_name, text, stop_data(broadcast.clinic_id), language)
    (row,) = outgoing.say(chat, replace(reply, step="broadcast"), delivery=delivery_id)
    if paid:
        row[2]["paid"] = True  # Telegram: allow_paid_broadcast (bot.telegram.render)
    return row


# ---------------------------------------------------------------- outcomes and the report


class Outcomes:
    """The outbox outcome hook: marks a delivery sent, failed or blocked, and finishes its
    broadcast when it was the last one pending (inside the sender's transaction)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock

    def __call__(
        self, db: Database, chat_id: int, params: dict[str, Any], state: str, error: str
    ) -> None:
        delivery = params.get("_delivery")
        if delivery is None:
            return
        now = self.clock()
        final = {"sent": "sent", "blocked": "blocked"}.get(state, "failed")
        store = ClinicStore(db)
        broadcast_id = store.finish_delivery(int(delivery), final, now, error)
        if broadcast_id and not store.has_pending(broadcast_id):
            finish(db, broadcast_id, now)


def finish(db: Database, broadcast_id: int, now: float) -> int:
    """Mark the broadcast finished (once) and queue the report; 1 if a report was queued."""
    store = ClinicStore(db)
    if not store.finish(broadcast_id, now):
        return 0
    broadcast = store.broadcast_for_operator(broadcast_id)
    if broadcast is None or not broadcast.report_to:
        return 0
    if broadcast.clinic_id not in store.roles_of(broadcast.report_to):
        return 0  # no longer staff of this clinic: the report stays in `hipbot broadcast status`
    text = report_text(broadcast, store.counts(broadcast.clinic_id, broadcast.id))
    chat = int(broadcast.report_to)
    insert_outbox(db, outgoing.say(chat, text), now, priority=REPORT_PRIORITY)
    return 1


def report_text(broadcast: Broadcast, counts: Counts) -> str:
    how = "was stopped" if broadcast.state == "cancelled" else "is done"
    return (
        f"<b>Broadcast #{broadcast.id} {how}.</b>\n"
        f"Sent: {shown_html(counts.sent)}\n"
        f"Failed: {shown_html(counts.failed)}\n"
        f"Blocked the bot: {shown_html(counts.blocked)}\n"
        f"Skipped (left, stopped or cancelled): {shown_html(counts.skipped)}"
        + (
            f"\nSkipped (no text in their language): {shown_html(counts.language)}"
            if counts.language
            else ""
        )
    )
