"""Privacy in the chat and on the command line (a ``Feature``).

Chat
    ``/privacy`` shows the policy (``flows/privacy.yaml``, see ``bot.features.privacy.rules``); ``/mydata``
    sends everything stored about the person as a JSON file; ``/delete`` asks for a confirm
    button, then erases every row about the person in every table (``delete_user`` runs each
    store's eraser). ``/withdraw`` is a route of the hip flow (its step runs
    ``withdraw_consent``); this feature does the storing side of it.

Effects of the flow, applied in the turn's own transaction
    ``consent_given``      a consent row: the person, the policy version, the time;
    ``consent_withdrawn``  the consent ends, and the health records kept here go at once:
                           red-flag notes, every red-flag answer and their journal entries (the action clears the
                           answers from the session; other stores handle this effect for
                           theirs, e.g. check-in history in ``bot.features.reminders.chat``);
    ``answers_cleared``    with ``erase: everything`` (someone under 16): every record of the
                           person goes, the session included, so nothing about them is kept;
    ``red_flag``           an audit row (sealed), and where the person is linked to a clinic
                           that asked for alerts (``hipbot alerts on CLINIC``), a message to
                           each of its staff naming the patient only by the clinic's own
                           reference. The red-flag questions tell people this first.

Retention
    A daily job (and ``hipbot purge``) erases people inactive for longer than
    ``HIPBOT_RETENTION_DAYS`` (default 365): no turn of theirs since then.

Keys
    ``hipbot keys new`` prints a data key; ``hipbot keys rotate`` seals everything again with
    a new key (see ``bot.crypto``).

Sent messages to a chat that has no session any more (erased, or under 16) are deleted from
the outbox once Telegram has them, so the "all erased" message itself leaves nothing behind.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from bot import crypto, logs, outgoing, texts
from bot.features import Context, Document, Ports, Response, button
from bot.features.privacy.rules import (
    answers_with_times,
    clinic_alert_text,
    export_document,
    inactive_since,
    iso,
    render_policy,
)
from bot.model import Effect, Reply, Session
from bot.storage.db import Database
from bot.storage.sql import SqlStorage, insert_outbox

log = logging.getLogger("hipbot.privacy")

STORE = "privacy"
MIGRATIONS: list[str] = [
    # 1: consents, the red-flag audit, clinics' alert opt-ins, when the daily jobs last ran
    """
    CREATE TABLE consents (
        id             {id},
        user_id        TEXT NOT NULL,
        policy_version INTEGER NOT NULL,
        given_at       {real} NOT NULL,
        withdrawn_at   {real}
    );
    CREATE INDEX consents_user ON consents (user_id, id);
    CREATE TABLE red_flag_audit (
        id              {id},
        user_id         TEXT NOT NULL,
        data            TEXT NOT NULL,
        at              {real} NOT NULL,
        clinics_alerted INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX red_flag_audit_user ON red_flag_audit (user_id, id);
    CREATE TABLE clinic_alert_optins (
        clinic_id INTEGER PRIMARY KEY,
        since     {real} NOT NULL
    );
    CREATE TABLE privacy_jobs (
        name     TEXT PRIMARY KEY,
        last_run {real} NOT NULL
    );
    """,
    # 2: every answer to the red-flag screen, yes or no (clinical.md: the audit trail)
    """
    CREATE TABLE red_flag_answers (
        id      {id},
        user_id TEXT NOT NULL,
        data    TEXT NOT NULL,
        at      {real} NOT NULL
    );
    CREATE INDEX red_flag_answers_user ON red_flag_answers (user_id, id);
    """,
]
KEY = "pv"  # button key: x:pv:erase, x:pv:keep
ALERT_PRIORITY = 0  # as fast as a reply: staff should call soon
PURGE_EVERY = 86400.0


# ---------------------------------------------------------------- setup

Handler = Callable[[Database, Session, Effect, float], None]


def setup(ports: Ports) -> None:
    storage = ports.storage
    storage.db.migrate(STORE, MIGRATIONS)
    if storage.db.dialect == "sqlite":
        storage.db.execute("PRAGMA secure_delete = ON")  # erased rows are zeroed on disk
    crypto.sealed_column("red_flag_audit", "id", "data")
    crypto.sealed_column("red_flag_answers", "id", "data")
    logs.set_pepper(storage.codec.pepper())
    handlers: dict[str, Handler] = {
        "consent_given": on_consent,
        "consent_withdrawn": on_withdrawn,
        "answers_cleared": _on_cleared(storage),
        "red_flag": on_red_flag,
        "answer_audited": on_audited_answer,
    }
    for name, handler in handlers.items():
        storage.on_effect(name, handler)
    storage.erasers.append(erase_user)
    storage.exporters["privacy"] = export_user
    storage.outcome_hooks.append(forget_delivered)
    codec = storage.codec
    if codec.path is not None and codec.path == crypto.default_key_file(storage.db.path):
        log.info(
            "data key file beside the database; in production keep it elsewhere",
            extra={"event": "data_key_beside_database"},
        )


# ---------------------------------------------------------------- effects


def on_consent(db: Database, session: Session, effect: Effect, now: float) -> None:
    version = effect.args.get("policy_version")
    db.execute(
        "INSERT INTO consents (user_id, policy_version, given_at) VALUES (?, ?, ?)",
        (session.user_id, version if isinstance(version, int) else 0, now),
    )


def on_withdrawn(db: Database, session: Session, effect: Effect, now: float) -> None:
    """Consent ends and every health record of the person goes, in the same transaction."""
    withdraw(db, session.user_id, now)


def withdraw(db: Database, user_id: str, now: float) -> None:
    db.execute(
        "UPDATE consents SET withdrawn_at = ? WHERE user_id = ? AND withdrawn_at IS NULL",
        (now, user_id),
    )
    db.execute(  # the effects that carry answers: red flags and audited red-flag answers
        "DELETE FROM journal WHERE user_id = ? AND kind IN ('red_flag', 'answer_audited')",
        (user_id,),
    )
    db.execute("DELETE FROM red_flag_audit WHERE user_id = ?", (user_id,))
    db.execute("DELETE FROM red_flag_answers WHERE user_id = ?", (user_id,))
    if user_id.lstrip("-").isdigit():  # sent messages may quote answers (the summary)
        db.execute("DELETE FROM outbox WHERE chat_id = ? AND state <> 'pending'", (int(user_id),))


def _on_cleared(storage: SqlStorage) -> Handler:
    def on_cleared(db: Database, session: Session, effect: Effect, now: float) -> None:
        """``clear_answers`` with ``erase: everything`` (under 16): keep nothing at all."""
        if effect.args.get("erase") == "everything":
            storage.delete_user(session.user_id)  # joins the turn's transaction
            log.info("person erased", extra={"event": "erased_minor"})

    return on_cleared


def on_audited_answer(db: Database, session: Session, effect: Effect, now: float) -> None:
    """Every answer to a red-flag question, yes or no, goes to the audit trail (sealed)."""
    data = {
        "flag": effect.args.get("name"),
        "answer": effect.args.get("value"),
        "step": effect.args.get("step"),
    }
    db.execute(
        "INSERT INTO red_flag_answers (user_id, data, at) VALUES (?, ?, ?)",
        (session.user_id, crypto.encrypt_json(db, data), now),
    )


def on_red_flag(db: Database, session: Session, effect: Effect, now: float) -> None:
    """Audit the red flag; alert the staff of linked clinics that asked for alerts."""
    data = {"flag": effect.args.get("flag"), "step": effect.args.get("step", session.step)}
    row = db.one(
        "INSERT INTO red_flag_audit (user_id, data, at) VALUES (?, ?, ?) RETURNING id",
        (session.user_id, crypto.encrypt_json(db, data), now),
    )
    alerted = alert_clinics(db, session.user_id, now, bool(effect.args.get("urgent", True)))
    if alerted:
        db.execute(
            "UPDATE red_flag_audit SET clinics_alerted = ? WHERE id = ?", (alerted, int(row[0]))
        )
    log.info("red flag", extra={"event": "red_flag", "count": alerted})


def alert_clinics(db: Database, user_id: str, now: float, urgent: bool = True) -> int:
    """Queue "patient REF reported an urgent symptom" to the staff of every clinic the person
    is linked to with the clinic's own reference, where the clinic opted in to alerts.
    Reads the clinics store's tables (``bot.features.clinics.store``); none there: nobody to tell."""
    tables = set(db.tables())
    if not {"clinic_patients", "clinic_staff"} <= tables:
        return 0
    links = db.all(
        "SELECT p.clinic_id, p.patient_ref FROM clinic_patients p"
        " JOIN clinic_alert_optins o ON o.clinic_id = p.clinic_id"
        " WHERE p.user_id = ? AND p.opted_in = 1 AND p.left_at IS NULL"
        " AND p.patient_ref IS NOT NULL AND p.patient_ref != ''",
        (user_id,),
    )
    rows = []
    for clinic_id, ref in links:
        text = clinic_alert_text(str(ref), urgent)
        for (staff,) in db.all(
            "SELECT user_id FROM clinic_staff WHERE clinic_id = ? ORDER BY user_id", (clinic_id,)
        ):
            if str(staff).lstrip("-").isdigit() and str(staff) != user_id:
                chat = int(staff)
                rows += outgoing.say(chat, text, kind="clinic_alert")
    insert_outbox(db, rows, now, priority=ALERT_PRIORITY)
    return len(rows)


def erase_user(db: Database, user_id: str) -> None:
    """/delete: consents and red-flag notes."""
    db.execute("DELETE FROM consents WHERE user_id = ?", (user_id,))
    db.execute("DELETE FROM red_flag_audit WHERE user_id = ?", (user_id,))
    db.execute("DELETE FROM red_flag_answers WHERE user_id = ?", (user_id,))


def export_user(db: Database, user_id: str) -> dict[str, Any]:
    """/mydata: consents, red-flag notes and messages, with times."""
    consents = db.all(
        "SELECT policy_version, given_at, withdrawn_at FROM consents WHERE user_id = ? ORDER BY id",
        (user_id,),
    )
    flags = db.all(
        "SELECT data, at, clinics_alerted FROM red_flag_audit WHERE user_id = ? ORDER BY id",
        (user_id,),
    )
    answers = db.all(
        "SELECT data, at FROM red_flag_answers WHERE user_id = ? ORDER BY id", (user_id,)
    )
    chat = int(user_id) if user_id.lstrip("-").isdigit() else None
    messages = db.all(
        "SELECT method, state, created_at, sent_at FROM outbox WHERE chat_id = ? ORDER BY id",
        (chat,),
    )
    return {
        "consents": [
            {"policy_version": v, "given_at": iso(given), "withdrawn_at": iso(withdrawn)}
            for v, given, withdrawn in consents
        ],
        "red_flag_answers": [
            {**crypto.decrypt_json(db, data), "at": iso(at)} for data, at in answers
        ],
        "red_flags": [
            {
                "flag": crypto.decrypt_json(db, data).get("flag"),
                "at": iso(at),
                "clinics_alerted": int(alerted),
            }
            for data, at, alerted in flags
        ],
        "messages_to_you": [
            {"kind": method, "state": state, "created_at": iso(made), "sent_at": iso(sent)}
            for method, state, made, sent in messages
        ],
    }


def forget_delivered(
    db: Database, chat_id: int, params: dict[str, Any], state: str, error: str
) -> None:
    """Once Telegram has it, nothing is kept of a message to a chat with no session (erased,
    under 16, never started), nor of a /mydata file (a second copy of everything)."""
    if state != "sent":
        return
    if db.one("SELECT 1 FROM sessions WHERE user_id = ?", (str(chat_id),)) is None:
        db.execute("DELETE FROM outbox WHERE chat_id = ? AND state = 'sent'", (chat_id,))
    elif "filename" in params:  # a file (bot.outgoing.document)
        db.execute(
            # (a file queued before the neutral outbox is left to the SENT_KEPT purge)
            "DELETE FROM outbox WHERE chat_id = ? AND state = 'sent' AND method = 'document'",
            (chat_id,),
        )


# ---------------------------------------------------------------- commands


def privacy_command(ctx: Context) -> Response:
    """/privacy: the bot's own policy."""
    policy = ctx.engine.bundle.policy
    if policy is None:
        return Response([Reply(texts.NO_POLICY.get(ctx.language))])
    pages = render_policy(policy, ctx.language, ctx.loaded.settings.retention_days)
    return Response([Reply(text, step="privacy") for text in pages])


def mydata_command(ctx: Context) -> Response:
    """/mydata: everything stored about the person, as a JSON file."""
    data = collect(ctx.storage, ctx.user_id)
    content = export_document(data, ctx.user_id, ctx.now, ctx.language)
    name = f"hipbot-my-data-{time.strftime('%Y%m%d', time.gmtime(ctx.now))}.json"
    return Response(documents=[Document(name, content, texts.MYDATA_CAPTION.get(ctx.language))])


def collect(storage: SqlStorage, user_id: str) -> dict[str, Any]:
    """Every store's export of one person, with the answers and when each was given."""
    data = storage.export_user(user_id)
    data["answers"] = answers_with_times(storage.session_record(user_id))
    return data


def delete_command(ctx: Context) -> Response:
    """/delete: ask first, with a confirm button."""
    buttons = (
        (button(KEY, "erase", texts.ERASE_LABEL.get(ctx.language)),),
        (button(KEY, "keep", texts.KEEP_LABEL.get(ctx.language)),),
    )
    return Response([Reply(texts.ASK_DELETE.get(ctx.language), buttons, step="delete")])


def delete_button(ctx: Context, argument: str) -> Response:
    """The answer to /delete's question."""
    if argument != "erase":
        return Response(edit=Reply(texts.KEPT.get(ctx.language), step="delete"))
    ctx.storage.delete_user(ctx.user_id)
    log.info(
        "person erased on request", extra={"event": "erased", "user": logs.hash_id(ctx.user_id)}
    )
    return Response(edit=Reply(texts.ERASED.get(ctx.language), step="delete"))


# ---------------------------------------------------------------- retention


def purge(
    storage: SqlStorage,
    now: float,
    days: int,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Erase every person with no turn for more than ``days`` days; how many.
    ``progress(done, total)`` hears each erasure."""
    cutoff = inactive_since(now, days)
    users = [
        row[0]
        for row in storage.db.all("SELECT user_id FROM sessions WHERE updated_at < ?", (cutoff,))
    ]
    if progress is not None:
        progress(len(users) if dry_run else 0, len(users))
    if not dry_run:
        for done, user in enumerate(users, start=1):
            storage.delete_user(user)
            if progress is not None:
                progress(done, len(users))
    return len(users)


SENT_KEPT = 2 * 24 * 3600.0  # seconds a sent or parked outbox row is kept


def purge_job(ports: Ports, now: float) -> int:
    """Once a day: erase people inactive longer than HIPBOT_RETENTION_DAYS."""
    storage = ports.storage
    row = storage.db.one("SELECT last_run FROM privacy_jobs WHERE name = 'purge'")
    if row is not None and now - float(row[0]) < PURGE_EVERY:
        return 0
    erased = purge(storage, now, ports.settings.retention_days)
    with storage.db.transaction() as db:
        # sent messages can quote answers (a summary): keep them only as long as a retry needs
        db.execute(
            "DELETE FROM outbox WHERE state <> 'pending' AND created_at < ?", (now - SENT_KEPT,)
        )
        db.execute(
            "INSERT INTO privacy_jobs (name, last_run) VALUES ('purge', ?)"
            " ON CONFLICT (name) DO UPDATE SET last_run = excluded.last_run",
            (now,),
        )
    log.info("retention purge", extra={"event": "purge", "count": erased})
    return 0  # nothing queued for the sender
