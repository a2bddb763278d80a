"""The reminders store: reminders, each person's reminder settings, follow-up progress and
check-in answers over time, on the shared ``Database``.

Durable by design: a reminder is a row with its next due time (UTC seconds, indexed); nothing
about it lives in memory. ``sweep(now)`` claims due rows in batches, each batch one
transaction that, for every row, moves the row to its next occurrence (guarded by the due
time it read, so a row is claimed once) and writes the message to the outbox. Two sweepers on
one database never send the same occurrence: on SQLite ``BEGIN IMMEDIATE`` lets one writer in
at a time, so the second sweeper sees the rows already moved on; on PostgreSQL the SELECT
takes ``FOR UPDATE SKIP LOCKED`` and the guarded UPDATE checks the due time it read. A crash
before the commit leaves the row due (it is claimed again after the restart); after the
commit the message is in the outbox, which the sender delivers at least once.

The catch-up, quiet-hours and DST policies are in ``bot.features.reminders.rules``. Blocked and stopped
people (core flags ``blocked``, ``stopped``) get nothing: their reminders move on without a
message, so they come back by themselves after /start, and their follow-ups wait.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from bot import crypto, dates, texts
from bot.content import fill
from bot.features.reminders.rules import (
    KINDS,
    FollowupMessage,
    FollowupSequence,
    QuietHours,
    Rule,
    hold,
    local_of,
    next_followup_due,
    on_due,
    schedule_after,
    snooze_until,
    wall_to_utc,
    zone,
)
from bot.model import DEFAULT_LANGUAGE, AnswerValue
from bot.storage.db import Database
from bot.storage.sql import OutboxItem, insert_outbox

log = logging.getLogger("hipbot.reminders")

PRIORITY = 5  # after replies (0), before broadcasts (10)
BATCH = 500  # rows per claiming transaction: memory does not grow with the number due
BUTTON_KEY = "rem"  # reminder buttons: x:rem:<verb>:<argument>

MIGRATIONS: list[str] = [
    # 1: reminders, settings, follow-up progress, check-in answers
    """
    CREATE TABLE reminders (
        id            {id},
        user_id       TEXT NOT NULL,
        chat_id       BIGINT NOT NULL,
        kind          TEXT NOT NULL,
        rule          TEXT NOT NULL,
        next_due_utc  {real},
        sent_count    INTEGER NOT NULL DEFAULT 0,
        done_count    INTEGER NOT NULL DEFAULT 0,
        last_sent_utc {real},
        snoozed       INTEGER NOT NULL DEFAULT 0,
        created_at    {real} NOT NULL,
        updated_at    {real} NOT NULL,
        UNIQUE (user_id, kind)
    );
    CREATE INDEX reminders_due ON reminders (next_due_utc);
    CREATE TABLE reminder_people (
        user_id        TEXT PRIMARY KEY,
        tz             TEXT NOT NULL DEFAULT 'UTC',
        quiet_start    INTEGER NOT NULL DEFAULT 1260,
        quiet_end      INTEGER NOT NULL DEFAULT 480,
        followup_start TEXT,
        updated_at     {real} NOT NULL
    );
    CREATE TABLE followup_progress (
        user_id    TEXT NOT NULL,
        sequence   TEXT NOT NULL,
        message_id TEXT NOT NULL,
        state      TEXT NOT NULL,
        at         {real} NOT NULL,
        PRIMARY KEY (user_id, sequence, message_id)
    );
    CREATE TABLE checkin_answers (
        id      {id},
        user_id TEXT NOT NULL,
        at      {real} NOT NULL,
        data    TEXT NOT NULL
    );
    CREATE INDEX checkin_answers_user ON checkin_answers (user_id, at);
    """,
]

crypto.sealed_column("checkin_answers", "id", "data")  # pain scores are health data


@dataclass(frozen=True)
class PersonSettings:
    tz: str = "UTC"
    quiet: QuietHours = field(default_factory=QuietHours)
    followup_start: date | None = None  # a start day a clinic set for follow-ups


@dataclass(frozen=True)
class Reminder:
    id: int
    user_id: str
    chat_id: int
    kind: str
    rule: Rule | None  # None for a follow-up sequence
    data: Mapping[str, Any]  # the stored rule (or sequence and start day) as JSON
    next_due: float | None
    sent_count: int = 0
    done_count: int = 0
    snoozed: bool = False
    last_sent: float | None = None

    def describe(self, language: str = DEFAULT_LANGUAGE) -> str:
        if self.rule is not None:
            return self.rule.describe(language)
        anchor = str(self.data.get("anchor", ""))
        with contextlib.suppress(ValueError):
            anchor = dates.short_date(date.fromisoformat(anchor), language)
        return fill(texts.STARTED_ON.get(language), day=anchor)


@dataclass(frozen=True)
class Checkin:
    at: float
    pain: int | None
    trend: str | None


@lru_cache(maxsize=4096)
def _rule(text: str) -> Rule:
    """A stored rule (thousands of people share a handful of rules: parse each once)."""
    return Rule.from_json(json.loads(text))


@dataclass(frozen=True)
class Due:
    """A reminder the sweep claimed and that should go out now: what it says is the
    feature's (``bot.features.reminders.messages``). ``sent_before``: how many went before."""

    chat_id: int
    reminder_id: int
    kind: str
    sent_before: int = 0
    followup: FollowupMessage | None = None  # the follow-up message, for kind "followup"
    language: str = DEFAULT_LANGUAGE  # the person's (their session's), for the words


Say = Callable[[Due], OutboxItem]


AnswersOf = Callable[[str], Mapping[str, AnswerValue]]
LanguageOf = Callable[[str], str]


class ReminderStore:
    """Reminders on a ``Database``; every method joins the caller's transaction if any.

    ``followups`` are the sequences people can be enrolled in (by id); ``answers_of`` reads
    a person's saved answers (for the follow-ups' conditions) and ``language_of`` their
    language (what a reminder is said in); ``say`` turns each claimed
    ``Due`` into its outbox row (the feature's wording; only a store that sweeps needs it).
    """

    def __init__(
        self,
        db: Database,
        followups: Mapping[str, FollowupSequence] | None = None,
        answers_of: AnswersOf | None = None,
        say: Say | None = None,
        language_of: LanguageOf | None = None,
    ) -> None:
        self.db = db
        self.language_of: LanguageOf = language_of or (lambda user_id: DEFAULT_LANGUAGE)
        self.followups = dict(followups or {})
        self.answers_of: AnswersOf = answers_of or (lambda user_id: {})
        self.say = say
        db.migrate("reminders", MIGRATIONS)

    # ------------------------------------------------------------ settings

    def settings(self, user_id: str) -> PersonSettings:
        row = self.db.one(
            "SELECT tz, quiet_start, quiet_end, followup_start FROM reminder_people"
            " WHERE user_id = ?",
            (user_id,),
        )
        if row is None:
            return PersonSettings()
        start = date.fromisoformat(row[3]) if row[3] else None
        return PersonSettings(row[0], QuietHours(int(row[1]), int(row[2])), start)

    def save_settings(
        self,
        user_id: str,
        now: float,
        tz: str | None = None,
        quiet: QuietHours | None = None,
        followup_start: date | None = None,
    ) -> PersonSettings:
        """Change what is given; the person's reminders are rescheduled to match."""
        with self.db.transaction() as db:
            old = self.settings(user_id)
            new = PersonSettings(
                tz or old.tz, quiet or old.quiet, followup_start or old.followup_start
            )
            db.execute(
                "INSERT INTO reminder_people"
                " (user_id, tz, quiet_start, quiet_end, followup_start, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
                " tz = excluded.tz, quiet_start = excluded.quiet_start,"
                " quiet_end = excluded.quiet_end, followup_start = excluded.followup_start,"
                " updated_at = excluded.updated_at",
                (
                    user_id,
                    new.tz,
                    new.quiet.start,
                    new.quiet.end,
                    new.followup_start.isoformat() if new.followup_start else None,
                    now,
                ),
            )
            if new != old:
                self._reschedule(user_id, new, now, anchor=followup_start)
        return new

    def _reschedule(
        self, user_id: str, settings: PersonSettings, now: float, anchor: date | None = None
    ) -> None:
        for reminder in self.reminders(user_id):
            if reminder.rule is not None:
                due = schedule_after(reminder.rule, settings.tz, settings.quiet, now)
                data = reminder.data
            else:
                data = {**reminder.data, **({"anchor": anchor.isoformat()} if anchor else {})}
                due = self._followup_due(user_id, data, settings, reminder.last_sent)
            self.db.execute(
                "UPDATE reminders SET next_due_utc = ?, rule = ?, snoozed = 0, updated_at = ?"
                " WHERE id = ?",
                (due, json.dumps(data, sort_keys=True), now, reminder.id),
            )

    # ------------------------------------------------------------ reminders

    def set_reminder(
        self, user_id: str, chat_id: int, kind: str, rule: Rule, now: float
    ) -> Reminder:
        """Create or change the person's reminder of this kind; returns it with its next due."""
        if kind not in KINDS or kind == "followup":
            raise ValueError(f"{kind!r} is not a reminder kind ({', '.join(KINDS[:-1])})")
        with self.db.transaction() as db:
            settings = self._ensure_person(user_id, now)
            due = schedule_after(rule, settings.tz, settings.quiet, now)
            self._upsert(db, user_id, chat_id, kind, rule.to_json(), due, now)
        found = self.reminder_of(user_id, kind)
        assert found is not None
        return found

    def enroll_followups(
        self, user_id: str, chat_id: int, sequence: str, now: float, start: date | None = None
    ) -> Reminder | None:
        """Start (or restart) a follow-up sequence. Day 0 is ``start``, else the start day a
        clinic set, else today (local). Messages already sent or skipped are not repeated."""
        if sequence not in self.followups:
            raise ValueError(
                f"no follow-up sequence {sequence!r} (known: {sorted(self.followups)})"
            )
        with self.db.transaction() as db:
            settings = self._ensure_person(user_id, now)
            anchor = start or settings.followup_start or local_of(now, zone(settings.tz)).date()
            data = {"sequence": sequence, "anchor": anchor.isoformat()}
            due = self._followup_due(user_id, data, settings, None)
            self._upsert(db, user_id, chat_id, "followup", data, due, now)
        return self.reminder_of(user_id, "followup")

    def _ensure_person(self, user_id: str, now: float) -> PersonSettings:
        self.db.execute(
            "INSERT INTO reminder_people (user_id, updated_at) VALUES (?, ?)"
            " ON CONFLICT (user_id) DO NOTHING",
            (user_id, now),
        )
        return self.settings(user_id)

    @staticmethod
    def _upsert(
        db: Database,
        user_id: str,
        chat_id: int,
        kind: str,
        data: Mapping[str, Any],
        due: float | None,
        now: float,
    ) -> None:
        db.execute(
            "INSERT INTO reminders (user_id, chat_id, kind, rule, next_due_utc, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, kind) DO UPDATE SET"
            " chat_id = excluded.chat_id, rule = excluded.rule,"
            " next_due_utc = excluded.next_due_utc, snoozed = 0,"
            " updated_at = excluded.updated_at",
            (user_id, chat_id, kind, json.dumps(data, sort_keys=True), due, now, now),
        )

    _COLUMNS = (
        "id, user_id, chat_id, kind, rule, next_due_utc, sent_count, done_count, snoozed,"
        " last_sent_utc"
    )

    @staticmethod
    def _from_row(row: Sequence[Any]) -> Reminder:
        data = json.loads(row[4])
        rule = _rule(row[4]) if "kind" in data else None
        return Reminder(
            int(row[0]),
            row[1],
            int(row[2]),
            row[3],
            rule,
            data,
            row[5],
            int(row[6]),
            int(row[7]),
            bool(row[8]),
            row[9],
        )

    def reminders(self, user_id: str) -> list[Reminder]:
        rows = self.db.all(
            f"SELECT {self._COLUMNS} FROM reminders WHERE user_id = ? ORDER BY id", (user_id,)
        )
        order = {kind: index for index, kind in enumerate(KINDS)}
        return sorted((self._from_row(r) for r in rows), key=lambda r: order.get(r.kind, 99))

    def reminder(self, user_id: str, reminder_id: int) -> Reminder | None:
        row = self.db.one(
            f"SELECT {self._COLUMNS} FROM reminders WHERE id = ? AND user_id = ?",
            (reminder_id, user_id),
        )
        return self._from_row(row) if row else None

    def reminder_of(self, user_id: str, kind: str) -> Reminder | None:
        row = self.db.one(
            f"SELECT {self._COLUMNS} FROM reminders WHERE user_id = ? AND kind = ?",
            (user_id, kind),
        )
        return self._from_row(row) if row else None

    def snooze(self, user_id: str, reminder_id: int, minutes: int, now: float) -> float | None:
        """Send this reminder again in ``minutes`` (held by quiet hours); None if it is gone."""
        with self.db.transaction() as db:
            settings = self.settings(user_id)
            due = snooze_until(now, minutes, settings.tz, settings.quiet)
            changed = db.execute(
                "UPDATE reminders SET next_due_utc = ?, snoozed = 1, updated_at = ?"
                " WHERE id = ? AND user_id = ? AND kind != 'followup'",
                (due, now, reminder_id, user_id),
            ).rowcount
        return due if changed else None

    def done(self, user_id: str, reminder_id: int, now: float) -> bool:
        with self.db.transaction() as db:
            return bool(
                db.execute(
                    "UPDATE reminders SET done_count = done_count + 1, updated_at = ?"
                    " WHERE id = ? AND user_id = ?",
                    (now, reminder_id, user_id),
                ).rowcount
            )

    def stop(self, user_id: str, reminder_id: int) -> str | None:
        """Remove one reminder; returns its kind, or None if it was already gone."""
        with self.db.transaction() as db:
            row = db.one(
                "SELECT kind FROM reminders WHERE id = ? AND user_id = ?", (reminder_id, user_id)
            )
            if row is None:
                return None
            db.execute("DELETE FROM reminders WHERE id = ?", (reminder_id,))
            return str(row[0])

    def due_count(self, now: float) -> int:
        row = self.db.one("SELECT count(*) FROM reminders WHERE next_due_utc <= ?", (now,))
        return int(row[0])

    # ------------------------------------------------------------ check-ins

    def record_checkin(self, user_id: str, pain: int | None, trend: str | None, now: float) -> None:
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO checkin_answers (user_id, at, data) VALUES (?, ?, ?)",
                (user_id, now, crypto.encrypt_json(db, {"pain": pain, "trend": trend})),
            )

    def checkins(self, user_id: str) -> list[Checkin]:
        """Every check-in of a person, oldest first."""
        rows = self.db.all(
            "SELECT at, data FROM checkin_answers WHERE user_id = ? ORDER BY at, id", (user_id,)
        )
        found = []
        for at, data in rows:
            value = crypto.decrypt_json(self.db, data)
            found.append(Checkin(float(at), value.get("pain"), value.get("trend")))
        return found

    # ------------------------------------------------------------ follow-ups

    def followup_done(self, user_id: str, sequence: str) -> dict[str, str]:
        rows = self.db.all(
            "SELECT message_id, state FROM followup_progress WHERE user_id = ? AND sequence = ?",
            (user_id, sequence),
        )
        return {row[0]: row[1] for row in rows}

    def _followup_due(
        self,
        user_id: str,
        data: Mapping[str, Any],
        settings: PersonSettings,
        last_sent: float | None,
    ) -> float | None:
        sequence = self.followups.get(str(data.get("sequence")))
        if sequence is None:
            return None
        pending = sequence.pending(self.followup_done(user_id, sequence.id))
        if not pending:
            return None
        anchor = date.fromisoformat(str(data["anchor"]))
        return next_followup_due(
            sequence, pending[0], anchor, settings.tz, settings.quiet, last_sent
        )

    # ------------------------------------------------------------ the sweep

    def sweep(self, now: float, batch: int = BATCH, budget: float | None = None) -> int:
        """Claim every reminder due at ``now``, in batches (each its own transaction); returns
        the messages queued. With ``budget`` (seconds of work, not of the clock ``now``) it
        stops after the batch that used it up; the rest stays due for the next sweep, so a
        sweep run on the bot's event loop never holds it for long."""
        if self.say is None:
            raise ValueError("this ReminderStore has no say=: give it the feature's wording")
        queued = 0
        started = time.perf_counter()
        for _ in range(1_000_000):  # a bound, never reached: each batch moves its rows on
            claimed, sent = self._sweep_batch(now, batch)
            queued += sent
            if claimed < batch:
                break
            if budget is not None and time.perf_counter() - started > budget:
                break
        return queued

    def _sweep_batch(self, now: float, batch: int) -> tuple[int, int]:
        assert self.say is not None  # checked by sweep
        outbox: list[OutboxItem] = []
        with self.db.transaction() as db:
            rows = db.all(
                "SELECT r.id, r.user_id, r.chat_id, r.kind, r.rule, r.next_due_utc,"
                " r.sent_count, r.last_sent_utc, p.tz, p.quiet_start, p.quiet_end,"
                " (SELECT count(*) FROM flags f WHERE f.user_id = r.user_id"
                "  AND f.name IN ('blocked', 'stopped') AND f.value = 1)"
                " FROM reminders r JOIN reminder_people p ON p.user_id = r.user_id"
                " WHERE r.next_due_utc <= ? ORDER BY r.next_due_utc, r.id LIMIT ? {skip_locked}",
                (now, batch),
            )
            for row in rows:
                due = self._claim(db, row, now)
                if due is not None:
                    outbox.append(self.say(due))
            insert_outbox(db, outbox, now, priority=PRIORITY)
        return len(rows), len(outbox)

    def _claim(self, db: Database, row: Sequence[Any], now: float) -> Due | None:
        """Move one due row on; what to send, if anything."""
        rid, user_id, chat_id, kind, rule_text, due, count, last_sent = row[:8]
        settings = PersonSettings(row[8], QuietHours(int(row[9]), int(row[10])))
        paused = bool(row[11])
        if kind == "followup":
            return self._claim_followup(db, row, settings, paused, now)
        rule = _rule(rule_text)
        decision = on_due(kind, rule, settings.tz, settings.quiet, due, now)
        send = decision.action == "send" and not paused
        if decision.action == "send" and paused:
            log.info("reminder not sent: blocked or stopped", extra={"event": "reminder_paused"})
        elif decision.action == "skip":
            log.info("stale reminder skipped", extra={"event": "reminder_stale", "kind": kind})
        changed = db.execute(
            "UPDATE reminders SET next_due_utc = ?, sent_count = sent_count + ?,"
            " last_sent_utc = ?, snoozed = 0, updated_at = ? WHERE id = ? AND next_due_utc = ?",
            (decision.next_due, int(send), now if send else last_sent, now, rid, due),
        ).rowcount
        if not changed or not send:
            return None  # another sweeper moved it first, or nothing to send
        return Due(int(chat_id), int(rid), kind, int(count), language=self.language_of(user_id))

    def _claim_followup(
        self, db: Database, row: Sequence[Any], settings: PersonSettings, paused: bool, now: float
    ) -> Due | None:
        rid, user_id, chat_id, _, rule_text, due, _, last_sent = row[:8]
        data = json.loads(rule_text)
        sequence = self.followups.get(str(data.get("sequence")))
        message = None
        if sequence is not None:
            pending = sequence.pending(self.followup_done(user_id, sequence.id))
            message = pending[0] if pending else None
        sent = None
        if sequence is None or message is None:
            next_due: float | None = None
        elif paused:  # wait: try again tomorrow, at the sequence's time
            next_due = self._tomorrow(sequence.send_at, settings, now)
        elif hold(now, settings.tz, settings.quiet) > now:
            next_due = hold(now, settings.tz, settings.quiet)
        else:
            answers = self.answers_of(user_id)
            state = (
                "sent"
                if message.condition is None or message.condition.holds(answers)
                else "skipped"
            )
            db.execute(
                "INSERT INTO followup_progress (user_id, sequence, message_id, state, at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, sequence, message_id) DO NOTHING",
                (user_id, sequence.id, message.id, state, now),
            )
            if state == "sent":
                last_sent = now
                sent = message
            next_due = self._followup_due(user_id, data, settings, last_sent)
        changed = db.execute(
            "UPDATE reminders SET next_due_utc = ?, sent_count = sent_count + ?,"
            " last_sent_utc = ?, updated_at = ? WHERE id = ? AND next_due_utc = ?",
            (next_due, int(sent is not None), last_sent, now, rid, due),
        ).rowcount
        if not changed or sent is None:
            return None
        language = self.language_of(user_id)
        return Due(int(chat_id), int(rid), "followup", followup=sent, language=language)

    @staticmethod
    def _tomorrow(at: int, settings: PersonSettings, now: float) -> float:
        tz = zone(settings.tz)
        day = local_of(now, tz).date() + timedelta(days=1)
        return hold(wall_to_utc(day, at, tz), settings.tz, settings.quiet)

    # ------------------------------------------------------------ privacy

    def erase(self, db: Database, user_id: str) -> None:
        """Everything about a person in these tables (called inside delete_user)."""
        for table in ("reminders", "reminder_people", "followup_progress", "checkin_answers"):
            db.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))

    def erase_checkins(self, db: Database, user_id: str) -> None:
        db.execute("DELETE FROM checkin_answers WHERE user_id = ?", (user_id,))

    def export(self, db: Database, user_id: str) -> dict[str, Any]:
        settings = self.settings(user_id)
        return {
            "settings": {
                "time_zone": settings.tz,
                "quiet_hours": settings.quiet.describe(),
                "followup_start": settings.followup_start.isoformat()
                if settings.followup_start
                else None,
            },
            "reminders": [
                {
                    "kind": r.kind,
                    "when": r.describe(),
                    "next_due_utc": r.next_due,
                    "sent": r.sent_count,
                    "done": r.done_count,
                }
                for r in self.reminders(user_id)
            ],
            "followups": [
                {"sequence": sequence, "message": message, "state": state, "at": at}
                for sequence, message, state, at in db.all(
                    "SELECT sequence, message_id, state, at FROM followup_progress"
                    " WHERE user_id = ? ORDER BY at",
                    (user_id,),
                )
            ],
            "checkins": [
                {"at": c.at, "pain": c.pain, "trend": c.trend} for c in self.checkins(user_id)
            ],
        }
