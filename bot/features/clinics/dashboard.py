"""The clinic dashboard's services: staff sign-in codes and web sessions, the audit log,
red-flag alerts, the overview's counts, patients who share their progress, and broadcast
progress. The web pages (``bot.web.clinic``) and the chat (``/login``) call these; every
method that a staff request reaches takes the clinic's id and filters by it.

Sign-in
    A one-time code (8 letters and digits, ``CODE_TTL`` seconds, single use) goes to the staff
    member on Telegram through the outbox (``/login`` in the chat, or
    ``hipbot staff login-link CLINIC USER_ID``). Only its SHA-256 is stored. At most
    ``CODES_PER_WINDOW`` codes per person per ``CODE_WINDOW``. A code opens a session: a
    random cookie value (stored hashed), a per-session CSRF token, ``SESSION_TTL`` seconds.
    The role is read again from ``clinic_staff`` on every request, so taking someone off the
    staff ends their access at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot import outgoing
from bot.errors import HipbotError
from bot.features.clinics.rules import CODE_ALPHABET, LANGUAGE_SKIPPED, SMALL_COUNT, shown
from bot.model import Reply
from bot.storage.db import Database
from bot.storage.sql import insert_outbox

CODE_TTL = 600.0  # seconds a sign-in code is good for
CODE_LENGTH = 8
CODE_WINDOW = 900.0
CODES_PER_WINDOW = 5  # codes one person may be sent per window
SESSION_TTL = 8 * 3600.0  # a web session lasts a working day at most
CODE_PRIORITY = 0  # as fast as a reply
SHARE_VERSION = 1  # the version of "share my progress with my clinic" patients agree to


AUDITED = (
    "sign-in",
    "sign-out",
    "sign-out-everywhere",
    "broadcast-sent",
    "time-zone-changed",
    "broadcast-cancelled",
    "alert-acknowledged",
    "staff-changed",
    "export",
)


class TooManyCodes(HipbotError):
    """A person asked for more sign-in codes than ``CODES_PER_WINDOW`` in ``CODE_WINDOW``."""


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normal_code(typed: str) -> str:
    """A typed code as stored: lower case, no spaces or dashes."""
    return "".join(ch for ch in typed.casefold() if ch.isalnum())[:32]


# ---------------------------------------------------------------- sign-in codes


def issue_code(db: Database, clinic_id: int, user_id: str, now: float) -> str:
    """A new one-time code for a staff member of the clinic (raises TooManyCodes, or
    LookupError when they are not staff of it)."""
    with db.transaction():
        staff = db.one(
            "SELECT role FROM clinic_staff WHERE clinic_id = ? AND user_id = ?",
            (clinic_id, user_id),
        )
        if staff is None:
            raise LookupError(f"{user_id} is not staff of clinic {clinic_id}")
        recent = db.one(
            "SELECT count(*) FROM staff_login_codes WHERE user_id = ? AND created_at > ?",
            (user_id, now - CODE_WINDOW),
        )[0]
        if int(recent) >= CODES_PER_WINDOW:
            raise TooManyCodes(
                f"{recent} sign-in codes in the last {int(CODE_WINDOW // 60)} minutes: "
                f"the limit is {CODES_PER_WINDOW}; wait, then ask again"
            )
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        db.execute(
            "INSERT INTO staff_login_codes (code_hash, clinic_id, user_id, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (_hash(code), clinic_id, user_id, now, now + CODE_TTL),
        )
    return code


def code_message(clinic_name: str, code: str, url: str) -> str:
    """The Telegram message (HTML) that carries a sign-in code."""
    minutes = int(CODE_TTL // 60)
    link = f"\n{url}/clinic/login?code={code}" if url else ""
    return (
        f"Your sign-in code for the {_html(clinic_name)} dashboard: <code>{code}</code>\n"
        f"It works once, for {minutes} minutes. If you did not ask for it, ignore this message."
        f"{link}"
    )


def send_code(db: Database, clinic_id: int, user_id: str, now: float, url: str) -> str:
    """Issue a code and queue it to the person on Telegram (the outbox); the code."""
    name_row = db.one("SELECT name FROM clinics WHERE id = ?", (clinic_id,))
    code = issue_code(db, clinic_id, user_id, now)
    text = code_message(str(name_row[0]) if name_row else "clinic", code, url)
    with db.transaction():
        insert_outbox(
            db, outgoing.say(int(user_id), Reply(text), kind="login_code"), now, CODE_PRIORITY
        )
    return code


def redeem_code(db: Database, typed: str, now: float) -> tuple[int, str] | None:
    """(clinic id, user id) for a valid unused code, which is used up; else None."""
    code = normal_code(typed)
    if len(code) != CODE_LENGTH:
        return None
    with db.transaction():
        row = db.one(
            "SELECT clinic_id, user_id FROM staff_login_codes"
            " WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?",
            (_hash(code), now),
        )
        if row is None:
            return None
        cursor = db.execute(
            "UPDATE staff_login_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL",
            (now, _hash(code)),
        )
        if not cursor.rowcount:
            return None
        staff = db.one(
            "SELECT 1 FROM clinic_staff WHERE clinic_id = ? AND user_id = ?", (row[0], row[1])
        )
    return (int(row[0]), str(row[1])) if staff else None


# ---------------------------------------------------------------- web sessions


@dataclass(frozen=True, slots=True)
class WebStaff:
    """A signed-in staff member, as every dashboard request sees them."""

    clinic_id: int
    user_id: str
    role: str
    csrf: str
    token_hash: str

    @property
    def admin(self) -> bool:
        return self.role == "admin"


def open_session(db: Database, clinic_id: int, user_id: str, now: float) -> str:
    """A new session's cookie value (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    with db.transaction():
        db.execute("DELETE FROM staff_web_sessions WHERE expires_at <= ?", (now,))
        db.execute(
            "INSERT INTO staff_web_sessions"
            " (token_hash, clinic_id, user_id, csrf, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (_hash(token), clinic_id, user_id, secrets.token_urlsafe(32), now, now + SESSION_TTL),
        )
    return token


def session_of(db: Database, token: str, now: float) -> WebStaff | None:
    """The staff member behind a cookie value, if the session is live and they are still
    staff of its clinic."""
    if not token or len(token) > 128:
        return None
    row = db.one(
        "SELECT s.clinic_id, s.user_id, c.role, s.csrf, s.token_hash FROM staff_web_sessions s"
        " JOIN clinic_staff c ON c.clinic_id = s.clinic_id AND c.user_id = s.user_id"
        " WHERE s.token_hash = ? AND s.expires_at > ?",
        (_hash(token), now),
    )
    return WebStaff(int(row[0]), row[1], row[2], row[3], row[4]) if row else None


def csrf_ok(staff: WebStaff, given: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), staff.csrf.encode())


def close_session(db: Database, staff: WebStaff) -> None:
    with db.transaction():
        db.execute("DELETE FROM staff_web_sessions WHERE token_hash = ?", (staff.token_hash,))


def close_everywhere(db: Database, user_id: str) -> int:
    """End every web session of this person, in every clinic."""
    with db.transaction():
        cursor = db.execute("DELETE FROM staff_web_sessions WHERE user_id = ?", (user_id,))
    return int(cursor.rowcount)


# ---------------------------------------------------------------- the audit log


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: float
    actor: str
    action: str
    detail: str


def audit(
    db: Database, clinic_id: int, actor: str, action: str, now: float, detail: str = ""
) -> None:
    if action not in AUDITED:
        raise ValueError(f"audit action {action!r} is not one of {AUDITED}")
    db.execute(
        "INSERT INTO clinic_audit (clinic_id, actor, action, detail, at) VALUES (?, ?, ?, ?, ?)",
        (clinic_id, actor, action, detail[:200], now),
    )


def audit_log(db: Database, clinic_id: int, limit: int = 200) -> list[AuditEntry]:
    rows = db.all(
        "SELECT at, actor, action, detail FROM clinic_audit WHERE clinic_id = ?"
        " ORDER BY id DESC LIMIT ?",
        (clinic_id, limit),
    )
    return [AuditEntry(float(r[0]), r[1], r[2], r[3]) for r in rows]


# ---------------------------------------------------------------- red-flag alerts


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    patient_ref: str
    urgent: bool
    at: float
    acked_by: str | None
    acked_at: float | None


def record_alerts(db: Database, user_id: str, urgent: bool, now: float) -> int:
    """One inbox row per clinic that asked for alerts and knows this patient by a REF
    (the same clinics ``bot.features.privacy.chat.alert_clinics`` messages)."""
    if "clinic_alert_optins" not in db.tables():
        return 0
    links = db.all(
        "SELECT p.clinic_id, p.patient_ref FROM clinic_patients p"
        " JOIN clinic_alert_optins o ON o.clinic_id = p.clinic_id"
        " WHERE p.user_id = ? AND p.opted_in = 1 AND p.left_at IS NULL"
        " AND p.patient_ref IS NOT NULL AND p.patient_ref != ''",
        (user_id,),
    )
    db.executemany(
        "INSERT INTO clinic_alerts (clinic_id, user_id, patient_ref, urgent, at)"
        " VALUES (?, ?, ?, ?, ?)",
        [(int(c), user_id, str(ref), int(urgent), now) for c, ref in links],
    )
    return len(links)


def alerts(db: Database, clinic_id: int, limit: int = 200) -> list[Alert]:
    rows = db.all(
        "SELECT id, patient_ref, urgent, at, acked_by, acked_at FROM clinic_alerts"
        " WHERE clinic_id = ? ORDER BY at DESC, id DESC LIMIT ?",
        (clinic_id, limit),
    )
    return [Alert(int(r[0]), r[1], bool(r[2]), float(r[3]), r[4], r[5]) for r in rows]


def has_alert(db: Database, clinic_id: int, alert_id: int) -> bool:
    row = db.one(
        "SELECT 1 FROM clinic_alerts WHERE clinic_id = ? AND id = ?", (clinic_id, alert_id)
    )
    return row is not None


def open_alerts(db: Database, clinic_id: int) -> int:
    row = db.one(
        "SELECT count(*) FROM clinic_alerts WHERE clinic_id = ? AND acked_at IS NULL",
        (clinic_id,),
    )
    return int(row[0])


def acknowledge(db: Database, clinic_id: int, alert_id: int, by: str, now: float) -> bool:
    with db.transaction():
        cursor = db.execute(
            "UPDATE clinic_alerts SET acked_by = ?, acked_at = ?"
            " WHERE clinic_id = ? AND id = ? AND acked_at IS NULL",
            (by, now, clinic_id, alert_id),
        )
        if cursor.rowcount:
            audit(db, clinic_id, by, "alert-acknowledged", now, f"alert {alert_id}")
    return bool(cursor.rowcount)


def erase_user(db: Database, user_id: str) -> None:
    """/delete: the person's alert rows and sharing consent (the clinic keeps no trace); as
    staff, their sign-in codes and web sessions; audit entries stay, without their id."""
    db.execute("DELETE FROM clinic_alerts WHERE user_id = ?", (user_id,))
    db.execute("DELETE FROM clinic_share_consents WHERE user_id = ?", (user_id,))
    db.execute("DELETE FROM staff_login_codes WHERE user_id = ?", (user_id,))
    db.execute("DELETE FROM staff_web_sessions WHERE user_id = ?", (user_id,))
    db.execute("UPDATE clinic_audit SET actor = '' WHERE actor = ?", (user_id,))
    db.execute("UPDATE clinic_alerts SET acked_by = '' WHERE acked_by = ?", (user_id,))


def export_user(db: Database, user_id: str) -> dict[str, object]:
    """/mydata: which clinics the person shares their check-ins with (and since when)."""
    rows = db.all(
        "SELECT c.name, s.version, s.given_at, s.withdrawn_at FROM clinic_share_consents s"
        " JOIN clinics c ON c.id = s.clinic_id WHERE s.user_id = ? ORDER BY c.id",
        (user_id,),
    )
    return {
        "shares_checkins_with": [
            {"clinic": r[0], "version": r[1], "given_at": r[2], "stopped_at": r[3]} for r in rows
        ]
    }


# ---------------------------------------------------------------- the overview


@dataclass(frozen=True, slots=True)
class Overview:
    linked: int
    active_7: int
    active_30: int
    funnel: tuple[tuple[str, int], ...]
    reminders_on: int

    def shown(self) -> dict[str, str]:
        """Every count as staff may see it ("<5" below 5)."""
        return {
            "linked": shown(self.linked),
            "active_7": shown(self.active_7),
            "active_30": shown(self.active_30),
            "reminders_on": shown(self.reminders_on),
        }


FUNNEL = (
    ("Joined the clinic", None),
    ("Agreed to the privacy terms", "consent_given"),
    ("Finished the symptom check", "check_finished"),
)


def overview(db: Database, clinic_id: int, now: float) -> Overview:
    """Every count in one pass over the clinic's linked patients (one index probe per table
    and patient), so the page stays quick with thousands of patients."""
    tables = set(db.tables())
    parts = [
        "CASE WHEN s.updated_at >= ? THEN 1 ELSE 0 END",
        "CASE WHEN s.updated_at >= ? THEN 1 ELSE 0 END",
    ]
    params: list[object] = [now - 7 * 86400.0, now - 30 * 86400.0]
    labels = []
    for label, kind in FUNNEL[1:]:
        parts.append(_exists("journal j", "j.kind = ? AND j.user_id = p.user_id"))
        params.append(kind)
        labels.append(label)
    if "checkin_answers" in tables:
        parts.append(_exists("checkin_answers c", "c.user_id = p.user_id"))
        labels.append(CHECKED_IN)
    if "reminders" in tables:
        parts.append(_exists("reminders r", "r.user_id = p.user_id AND r.next_due_utc IS NOT NULL"))
    sums = ", ".join(f"COALESCE(sum({part}), 0)" for part in parts)
    row = db.one(
        f"SELECT count(*), {sums} FROM clinic_patients p"
        " LEFT JOIN sessions s ON s.user_id = p.user_id"
        " WHERE p.clinic_id = ? AND p.opted_in = 1",
        (*params, clinic_id),
    )
    counts = [int(n) for n in row]
    linked, active_7, active_30 = counts[0], counts[1], counts[2]
    steps = counts[3 : 3 + len(labels)]
    funnel = ((FUNNEL[0][0], linked), *zip(labels, steps, strict=True))
    reminders_on = counts[3 + len(labels)] if "reminders" in tables else 0
    return Overview(linked, active_7, active_30, tuple(funnel), reminders_on)


CHECKED_IN = "Sent a progress check-in"


def _exists(table: str, condition: str) -> str:
    return f"CASE WHEN EXISTS (SELECT 1 FROM {table} WHERE {condition}) THEN 1 ELSE 0 END"


def _count(db: Database, sql: str, params: Sequence[object]) -> int:
    return int(db.one(sql, tuple(params))[0])


# ---------------------------------------------------------------- patients who share


@dataclass(frozen=True, slots=True)
class SharedPatient:
    ref: str
    last_checkin: float | None
    reminders_on: bool
    followup_start: str | None


def give_share(db: Database, clinic_id: int, user_id: str, now: float) -> None:
    """The patient agreed to share their progress with the clinic (``SHARE_VERSION``)."""
    db.execute(
        "INSERT INTO clinic_share_consents (clinic_id, user_id, version, given_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (clinic_id, user_id) DO UPDATE SET"
        " version = excluded.version, given_at = excluded.given_at, withdrawn_at = NULL",
        (clinic_id, user_id, SHARE_VERSION, now),
    )


def withdraw_share(db: Database, clinic_id: int, user_id: str, now: float) -> bool:
    cursor = db.execute(
        "UPDATE clinic_share_consents SET withdrawn_at = ?"
        " WHERE clinic_id = ? AND user_id = ? AND withdrawn_at IS NULL",
        (now, clinic_id, user_id),
    )
    return bool(cursor.rowcount)


def shares(db: Database, clinic_id: int, user_id: str) -> bool:
    row = db.one(
        "SELECT 1 FROM clinic_share_consents WHERE clinic_id = ? AND user_id = ?"
        " AND withdrawn_at IS NULL AND version = ?",
        (clinic_id, user_id, SHARE_VERSION),
    )
    return row is not None


_SHARING = (
    " FROM clinic_patients p JOIN clinic_share_consents s"
    " ON s.clinic_id = p.clinic_id AND s.user_id = p.user_id"
    " WHERE p.clinic_id = ? AND p.opted_in = 1 AND s.withdrawn_at IS NULL AND s.version = ?"
    " AND p.patient_ref IS NOT NULL AND p.patient_ref != ''"
)


def shared_patients(db: Database, clinic_id: int) -> tuple[list[SharedPatient], int]:
    """Patients who share their progress (by REF), and how many linked patients do not."""
    tables = set(db.tables())
    last = (
        "(SELECT max(c.at) FROM checkin_answers c WHERE c.user_id = p.user_id)"
        if "checkin_answers" in tables
        else "NULL"
    )
    on = (
        "EXISTS (SELECT 1 FROM reminders r WHERE r.user_id = p.user_id"
        " AND r.next_due_utc IS NOT NULL)"
        if "reminders" in tables
        else "0"
    )
    start = (
        "(SELECT rp.followup_start FROM reminder_people rp WHERE rp.user_id = p.user_id)"
        if "reminder_people" in tables
        else "NULL"
    )
    rows = db.all(
        f"SELECT p.patient_ref, {last}, {on}, {start}" + _SHARING + " ORDER BY p.patient_ref",
        (clinic_id, SHARE_VERSION),
    )
    found = [SharedPatient(r[0], r[1], bool(r[2]), r[3]) for r in rows]
    linked = _count(
        db,
        "SELECT count(*) FROM clinic_patients WHERE clinic_id = ? AND opted_in = 1",
        (clinic_id,),
    )
    return found, max(0, linked - len(found))


def sharing_user(db: Database, clinic_id: int, ref: str) -> str | None:
    """The user behind a REF, only if they share their progress with this clinic."""
    row = db.one(
        "SELECT p.user_id" + _SHARING + " AND p.patient_ref = ?", (clinic_id, SHARE_VERSION, ref)
    )
    return str(row[0]) if row else None


# ---------------------------------------------------------------- broadcast progress


@dataclass(frozen=True, slots=True)
class Progress:
    state: str
    total: int
    sent: int
    waiting: int  # held for the recipient's quiet hours (due later)
    queued: int  # due now, on its way
    blocked: int
    failed: int
    skipped: int
    no_language: int = 0  # not sent: the broadcast has no text in their language

    @property
    def done(self) -> int:
        return self.sent + self.blocked + self.failed + self.skipped + self.no_language

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else int(100 * self.done // self.total)

    def as_json(self) -> dict[str, object]:
        """Counts under 5 are shown as "<5"; the percentage is exact (it names nobody)."""
        return {
            "state": self.state,
            "percent": self.percent,
            "finished": self.state in ("done", "cancelled"),
            "total": shown(self.total),
            "sent": shown(self.sent),
            "waiting": shown(self.waiting),
            "queued": shown(self.queued),
            "blocked": shown(self.blocked),
            "failed": shown(self.failed),
            "skipped": shown(self.skipped),
            "no_language": shown(self.no_language),
        }


def progress(db: Database, clinic_id: int, broadcast_id: int, now: float) -> Progress | None:
    state = db.one(
        "SELECT state FROM clinic_broadcasts WHERE clinic_id = ? AND id = ? AND state != 'draft'",
        (clinic_id, broadcast_id),
    )
    if state is None:
        return None
    rows = db.all(
        "SELECT state, CASE WHEN state = 'pending' AND due_at > ? THEN 1 ELSE 0 END, count(*)"
        " FROM clinic_deliveries WHERE clinic_id = ? AND broadcast_id = ? GROUP BY 1, 2",
        (now, clinic_id, broadcast_id),
    )
    counts: dict[str, int] = {}
    for delivery_state, later, n in rows:
        key = ("waiting" if later else "queued") if delivery_state == "pending" else delivery_state
        counts[key] = counts.get(key, 0) + int(n)
    return Progress(
        str(state[0]),
        sum(counts.values()),
        counts.get("sent", 0),
        counts.get("waiting", 0),
        counts.get("queued", 0),
        counts.get("blocked", 0),
        counts.get("failed", 0),
        counts.get("skipped", 0),
        counts.get(LANGUAGE_SKIPPED, 0),
    )


# ---------------------------------------------------------------- small helpers


def when(moment: float | None, zone: str = "UTC") -> str:
    if moment is None:
        return "-"
    from zoneinfo import ZoneInfo

    return datetime.fromtimestamp(moment, UTC).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def _html(text: str) -> str:
    from bot.telegram_html import escape

    return escape(text)


# ---------------------------------------------------------------- composing per language


def compose_languages(in_use: Mapping[str, int]) -> list[str]:
    """The languages the compose form asks a text for: English always, and every other
    language the bot speaks that at least one of the clinic's patients uses."""
    from bot.languages import SUPPORTED

    return [code for code in SUPPORTED if code == "en" or in_use.get(code)]


def text_field(language: str) -> str:
    """The compose form's field of a language's text (English keeps the plain ``text``)."""
    return "text" if language == "en" else f"text_{language}"


def composed_texts(form: Mapping[str, str], languages: Sequence[str]) -> dict[str, str]:
    """The non-empty texts of the form by language (English first)."""
    found = {code: form.get(text_field(code), "").strip() for code in languages}
    return {code: text for code, text in found.items() if text}


def stored_text(texts: Mapping[str, str], languages: Sequence[str]) -> str:
    """What the broadcast keeps: one text for all when the clinic's patients all use one
    language, else one text per language (patients in a language left empty are skipped)."""
    from bot.features.clinics.broadcast import encode_texts

    if len(languages) == 1:
        return texts.get(languages[0], "")
    return encode_texts(dict(texts))


# ---------------------------------------------------------------- the clinic's time zone


def clinic_zone(db: Database, clinic_id: int, default: str) -> str:
    """The clinic's time zone (a broadcast's "at" time is in it); ``default`` until set."""
    row = db.one("SELECT time_zone FROM clinic_zones WHERE clinic_id = ?", (clinic_id,))
    return str(row[0]) if row else default


def check_zone(name: str) -> str:
    """An IANA time zone name like Europe/Madrid; ValueError names the bad value."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = name.strip()
    try:
        if not name or name.startswith("/") or ".." in name:
            raise ValueError
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise ValueError(
            f"{name!r} is not a time zone: write a name like Europe/Madrid or America/Chicago"
        ) from None
    return name


def set_clinic_zone(db: Database, clinic_id: int, name: str, now: float) -> None:
    with db.transaction() as tx:
        tx.execute("DELETE FROM clinic_zones WHERE clinic_id = ?", (clinic_id,))
        tx.execute(
            "INSERT INTO clinic_zones (clinic_id, time_zone, updated_at) VALUES (?, ?, ?)",
            (clinic_id, name, now),
        )


__all__ = ["SMALL_COUNT"]
