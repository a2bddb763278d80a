"""Clinics on the shared SQL ``Database``: clinics, staff, patient links, broadcasts and
their deliveries, and the staff's ``/broadcast`` wizard.

Tenant isolation: every method that staff actions reach takes the clinic's id and every one of
its statements filters by it (``WHERE clinic_id = ?``), so a broadcast id, a patient or a count
of another clinic is never found, even with a forged button. The few methods that span
clinics are named for who may call them: ``*_for_operator`` (the command line, run by whoever
runs the bot) and the broadcast sweep (``due_deliveries``), which staff never reach.

Patient links hold the clinic's own opaque reference for a patient (from a personal link),
never a name. ``erase_user`` and ``export_user`` cover every table for ``/delete`` and
``/mydata``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import HipbotError
from bot.features.clinics.rules import (
    CLINIC_PREFIX,
    LANGUAGE_SKIPPED,
    PERSONAL_PREFIX,
    ROLES,
    Counts,
    Stats,
    new_code,
)
from bot.storage.db import Database

STORE = "clinics"
# the web dashboard's tables (bot.features.clinics.dashboard)
DASHBOARD_MIGRATION = """
    CREATE TABLE staff_login_codes (
        code_hash  TEXT PRIMARY KEY,
        clinic_id  INTEGER NOT NULL,
        user_id    TEXT NOT NULL,
        created_at {real} NOT NULL,
        expires_at {real} NOT NULL,
        used_at    {real}
    );
    CREATE INDEX staff_login_codes_user ON staff_login_codes (user_id, created_at);
    CREATE TABLE staff_web_sessions (
        token_hash TEXT PRIMARY KEY,
        clinic_id  INTEGER NOT NULL,
        user_id    TEXT NOT NULL,
        csrf       TEXT NOT NULL,
        created_at {real} NOT NULL,
        expires_at {real} NOT NULL
    );
    CREATE INDEX staff_web_sessions_user ON staff_web_sessions (user_id);
    CREATE TABLE clinic_audit (
        id        {id},
        clinic_id INTEGER NOT NULL,
        actor     TEXT NOT NULL,
        action    TEXT NOT NULL,
        detail    TEXT NOT NULL DEFAULT '',
        at        {real} NOT NULL
    );
    CREATE INDEX clinic_audit_clinic ON clinic_audit (clinic_id, id);
    CREATE TABLE clinic_alerts (
        id         {id},
        clinic_id  INTEGER NOT NULL,
        user_id    TEXT NOT NULL,
        patient_ref TEXT NOT NULL,
        urgent     INTEGER NOT NULL,
        at         {real} NOT NULL,
        acked_by   TEXT,
        acked_at   {real}
    );
    CREATE INDEX clinic_alerts_clinic ON clinic_alerts (clinic_id, id);
    CREATE TABLE clinic_share_consents (
        clinic_id    INTEGER NOT NULL,
        user_id      TEXT NOT NULL,
        version      INTEGER NOT NULL,
        given_at     {real} NOT NULL,
        withdrawn_at {real},
        PRIMARY KEY (clinic_id, user_id)
    );
    CREATE INDEX clinic_patients_clinic ON clinic_patients (clinic_id, opted_in, user_id);
    CREATE INDEX sessions_user_updated ON sessions (user_id, updated_at);
    CREATE INDEX journal_kind_user ON journal (kind, user_id);
"""

MIGRATIONS: list[str] = [
    # 1: clinics, staff, personal links, patient links, broadcasts, deliveries, wizards
    """
    CREATE TABLE clinics (
        id         {id},
        name       TEXT NOT NULL,
        code       TEXT NOT NULL UNIQUE,
        created_at {real} NOT NULL
    );
    CREATE TABLE clinic_staff (
        clinic_id INTEGER NOT NULL,
        user_id   TEXT NOT NULL,
        role      TEXT NOT NULL,
        added_at  {real} NOT NULL,
        PRIMARY KEY (clinic_id, user_id)
    );
    CREATE INDEX clinic_staff_user ON clinic_staff (user_id);
    CREATE TABLE clinic_invites (
        code        TEXT PRIMARY KEY,
        clinic_id   INTEGER NOT NULL,
        patient_ref TEXT NOT NULL,
        created_at  {real} NOT NULL,
        used_by     TEXT
    );
    CREATE TABLE clinic_patients (
        clinic_id   INTEGER NOT NULL,
        user_id     TEXT NOT NULL,
        patient_ref TEXT,
        joined_at   {real} NOT NULL,
        opted_in    INTEGER NOT NULL,
        left_at     {real},
        PRIMARY KEY (clinic_id, user_id)
    );
    CREATE INDEX clinic_patients_user ON clinic_patients (user_id);
    CREATE TABLE clinic_broadcasts (
        id          {id},
        clinic_id   INTEGER NOT NULL,
        author      TEXT NOT NULL,
        report_to   TEXT,
        text        TEXT NOT NULL DEFAULT '',
        audience    TEXT NOT NULL DEFAULT '',
        at_time     TEXT,
        state       TEXT NOT NULL,
        created_at  {real} NOT NULL,
        queued_at   {real},
        finished_at {real}
    );
    CREATE INDEX clinic_broadcasts_clinic ON clinic_broadcasts (clinic_id, id);
    CREATE TABLE clinic_deliveries (
        id           {id},
        broadcast_id INTEGER NOT NULL,
        clinic_id    INTEGER NOT NULL,
        user_id      TEXT NOT NULL,
        state        TEXT NOT NULL DEFAULT 'pending',
        due_at       {real} NOT NULL,
        outboxed_at  {real},
        done_at      {real},
        error        TEXT,
        UNIQUE (broadcast_id, user_id)
    );
    CREATE INDEX clinic_deliveries_due ON clinic_deliveries (state, outboxed_at, due_at);
    CREATE INDEX clinic_deliveries_broadcast ON clinic_deliveries (broadcast_id, state);
    CREATE INDEX clinic_deliveries_user ON clinic_deliveries (user_id);
    CREATE TABLE clinic_wizards (
        user_id    TEXT PRIMARY KEY,
        data       TEXT NOT NULL,
        updated_at {real} NOT NULL
    );
    """,
    # 2: the web dashboard: sign-in codes, web sessions, audit log, red-flag inbox, progress
    # sharing consents, and indexes for its overview (bot.features.clinics.dashboard)
    DASHBOARD_MIGRATION,
    # 3: each clinic's time zone (a broadcast's "at" time is in it; bot.features.clinics.dashboard)
    """
    CREATE TABLE clinic_zones (
        clinic_id  INTEGER PRIMARY KEY,
        time_zone  TEXT NOT NULL,
        updated_at {real} NOT NULL
    );
    """,
]

# broadcast states: draft -> queued -> sending -> done; queued/sending -> cancelled
GOING = ("queued", "sending")
FINAL_DELIVERY = ("sent", "failed", "blocked", "skipped")


@dataclass(frozen=True, slots=True)
class Clinic:
    id: int
    name: str
    code: str


@dataclass(frozen=True, slots=True)
class Staff:
    clinic_id: int
    user_id: str
    role: str


@dataclass(frozen=True, slots=True)
class Link:
    clinic_id: int
    user_id: str
    patient_ref: str | None
    joined_at: float
    opted_in: bool


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    clinic_id: int
    author: str
    report_to: str | None
    text: str
    audience: str
    at_time: str | None
    state: str
    created_at: float
    queued_at: float | None
    finished_at: float | None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    broadcast_id: int
    clinic_id: int
    user_id: str


_BROADCAST_COLUMNS = (
    "id, clinic_id, author, report_to, text, audience, at_time, state, created_at,"
    " queued_at, finished_at"
)


def _broadcast(row: Sequence[Any]) -> Broadcast:
    return Broadcast(
        int(row[0]), int(row[1]), row[2], row[3], row[4], row[5], row[6], row[7],
        float(row[8]), row[9], row[10],
    )  # fmt: skip


class ClinicStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def migrate(self) -> int:
        return self.db.migrate(STORE, MIGRATIONS)

    # ------------------------------------------------------------ clinics

    def add_clinic(self, name: str, now: float) -> Clinic:
        name = " ".join(name.split())
        if not name:
            raise ValueError("a clinic needs a name")
        if len(name) > 64:
            raise ValueError(f"clinic name is {len(name)} characters; keep it to 64")
        with self.db.transaction() as db:
            code = self._unused_code(CLINIC_PREFIX)
            row = db.one(
                "INSERT INTO clinics (name, code, created_at) VALUES (?, ?, ?) RETURNING id",
                (name, code, now),
            )
        return Clinic(int(row[0]), name, code)

    def _unused_code(self, prefix: str) -> str:
        while True:
            code = new_code(prefix, 10 if prefix == CLINIC_PREFIX else 16)
            taken = self.db.one("SELECT 1 FROM clinics WHERE code = ?", (code,)) or self.db.one(
                "SELECT 1 FROM clinic_invites WHERE code = ?", (code,)
            )
            if not taken:
                return code

    def clinic(self, clinic_id: int) -> Clinic | None:
        row = self.db.one("SELECT id, name, code FROM clinics WHERE id = ?", (clinic_id,))
        return Clinic(int(row[0]), row[1], row[2]) if row else None

    def clinics_for_operator(self) -> list[Clinic]:
        rows = self.db.all("SELECT id, name, code FROM clinics ORDER BY id")
        return [Clinic(int(r[0]), r[1], r[2]) for r in rows]

    def find_clinic_for_operator(self, key: str) -> Clinic | None:
        """A clinic by id, code or exact name (the command line's CLINIC argument)."""
        key = key.strip()
        if key.isdigit():
            found = self.clinic(int(key))
            if found:
                return found
        row = self.db.one(
            "SELECT id, name, code FROM clinics WHERE code = ? OR name = ? ORDER BY id",
            (key, key),
        )
        return Clinic(int(row[0]), row[1], row[2]) if row else None

    # ------------------------------------------------------------ deep links

    def add_invite(self, clinic_id: int, patient_ref: str, now: float) -> str:
        """A personal link's code, carrying the clinic's reference for one patient."""
        with self.db.transaction() as db:
            code = self._unused_code(PERSONAL_PREFIX)
            db.execute(
                "INSERT INTO clinic_invites (code, clinic_id, patient_ref, created_at)"
                " VALUES (?, ?, ?, ?)",
                (code, clinic_id, patient_ref, now),
            )
        return code

    def resolve_code(self, code: str, user_id: str) -> tuple[Clinic, str | None] | None:
        """The clinic a deep-link code stands for, and the patient reference it carries for
        this person (a personal link is for the first person who uses it; anyone else who
        opens it joins the clinic without the reference)."""
        if code.startswith(CLINIC_PREFIX):
            row = self.db.one("SELECT id, name, code FROM clinics WHERE code = ?", (code,))
            return (Clinic(int(row[0]), row[1], row[2]), None) if row else None
        if code.startswith(PERSONAL_PREFIX):
            row = self.db.one(
                "SELECT c.id, c.name, c.code, i.patient_ref, i.used_by FROM clinic_invites i"
                " JOIN clinics c ON c.id = i.clinic_id WHERE i.code = ?",
                (code,),
            )
            if row is None:
                return None
            ref = row[3] if row[4] in (None, user_id) else None
            return Clinic(int(row[0]), row[1], row[2]), ref
        return None

    # ------------------------------------------------------------ staff

    def add_staff(self, clinic_id: int, user_id: str, role: str, now: float) -> None:
        if role not in ROLES:
            raise ValueError(f"role {role!r} is not accepted: use {' or '.join(ROLES)}")
        if not user_id.isdigit():
            raise ValueError(f"{user_id!r} is not a Telegram user id (a number, e.g. 123456789)")
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO clinic_staff (clinic_id, user_id, role, added_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (clinic_id, user_id) DO UPDATE SET role = excluded.role",
                (clinic_id, user_id, role, now),
            )

    def remove_staff(self, clinic_id: int, user_id: str) -> bool:
        with self.db.transaction() as db:
            found = db.one(
                "SELECT 1 FROM clinic_staff WHERE clinic_id = ? AND user_id = ?",
                (clinic_id, user_id),
            )
            db.execute(
                "DELETE FROM clinic_staff WHERE clinic_id = ? AND user_id = ?", (clinic_id, user_id)
            )
            db.execute(
                "DELETE FROM clinic_wizards WHERE user_id = ?", (user_id,)
            )  # a half-written broadcast of someone who is no longer staff
        return found is not None

    def staff(self, clinic_id: int) -> list[Staff]:
        rows = self.db.all(
            "SELECT clinic_id, user_id, role FROM clinic_staff WHERE clinic_id = ?"
            " ORDER BY role, user_id",
            (clinic_id,),
        )
        return [Staff(int(r[0]), r[1], r[2]) for r in rows]

    def roles_of(self, user_id: str) -> dict[int, str]:
        """The clinics this person is staff of, with their role in each."""
        rows = self.db.all(
            "SELECT clinic_id, role FROM clinic_staff WHERE user_id = ? ORDER BY clinic_id",
            (user_id,),
        )
        return {int(r[0]): r[1] for r in rows}

    # ------------------------------------------------------------ patients

    def link(self, clinic_id: int, user_id: str, patient_ref: str | None, now: float) -> None:
        """The patient agreed to the clinic's messages (joining again keeps the first date)."""
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO clinic_patients (clinic_id, user_id, patient_ref, joined_at, opted_in)"
                " VALUES (?, ?, ?, ?, 1) ON CONFLICT (clinic_id, user_id) DO UPDATE SET"
                " opted_in = 1, left_at = NULL,"
                " patient_ref = COALESCE(excluded.patient_ref, clinic_patients.patient_ref)",
                (clinic_id, user_id, patient_ref, now),
            )
            if patient_ref is not None:
                db.execute(
                    "UPDATE clinic_invites SET used_by = ? WHERE clinic_id = ? AND patient_ref = ?"
                    " AND used_by IS NULL",
                    (user_id, clinic_id, patient_ref),
                )

    def leave(self, clinic_id: int, user_id: str, now: float) -> bool:
        """End the link: no more messages from this clinic (pending ones are skipped)."""
        with self.db.transaction() as db:
            row = db.one(
                "SELECT opted_in FROM clinic_patients WHERE clinic_id = ? AND user_id = ?",
                (clinic_id, user_id),
            )
            if not row or not row[0]:
                return False
            db.execute(
                "UPDATE clinic_patients SET opted_in = 0, left_at = ?"
                " WHERE clinic_id = ? AND user_id = ?",
                (now, clinic_id, user_id),
            )
        return True

    def links_of(self, user_id: str) -> list[tuple[Clinic, Link]]:
        """The patient's own clinic links (what /leave offers)."""
        rows = self.db.all(
            "SELECT c.id, c.name, c.code, p.patient_ref, p.joined_at, p.opted_in"
            " FROM clinic_patients p JOIN clinics c ON c.id = p.clinic_id"
            " WHERE p.user_id = ? ORDER BY c.id",
            (user_id,),
        )
        return [
            (Clinic(int(r[0]), r[1], r[2]), Link(int(r[0]), user_id, r[3], float(r[4]), bool(r[5])))
            for r in rows
        ]

    def is_linked(self, clinic_id: int, user_id: str) -> bool:
        row = self.db.one(
            "SELECT opted_in FROM clinic_patients WHERE clinic_id = ? AND user_id = ?",
            (clinic_id, user_id),
        )
        return bool(row and row[0])

    def patients(self, clinic_id: int) -> list[Link]:
        """The clinic's patients who want its messages."""
        rows = self.db.all(
            "SELECT user_id, patient_ref, joined_at FROM clinic_patients"
            " WHERE clinic_id = ? AND opted_in = 1 ORDER BY joined_at, user_id",
            (clinic_id,),
        )
        return [Link(clinic_id, r[0], r[1], float(r[2]), True) for r in rows]

    def stats(self, clinic_id: int, now: float, active_days: int = 30) -> Stats:
        """Linked, active lately, and finished the symptom check (from the core journal)."""
        linked = self.db.one(
            "SELECT count(*) FROM clinic_patients WHERE clinic_id = ? AND opted_in = 1",
            (clinic_id,),
        )[0]
        active = self.db.one(
            "SELECT count(*) FROM clinic_patients p JOIN sessions s ON s.user_id = p.user_id"
            " WHERE p.clinic_id = ? AND p.opted_in = 1 AND s.updated_at >= ?",
            (clinic_id, now - active_days * 86400.0),
        )[0]
        finished = self.db.one(
            "SELECT count(*) FROM clinic_patients p WHERE p.clinic_id = ? AND p.opted_in = 1"
            " AND EXISTS (SELECT 1 FROM journal j WHERE j.user_id = p.user_id"
            " AND j.kind = 'check_finished')",
            (clinic_id,),
        )[0]
        return Stats(int(linked), int(active), int(finished), active_days)

    # ------------------------------------------------------------ broadcasts

    def create_draft(self, clinic_id: int, author: str, now: float) -> int:
        with self.db.transaction() as db:
            db.execute(
                "DELETE FROM clinic_broadcasts WHERE clinic_id = ? AND author = ? AND state = 'draft'",
                (clinic_id, author),
            )
            row = db.one(
                "INSERT INTO clinic_broadcasts (clinic_id, author, state, created_at)"
                " VALUES (?, ?, 'draft', ?) RETURNING id",
                (clinic_id, author, now),
            )
        return int(row[0])

    def update_draft(
        self, clinic_id: int, broadcast_id: int, text: str | None = None,
        audience: str | None = None, at_time: str | None = None, clear_time: bool = False,
    ) -> bool:  # fmt: skip
        sets, values = [], []
        for column, value in (("text", text), ("audience", audience), ("at_time", at_time)):
            if value is not None:
                sets.append(f"{column} = ?")
                values.append(value)
        if clear_time:
            sets.append("at_time = NULL")
        if not sets:
            return False
        with self.db.transaction() as db:
            cursor = db.execute(
                f"UPDATE clinic_broadcasts SET {', '.join(sets)}"
                " WHERE clinic_id = ? AND id = ? AND state = 'draft'",
                (*values, clinic_id, broadcast_id),
            )
        return bool(cursor.rowcount)

    def discard_draft(self, clinic_id: int, broadcast_id: int) -> None:
        with self.db.transaction() as db:
            db.execute(
                "DELETE FROM clinic_broadcasts WHERE clinic_id = ? AND id = ? AND state = 'draft'",
                (clinic_id, broadcast_id),
            )

    def broadcast(self, clinic_id: int, broadcast_id: int) -> Broadcast | None:
        row = self.db.one(
            f"SELECT {_BROADCAST_COLUMNS} FROM clinic_broadcasts WHERE clinic_id = ? AND id = ?",
            (clinic_id, broadcast_id),
        )
        return _broadcast(row) if row else None

    def broadcast_for_operator(self, broadcast_id: int) -> Broadcast | None:
        row = self.db.one(
            f"SELECT {_BROADCAST_COLUMNS} FROM clinic_broadcasts WHERE id = ?", (broadcast_id,)
        )
        return _broadcast(row) if row else None

    def recent(self, clinic_id: int, limit: int = 5) -> list[Broadcast]:
        rows = self.db.all(
            f"SELECT {_BROADCAST_COLUMNS} FROM clinic_broadcasts"
            " WHERE clinic_id = ? AND state != 'draft' ORDER BY id DESC LIMIT ?",
            (clinic_id, limit),
        )
        return [_broadcast(r) for r in rows]

    def going(self, clinic_id: int) -> list[Broadcast]:
        """Broadcasts of the clinic still being sent (what /cancel may stop)."""
        rows = self.db.all(
            f"SELECT {_BROADCAST_COLUMNS} FROM clinic_broadcasts"
            " WHERE clinic_id = ? AND state IN ('queued', 'sending') ORDER BY id",
            (clinic_id,),
        )
        return [_broadcast(r) for r in rows]

    def counts(self, clinic_id: int, broadcast_id: int) -> Counts:
        rows = self.db.all(
            "SELECT state, count(*) FROM clinic_deliveries"
            " WHERE clinic_id = ? AND broadcast_id = ? GROUP BY state",
            (clinic_id, broadcast_id),
        )
        found = {state: int(n) for state, n in rows}
        return Counts(
            pending=found.get("pending", 0),
            sent=found.get("sent", 0),
            failed=found.get("failed", 0),
            blocked=found.get("blocked", 0),
            skipped=found.get("skipped", 0),
            language=found.get(LANGUAGE_SKIPPED, 0),
        )

    def queue(
        self,
        clinic_id: int,
        broadcast_id: int,
        deliveries: Sequence[tuple[str, float]],
        now: float,
        report_to: str | None,
        no_language: Sequence[str] = (),
    ) -> bool:
        """draft -> queued, with one pending delivery per recipient ``(user_id, due_at)``;
        those in ``no_language`` (no text in their language) are recorded as done, unsent."""
        with self.db.transaction() as db:
            cursor = db.execute(
                "UPDATE clinic_broadcasts SET state = 'queued', queued_at = ?, report_to = ?"
                " WHERE clinic_id = ? AND id = ? AND state = 'draft'",
                (now, report_to, clinic_id, broadcast_id),
            )
            if not cursor.rowcount:
                return False
            db.executemany(
                "INSERT INTO clinic_deliveries (broadcast_id, clinic_id, user_id, due_at)"
                " VALUES (?, ?, ?, ?)",
                [(broadcast_id, clinic_id, user, due) for user, due in deliveries],
            )
            db.executemany(
                "INSERT INTO clinic_deliveries"
                " (broadcast_id, clinic_id, user_id, state, due_at, done_at, error)"
                " VALUES (?, ?, ?, ?, ?, ?, 'no text in their language')",
                [(broadcast_id, clinic_id, u, LANGUAGE_SKIPPED, now, now) for u in no_language],
            )
        return True

    def cancel(self, clinic_id: int, broadcast_id: int, now: float) -> bool:
        """Stop a broadcast still going: deliveries not yet handed to the sender are skipped.
        (Those already in the outbox, at most one sweep's worth, still go.)"""
        with self.db.transaction() as db:
            # The sweep's lock first (bot.features.clinics.broadcast.sweep): a sweep on another replica locks
            # deliveries, then the broadcast; this locks the broadcast, then deliveries. Taking
            # turns, they never wait for each other in a circle (PostgreSQL: a deadlock).
            db.lock_key("broadcast-sweep")
            cursor = db.execute(
                "UPDATE clinic_broadcasts SET state = 'cancelled'"
                " WHERE clinic_id = ? AND id = ? AND state IN ('queued', 'sending')",
                (clinic_id, broadcast_id),
            )
            if not cursor.rowcount:
                return False
            db.execute(
                "UPDATE clinic_deliveries SET state = 'skipped', done_at = ?, error = 'cancelled'"
                " WHERE clinic_id = ? AND broadcast_id = ? AND state = 'pending'"
                " AND outboxed_at IS NULL",
                (now, clinic_id, broadcast_id),
            )
        return True

    # ------------------------------------------------------------ the broadcast sweep

    def in_outbox(self) -> int:
        """Deliveries handed to the sender and not yet answered, all clinics together."""
        row = self.db.one(
            "SELECT count(*) FROM clinic_deliveries WHERE state = 'pending'"
            " AND outboxed_at IS NOT NULL"
        )
        return int(row[0])

    def due_deliveries(self, now: float, limit: int) -> list[Delivery]:
        """Pending deliveries whose time has come, oldest broadcast first (the sweep only)."""
        if limit <= 0:
            return []
        rows = self.db.all(
            "SELECT d.id, d.broadcast_id, d.clinic_id, d.user_id FROM clinic_deliveries d"
            " WHERE d.state = 'pending' AND d.outboxed_at IS NULL AND d.due_at <= ?"
            " ORDER BY d.due_at, d.id LIMIT ?",
            (now, limit),
        )
        return [Delivery(int(r[0]), int(r[1]), int(r[2]), r[3]) for r in rows]

    def mark_outboxed(self, delivery_ids: Sequence[int], now: float) -> None:
        self.db.executemany(
            "UPDATE clinic_deliveries SET outboxed_at = ? WHERE id = ?",
            [(now, d) for d in delivery_ids],
        )

    def finish_delivery(self, delivery_id: int, state: str, now: float, error: str = "") -> int:
        """pending -> sent | failed | blocked | skipped; the broadcast's id (0: not found)."""
        row = self.db.one(
            "SELECT broadcast_id FROM clinic_deliveries WHERE id = ? AND state = 'pending'",
            (delivery_id,),
        )
        if row is None:
            return 0
        self.db.execute(
            "UPDATE clinic_deliveries SET state = ?, done_at = ?, error = ? WHERE id = ?",
            (state, now, error or None, delivery_id),
        )
        return int(row[0])

    def set_sending(self, broadcast_ids: Sequence[int]) -> None:
        self.db.executemany(
            "UPDATE clinic_broadcasts SET state = 'sending' WHERE id = ? AND state = 'queued'",
            [(b,) for b in broadcast_ids],
        )

    def unfinished(self) -> list[Broadcast]:
        """Queued, sending or cancelled broadcasts whose report is not out yet (the sweep)."""
        rows = self.db.all(
            f"SELECT {_BROADCAST_COLUMNS} FROM clinic_broadcasts"
            " WHERE state IN ('queued', 'sending', 'cancelled') AND finished_at IS NULL"
        )
        return [_broadcast(r) for r in rows]

    def has_pending(self, broadcast_id: int) -> bool:
        """Whether any delivery of the broadcast is still pending (asked once per message
        sent, so it stops at the first row it finds instead of counting them all)."""
        row = self.db.one(
            "SELECT 1 FROM clinic_deliveries WHERE broadcast_id = ? AND state = 'pending' LIMIT 1",
            (broadcast_id,),
        )
        return row is not None

    def finish(self, broadcast_id: int, now: float) -> bool:
        """Record the end (once): sending/queued -> done; cancelled stays cancelled."""
        cursor = self.db.execute(
            "UPDATE clinic_broadcasts SET finished_at = ?,"
            " state = CASE WHEN state = 'cancelled' THEN 'cancelled' ELSE 'done' END"
            " WHERE id = ? AND finished_at IS NULL AND state != 'draft'",
            (now, broadcast_id),
        )
        return bool(cursor.rowcount)

    # ------------------------------------------------------------ the wizard

    def wizard(self, user_id: str) -> dict[str, Any] | None:
        row = self.db.one("SELECT data FROM clinic_wizards WHERE user_id = ?", (user_id,))
        return dict(json.loads(row[0])) if row else None

    def save_wizard(self, user_id: str, data: dict[str, Any], now: float) -> None:
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO clinic_wizards (user_id, data, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET data = excluded.data,"
                " updated_at = excluded.updated_at",
                (user_id, json.dumps(data), now),
            )

    def clear_wizard(self, user_id: str) -> None:
        with self.db.transaction() as db:
            db.execute("DELETE FROM clinic_wizards WHERE user_id = ?", (user_id,))

    # ------------------------------------------------------------ privacy

    def erase_user(self, db: Database, user_id: str) -> None:
        """/delete: the person's clinic links, deliveries, personal-link use, staff roles,
        wizard and drafts; broadcasts they sent stay with the clinic, without their id."""
        db.execute("DELETE FROM clinic_patients WHERE user_id = ?", (user_id,))
        db.execute("DELETE FROM clinic_deliveries WHERE user_id = ?", (user_id,))
        db.execute("UPDATE clinic_invites SET used_by = NULL WHERE used_by = ?", (user_id,))
        db.execute("DELETE FROM clinic_wizards WHERE user_id = ?", (user_id,))
        db.execute("DELETE FROM clinic_staff WHERE user_id = ?", (user_id,))
        db.execute("DELETE FROM clinic_broadcasts WHERE author = ? AND state = 'draft'", (user_id,))
        db.execute("UPDATE clinic_broadcasts SET author = '' WHERE author = ?", (user_id,))
        db.execute("UPDATE clinic_broadcasts SET report_to = NULL WHERE report_to = ?", (user_id,))

    def export_user(self, db: Database, user_id: str) -> dict[str, Any]:
        """/mydata: the clinics the person is linked to and the clinic messages sent to them."""
        links = db.all(
            "SELECT c.name, p.patient_ref, p.joined_at, p.opted_in, p.left_at"
            " FROM clinic_patients p JOIN clinics c ON c.id = p.clinic_id WHERE p.user_id = ?",
            (user_id,),
        )
        deliveries = db.all(
            "SELECT c.name, d.broadcast_id, d.state, d.done_at FROM clinic_deliveries d"
            " JOIN clinics c ON c.id = d.clinic_id WHERE d.user_id = ? ORDER BY d.id",
            (user_id,),
        )
        staff = db.all(
            "SELECT c.name, s.role FROM clinic_staff s JOIN clinics c ON c.id = s.clinic_id"
            " WHERE s.user_id = ?",
            (user_id,),
        )
        return {
            "links": [
                {
                    "clinic": r[0],
                    "patient_ref": r[1],
                    "joined_at": r[2],
                    "wants_messages": bool(r[3]),
                    "left_at": r[4],
                }
                for r in links
            ],
            "messages": [
                {"clinic": r[0], "broadcast": r[1], "state": r[2], "at": r[3]} for r in deliveries
            ],
            "staff_of": [{"clinic": r[0], "role": r[1]} for r in staff],
        }


# ---------------------------------------------------------------- the command line's CLINIC


class CliError(HipbotError):
    """A problem with what was typed; the message says what to do."""


def find_clinic(store: ClinicStore, key: str) -> Clinic | None:
    """A clinic by id, code or exact name (the command line's CLINIC argument). A name that
    several clinics share is an error that lists their ids, never a silent first pick."""
    key = key.strip()
    found = store.clinic(int(key)) if key.isdigit() else None
    if found is not None:
        return found
    clinics = store.clinics_for_operator()
    by_code = [c for c in clinics if c.code == key]
    named = by_code or [c for c in clinics if c.name == key]
    if len(named) > 1:
        ids = ", ".join(str(c.id) for c in named)
        raise CliError(f"{len(named)} clinics are named {key!r} (ids {ids}): give the id instead")
    return named[0] if named else None
