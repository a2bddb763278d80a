"""Clinics in the chat and on the command line (a ``Feature``).

Patients
    A clinic's deep link (``/start c_...``) or a personal link (``/start p_...``, carrying the
    clinic's own reference for one patient) makes the engine record a ``started`` effect; in
    that same transaction this feature queues a question: join the clinic's messages? (a yes
    button). ``/leave`` (or the button under every clinic message) ends the link.

Staff
    ``/broadcast`` (a wizard: text -> audience -> preview and count -> now or a local time ->
    confirm), ``/broadcasts`` (recent ones with their counts), ``/cancel`` (stop one still
    going) and ``/stats``. For anyone who is not staff these behave exactly like unknown
    commands (and their buttons like stale buttons): nothing tells a patient they exist.
    Roles: an *editor* writes and sends broadcasts and may stop their own; an *admin* may also
    stop any broadcast of the clinic. Staff see only their own clinics' broadcasts and counts,
    and every count below 5 as "<5". The wizard's state is a row (``clinic_wizards``) and the
    draft a broadcast row, so a restart in the middle loses nothing.

Command line
    ``hipbot clinic add|link|list``, ``hipbot staff add|list|remove``,
    ``hipbot broadcast --clinic C --audience A --text-file F [--at TIME] [--dry-run]`` and
    ``hipbot broadcast status ID``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

from bot import broadcast as bc
from bot import outgoing, texts
from bot.callbacks import small_number
from bot.clinics import (
    CLINIC_PREFIX,
    EVERYONE,
    PERSONAL_PREFIX,
    Audience,
    check_patient_ref,
    declined,
    deep_link,
    join_question,
    joined,
    left,
    load_audiences,
    not_from,
    not_linked,
    patient_message,
    shown_html,
    which_to_leave,
)
from bot.content import fill
from bot.errors import HipbotError
from bot.features import Context, Feature, Response, button
from bot.model import Effect, Event, Reply, ReplyButton, Session
from bot.settings import check_bot_username
from bot.storage.clinics import Broadcast, Clinic, ClinicStore
from bot.storage.db import Database
from bot.storage.sql import SqlStorage, insert_outbox
from bot.telegram_html import MAX_TEXT, HtmlProblem, check_html, escape

JOIN_PRIORITY = 1  # after the welcome the same /start queued (priority 0)
WIZARD = "bw"
STOP = "bx"
JOIN = "cj"
DECLINE = "cn"
LEAVE = bc.STOP_BUTTON

_EXAMPLES = ("<b>bold</b>", "<i>italic</i>", '<a href="https://example.org">a link</a>')
ASK_TEXT = (
    "Send me the message for your patients, as one message.\n"
    f"You can use Telegram's HTML: {', '.join(escape(e) for e in _EXAMPLES)}. "
    f"Write &amp; as {escape('&amp;')}."
)
ASK_TIME = (
    "Type the time, like 09:30 (or a date and time, like 2026-11-20 09:30).\n"
    "Each patient gets it at that time where they live, but never in their quiet hours."
)
OLD_DRAFT = "That button is from an older draft. Send /broadcast to start again."


def feature() -> Feature:
    return Feature(
        name="clinics",
        setup=setup,
        commands={
            "leave": leave_command,
            "broadcast": broadcast_command,
            "broadcasts": broadcasts_command,
            "cancel": cancel_command,
            "stats": stats_command,
        },
        descriptions={"leave": "Stop messages from a clinic"},
        buttons={
            JOIN: join_button,
            DECLINE: decline_button,
            LEAVE: leave_button,
            WIZARD: wizard_button,
            STOP: stop_button,
        },
        jobs=[sweep_job],
        cli=add_cli,
        text=read_text,
    )


def setup(storage: SqlStorage) -> None:
    store = ClinicStore(storage.db)
    store.migrate()
    storage.on_effect("started", on_started)
    storage.erasers.append(store.erase_user)
    storage.exporters["clinics"] = store.export_user
    storage.outcome_hooks.append(bc.Outcomes())


Handler = Callable[[Database, Session, Effect, float], None]


def sweep_job(storage: SqlStorage, now: float) -> int:
    return bc.sweep(storage, now)


# ---------------------------------------------------------------- patients


def on_started(db: Database, session: Session, effect: Effect, now: float) -> None:
    """/start with a clinic's code: ask (in the same transaction) to join its messages."""
    code = str(effect.args.get("payload", ""))
    if not code.startswith((CLINIC_PREFIX, PERSONAL_PREFIX)) or not session.user_id.isdigit():
        return
    store = ClinicStore(db)
    found = store.resolve_code(code, session.user_id)
    if found is None:
        return
    clinic, ref = found
    if ref is None and store.is_linked(clinic.id, session.user_id):
        return
    chat = int(session.user_id)
    buttons = (
        (ReplyButton(texts.JOIN_LABEL.get(), f"x:{JOIN}:{code}"),),
        (ReplyButton(texts.DECLINE_LABEL.get(), f"x:{DECLINE}:{code}"),),
    )
    question = Reply(join_question(clinic.name), buttons, step="clinic_join")
    insert_outbox(db, outgoing.say(chat, question), now, priority=JOIN_PRIORITY)


def join_button(ctx: Context, code: str) -> Response:
    store = ClinicStore(ctx.storage.db)
    found = store.resolve_code(code, ctx.user_id)
    if found is None:
        return Response(edit=Reply(ctx.engine.text(texts.LINK_GONE).get(ctx.language)))
    clinic, ref = found
    store.link(clinic.id, ctx.user_id, ref, ctx.now)
    said = joined(clinic.name, ctx.language)
    if ref and _alerts_on(ctx.storage.db, clinic.id):  # what /urgent means for this patient
        note = ctx.engine.text(texts.ALERTS_NOTE).get(ctx.language)
        said += "\n\n" + fill(note, clinic=escape(clinic.name))
    return Response(edit=Reply(said))


def _alerts_on(db: Database, clinic_id: int) -> bool:
    """Whether the clinic asked for red-flag alerts (``hipbot alerts on``, bot.privacy_feature)."""
    if "clinic_alert_optins" not in db.tables():
        return False
    found = db.one("SELECT 1 FROM clinic_alert_optins WHERE clinic_id = ?", (clinic_id,))
    return found is not None


def decline_button(ctx: Context, argument: str) -> Response:
    """No thanks: named only for someone who opened the clinic's link (the button carries
    the link's code; older buttons carry the clinic's id, checked against the person's
    /start), so a forged press tells a stranger nothing."""
    store = ClinicStore(ctx.storage.db)
    found = store.resolve_code(argument, ctx.user_id)
    clinic = found[0] if found else None
    clinic_id = small_number(argument)
    if clinic is None and clinic_id is not None and clinic_id in _opened(ctx, store):
        clinic = store.clinic(clinic_id)
    return Response(edit=Reply(declined(clinic.name if clinic else "the clinic", ctx.language)))


def _opened(ctx: Context, store: ClinicStore) -> set[int]:
    """The clinics whose links this person opened (their /start payloads)."""
    codes = {str(data.get("payload", "")) for kind, data in ctx.storage.journal(ctx.user_id)}
    found = (store.resolve_code(code, ctx.user_id) for code in codes if code)
    return {hit[0].id for hit in found if hit is not None}


def leave_command(ctx: Context) -> Response:
    """/leave: no more messages from a clinic (asks which one when there are several)."""
    links = [
        (c, link) for c, link in ClinicStore(ctx.storage.db).links_of(ctx.user_id) if link.opted_in
    ]
    if not links:
        return Response(replies=[Reply(not_linked(ctx.language))])
    if len(links) == 1:
        return leave_button(ctx, str(links[0][0].id))
    rows = tuple((button(LEAVE, str(c.id), c.name[:60]),) for c, _ in links)
    return Response(replies=[Reply(which_to_leave(ctx.language), rows)])


def leave_button(ctx: Context, argument: str) -> Response:
    store = ClinicStore(ctx.storage.db)
    mine = {clinic.id: clinic for clinic, _ in store.links_of(ctx.user_id)}
    clinic = mine.get(small_number(argument) or 0)  # only the person's own clinics are named
    if clinic is None or not store.leave(clinic.id, ctx.user_id, ctx.now):
        name = clinic.name if clinic else "this clinic"
        return Response(replies=[Reply(not_from(name, ctx.language))])
    return Response(replies=[Reply(left(clinic.name, ctx.language))])


# ---------------------------------------------------------------- staff: helpers


def _not_staff(ctx: Context, name: str) -> Response:
    """Exactly what the engine answers to an unknown command."""
    return Response(then=Event.command_named(name, ctx.args))


def _stale_button(key: str, argument: str) -> Response:
    """Exactly what the engine answers to a button it does not know."""
    return Response(then=Event.button(f"x:{key}:{argument}"))


def _roles(ctx: Context) -> dict[int, str]:
    return ClinicStore(ctx.storage.db).roles_of(ctx.user_id)


@lru_cache(maxsize=8)
def _audiences_in(folder: str, saved: frozenset[str]) -> dict[str, Audience]:
    return load_audiences(folder, set(saved))


def audiences(ctx: Context) -> dict[str, Audience]:
    """``all`` and the named audiences of the flows folder (``ctx.settings['flows_dir']``)."""
    from bot.settings import default_flows_dir

    folder = str(ctx.settings.get("flows_dir") or default_flows_dir())
    saved = frozenset(ctx.engine.questions) if ctx.engine is not None else frozenset()
    return _audiences_in(folder, saved)


def _cancel_row(draft: int) -> tuple[ReplyButton, ...]:
    return (button(WIZARD, f"q.{draft}", "Cancel"),)


# ---------------------------------------------------------------- staff: the wizard


def broadcast_command(ctx: Context) -> Response:
    """/broadcast: write a message to the clinic's patients, step by step."""
    roles = _roles(ctx)
    if not roles:
        return _not_staff(ctx, "broadcast")
    if len(roles) == 1:
        return _start_draft(ctx, next(iter(roles)))
    store = ClinicStore(ctx.storage.db)
    store.save_wizard(ctx.user_id, {"step": "clinic"}, ctx.now)
    rows = []
    for clinic_id in roles:
        clinic = store.clinic(clinic_id)
        if clinic is not None:
            rows.append((button(WIZARD, f"c.0.{clinic_id}", clinic.name[:60]),))
    return Response(replies=[Reply("Which clinic is this message from?", tuple(rows))])


def _start_draft(ctx: Context, clinic_id: int) -> Response:
    store = ClinicStore(ctx.storage.db)
    draft = store.create_draft(clinic_id, ctx.user_id, ctx.now)
    store.save_wizard(ctx.user_id, {"step": "text", "clinic": clinic_id, "draft": draft}, ctx.now)
    return Response(replies=[Reply(ASK_TEXT, (_cancel_row(draft),))])


def _wizard_state(ctx: Context) -> dict[str, Any] | None:
    """The person's open wizard, if they are still staff of its clinic."""
    store = ClinicStore(ctx.storage.db)
    state = store.wizard(ctx.user_id)
    if state is None:
        return None
    if state.get("step") != "clinic" and state.get("clinic") not in _roles(ctx):
        store.clear_wizard(ctx.user_id)
        return None
    return state


def read_text(ctx: Context, text: str) -> Response | None:
    """The wizard's typed answers: the message text, or the time to send it."""
    state = _wizard_state(ctx)
    if state is None or state.get("step") not in ("text", "time"):
        return None
    if text.strip().startswith("/"):
        return None
    store = ClinicStore(ctx.storage.db)
    clinic_id, draft = int(state["clinic"]), int(state["draft"])
    if state["step"] == "text":
        problem = message_problem(store, clinic_id, text)
        if problem:
            return Response(replies=[Reply(problem, (_cancel_row(draft),))])
        store.update_draft(clinic_id, draft, text=text.strip())
        store.save_wizard(ctx.user_id, {**state, "step": "audience"}, ctx.now)
        return Response(replies=[_audience_question(ctx, draft)])
    try:
        at = bc.parse_local_time(text)
    except ValueError as error:
        return Response(replies=[Reply(f"{escape(error)}.", (_cancel_row(draft),))])
    store.update_draft(clinic_id, draft, at_time=str(at))
    store.save_wizard(ctx.user_id, {**state, "step": "confirm"}, ctx.now)
    return Response(replies=[_confirm_question(ctx, clinic_id, draft)])


def message_problem(store: ClinicStore, clinic_id: int, text: str) -> str:
    """Why a broadcast text cannot go as it is (empty, bad HTML, too long); "" if it can."""
    if not text.strip():
        return "The message is empty. Please send the text for your patients."
    try:
        check_html(text)
    except HtmlProblem as error:
        return f"Telegram would refuse this text: {escape(error)}. Please fix it and send it again."
    clinic = store.clinic(clinic_id)
    full = patient_message(clinic.name if clinic else "", text.strip(), bc.stop_data(clinic_id))
    length = len(check_html(full.text))
    if length > MAX_TEXT:
        return (
            f"The message is {length} characters with the clinic's name; Telegram allows "
            f"{MAX_TEXT}. Please make it shorter and send it again."
        )
    return ""


def _audience_question(ctx: Context, draft: int) -> Reply:
    rows = [
        (button(WIZARD, f"a.{draft}.{audience.id}", audience.label[:60]),)
        for audience in audiences(ctx).values()
    ]
    return Reply("Who should get it?", (*rows, _cancel_row(draft)))


def _confirm_question(ctx: Context, clinic_id: int, draft_id: int) -> Reply:
    store = ClinicStore(ctx.storage.db)
    draft = store.broadcast(clinic_id, draft_id)
    audience = audiences(ctx).get(draft.audience if draft else "", EVERYONE)
    count = len(bc.recipients(ctx.storage, clinic_id, audience, ctx.now))
    when = (
        f"at {draft.at_time}, in each patient's own time zone" if draft and draft.at_time else "now"
    )
    return Reply(
        f"Send it to {shown_html(count)} patients ({escape(audience.label)}) {when}?",
        ((button(WIZARD, f"y.{draft_id}", "Yes, send it"),), _cancel_row(draft_id)),
    )


def wizard_button(ctx: Context, argument: str) -> Response:
    action, _, rest = argument.partition(".")
    draft_text, _, value = rest.partition(".")
    state = _wizard_state(ctx)
    if state is None:
        return _stale_button(WIZARD, argument) if not _roles(ctx) else _old_draft()
    if action == "c":
        chosen = small_number(value)
        if state.get("step") != "clinic" or chosen is None or chosen not in _roles(ctx):
            return _old_draft()
        return _start_draft(ctx, chosen)
    if small_number(draft_text) != state.get("draft") or state.get("draft") is None:
        return _old_draft()
    store = ClinicStore(ctx.storage.db)
    clinic_id, draft_id = int(state["clinic"]), int(state["draft"])
    draft = store.broadcast(clinic_id, draft_id)
    if draft is None or draft.state != "draft":
        store.clear_wizard(ctx.user_id)
        return _old_draft()
    step = state.get("step")
    if action == "q":
        store.discard_draft(clinic_id, draft_id)
        store.clear_wizard(ctx.user_id)
        return Response(edit=Reply("OK, nothing was sent."))
    if action == "a" and step == "audience" and draft.text:
        return _picked_audience(ctx, state, draft, value)
    if action == "n" and step == "when":
        store.update_draft(clinic_id, draft_id, clear_time=True)
        store.save_wizard(ctx.user_id, {**state, "step": "confirm"}, ctx.now)
        return Response(replies=[_confirm_question(ctx, clinic_id, draft_id)])
    if action == "t" and step == "when":
        store.save_wizard(ctx.user_id, {**state, "step": "time"}, ctx.now)
        return Response(replies=[Reply(ASK_TIME, (_cancel_row(draft_id),))])
    if action == "y" and step == "confirm":
        return _confirmed(ctx, draft)
    return _old_draft()


def _old_draft() -> Response:
    return Response(replies=[Reply(OLD_DRAFT)])


def _picked_audience(
    ctx: Context, state: dict[str, Any], draft: Broadcast, audience_id: str
) -> Response:
    audience = audiences(ctx).get(audience_id)
    if audience is None:
        return Response(replies=[_audience_question(ctx, draft.id)])
    store = ClinicStore(ctx.storage.db)
    store.update_draft(draft.clinic_id, draft.id, audience=audience.id)
    store.save_wizard(ctx.user_id, {**state, "step": "when"}, ctx.now)
    clinic = store.clinic(draft.clinic_id)
    preview = patient_message(
        clinic.name if clinic else "", draft.text, bc.stop_data(draft.clinic_id)
    )
    count = len(bc.recipients(ctx.storage, draft.clinic_id, audience, ctx.now))
    question = Reply(
        f"Above is exactly what your patients will see. It goes to {shown_html(count)} patients "
        f"({escape(audience.label)}). When should it go?",
        (
            (button(WIZARD, f"n.{draft.id}", "Send now"),),
            (button(WIZARD, f"t.{draft.id}", "Pick a time"),),
            _cancel_row(draft.id),
        ),
    )
    return Response(replies=[preview, question])


def _confirmed(ctx: Context, draft: Broadcast) -> Response:
    store = ClinicStore(ctx.storage.db)
    audience = audiences(ctx).get(draft.audience, EVERYONE)
    at = bc.parse_local_time(draft.at_time) if draft.at_time else None
    count = bc.queue(ctx.storage, draft.clinic_id, draft.id, audience, at, ctx.now, ctx.user_id)
    store.clear_wizard(ctx.user_id)
    if count is None:
        return _old_draft()
    when = f"at {at} in each patient's own time zone" if at else "now"
    return Response(
        edit=Reply(
            f"Broadcast #{draft.id} goes out {when} to {shown_html(count)} patients. "
            "I will send you a report when it is done. /broadcasts shows how it is going."
        )
    )


# ---------------------------------------------------------------- staff: overview


def _clinic_name(store: ClinicStore, clinic_id: int) -> str:
    clinic = store.clinic(clinic_id)
    return escape(clinic.name if clinic else f"clinic {clinic_id}")


def _when(moment: float | None) -> str:
    if moment is None:
        return "-"
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")


def broadcasts_command(ctx: Context) -> Response:
    """/broadcasts: the latest broadcasts of the person's clinics, with their counts."""
    roles = _roles(ctx)
    if not roles:
        return _not_staff(ctx, "broadcasts")
    store = ClinicStore(ctx.storage.db)
    parts = []
    for clinic_id in roles:
        lines = [f"<b>{_clinic_name(store, clinic_id)}</b>"]
        recent = store.recent(clinic_id)
        for item in recent:
            counts = store.counts(clinic_id, item.id)
            lines.append(
                f"#{item.id} {item.state}, {escape(item.audience)}, {_when(item.queued_at)}"
                + (f", at {item.at_time} local" if item.at_time else "")
                + f"\n    {counts.line()}"
            )
        if not recent:
            lines.append("No broadcasts yet.")
        parts.append("\n".join(lines))
    return Response(replies=[Reply("\n\n".join(parts))])


def _stoppable(ctx: Context) -> list[Broadcast]:
    store = ClinicStore(ctx.storage.db)
    found = []
    for clinic_id, role in _roles(ctx).items():
        found += [b for b in store.going(clinic_id) if role == "admin" or b.author == ctx.user_id]
    return found


def cancel_command(ctx: Context) -> Response:
    """/cancel: stop a broadcast that is still going (admins: any of the clinic's)."""
    if not _roles(ctx):
        return _not_staff(ctx, "cancel")
    going = _stoppable(ctx)
    wanted = ctx.args.strip().lstrip("#")
    if small_number(wanted) is not None:
        match = [b for b in going if b.id == small_number(wanted)]
        if not match:
            return Response(replies=[Reply(f"There is no broadcast #{wanted} that you can stop.")])
        return _stop(ctx, match[0])
    if not going:
        return Response(replies=[Reply("Nothing is being sent right now.")])
    rows = tuple(
        (button(STOP, f"{b.clinic_id}.{b.id}", f"Stop #{b.id} ({b.audience})"[:60]),) for b in going
    )
    return Response(replies=[Reply("Which broadcast should stop?", rows)])


def stop_button(ctx: Context, argument: str) -> Response:
    if not _roles(ctx):
        return _stale_button(STOP, argument)
    clinic_text, _, id_text = argument.partition(".")
    match = [b for b in _stoppable(ctx) if f"{b.clinic_id}" == clinic_text and f"{b.id}" == id_text]
    if not match:
        return Response(
            replies=[Reply("That broadcast is not going any more, or is not yours to stop.")]
        )
    return _stop(ctx, match[0])


def _stop(ctx: Context, broadcast: Broadcast) -> Response:
    store = ClinicStore(ctx.storage.db)
    if not store.cancel(broadcast.clinic_id, broadcast.id, ctx.now):
        return Response(replies=[Reply(f"Broadcast #{broadcast.id} is not going any more.")])
    return Response(
        replies=[
            Reply(
                f"Stopped broadcast #{broadcast.id}. Messages already on their way may still "
                "arrive in the next few seconds. You will get a report."
            )
        ]
    )


def stats_command(ctx: Context) -> Response:
    """/stats: linked, active and finished the symptom check, per clinic ("<5" if small)."""
    roles = _roles(ctx)
    if not roles:
        return _not_staff(ctx, "stats")
    store = ClinicStore(ctx.storage.db)
    parts = []
    for clinic_id in roles:
        stats = store.stats(clinic_id, ctx.now)
        parts.append("\n".join([f"<b>{_clinic_name(store, clinic_id)}</b>", *stats.lines()]))
    return Response(replies=[Reply("\n\n".join(parts))])


# ---------------------------------------------------------------- command line


def add_cli(subparsers: Any) -> None:
    db_help = "database URL (default: $DATABASE_URL or ./data/hipbot.db)"
    clinic = subparsers.add_parser("clinic", help="add clinics and make their join links")
    clinic_cmds = clinic.add_subparsers(dest="clinic_command", required=True, metavar="ACTION")
    add = clinic_cmds.add_parser("add", help="create a clinic with a deep-link code")
    add.add_argument("name")
    add.add_argument("--db", help=db_help)
    add.set_defaults(func=_cli_clinic_add)
    link = clinic_cmds.add_parser("link", help="print a join link and write its QR code PNG")
    link.add_argument("clinic", help="clinic id, code or name")
    link.add_argument("--patient", help="the clinic's own code for one patient (never a name)")
    link.add_argument(
        "--out", help="QR code PNG file (default: clinic-ID[-REF].png in the data folder)"
    )
    link.add_argument("--bot", help="the bot's username (default: $HIPBOT_BOT_USERNAME)")
    link.add_argument("--db", help=db_help)
    link.set_defaults(func=_cli_clinic_link)
    listing = clinic_cmds.add_parser("list", help="every clinic with its code")
    listing.add_argument("--db", help=db_help)
    listing.set_defaults(func=_cli_clinic_list)

    staff = subparsers.add_parser("staff", help="who may broadcast for a clinic")
    staff_cmds = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    staff_add = staff_cmds.add_parser("add", help="make a Telegram user staff of a clinic")
    staff_add.add_argument("clinic", help="clinic id, code or name")
    staff_add.add_argument("user_id", help="their Telegram user id (a number)")
    staff_add.add_argument("--role", choices=["admin", "editor"], required=True)
    staff_add.add_argument("--db", help=db_help)
    staff_add.set_defaults(func=_cli_staff_add)
    staff_list = staff_cmds.add_parser("list", help="staff of one clinic (or of all)")
    staff_list.add_argument("clinic", nargs="?")
    staff_list.add_argument("--db", help=db_help)
    staff_list.set_defaults(func=_cli_staff_list)
    staff_remove = staff_cmds.add_parser("remove", help="take someone off a clinic's staff")
    staff_remove.add_argument("clinic")
    staff_remove.add_argument("user_id")
    staff_remove.add_argument("--db", help=db_help)
    staff_remove.set_defaults(func=_cli_staff_remove)

    send = subparsers.add_parser(
        "broadcast",
        help="send a message to a clinic's patients, or 'broadcast status ID'",
        description="hipbot broadcast --clinic C --audience A --text-file F [--at TIME] "
        "[--dry-run]  |  hipbot broadcast status ID",
    )
    send.add_argument("status", nargs="*", help="'status ID': how a broadcast is going")
    send.add_argument("--clinic", help="clinic id, code or name")
    send.add_argument("--audience", default="all", help="audience name (default: all)")
    send.add_argument("--text-file", help="the message (Telegram HTML), UTF-8")
    send.add_argument(
        "--at", help="local time in each patient's time zone: 09:30 or 2026-11-20 09:30"
    )
    send.add_argument("--dry-run", action="store_true", help="check and count, send nothing")
    send.add_argument("--report-to", help="Telegram user id of staff to send the report to")
    send.add_argument("--flows", help="folder of flow and audience files (default: ./flows)")
    send.add_argument("--db", help=db_help)
    send.add_argument(
        "--follow",
        action="store_true",
        help="with 'status ID': show progress until the broadcast is done or cancelled",
    )
    send.set_defaults(func=_cli_broadcast)


class CliError(HipbotError):
    """A problem with what was typed; the message says what to do."""


def _cli(
    run: Callable[[argparse.Namespace, SqlStorage], int],
) -> Callable[[argparse.Namespace], int]:
    def wrapped(args: argparse.Namespace) -> int:
        from bot.settings import default_database_url, load_dotenv_file
        from bot.storage import open_storage

        load_dotenv_file()
        storage = open_storage(args.db or default_database_url())
        if not isinstance(storage, SqlStorage):
            print("hipbot: clinics need a database: set DATABASE_URL", file=sys.stderr)
            return 2
        try:
            ClinicStore(storage.db).migrate()
            return run(args, storage)
        except (CliError, ValueError) as error:
            print(f"hipbot: {error}", file=sys.stderr)
            return 1
        finally:
            storage.close()

    return wrapped


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


def _find_clinic(store: ClinicStore, key: str) -> Clinic:
    clinic = find_clinic(store, key)
    if clinic is None:
        known = ", ".join(f"{c.id} ({c.name})" for c in store.clinics_for_operator()) or "none yet"
        raise CliError(f"no clinic {key!r}; clinics: {known}. Add one with: hipbot clinic add NAME")
    return clinic


def _bot_username(given: str | None) -> str | None:
    from bot.settings import load_settings

    name = given or load_settings().bot_username
    return check_bot_username(name) if name else None


@_cli
def _cli_clinic_add(args: argparse.Namespace, storage: SqlStorage) -> int:
    store = ClinicStore(storage.db)
    name = " ".join(args.name.split())
    same = [c for c in store.clinics_for_operator() if c.name.casefold() == name.casefold()]
    if same:
        raise CliError(
            f"clinic {same[0].id} is already named {same[0].name!r}: choose another name "
            "(two clinics with one name could not be told apart)"
        )
    clinic = store.add_clinic(name, time.time())
    print(f"clinic {clinic.id}: {clinic.name}")
    print(f"code: {clinic.code}")
    username = _bot_username(None)
    if username:
        print(f"link: {deep_link(username, clinic.code)}")
    print(
        f"next: hipbot clinic link {clinic.id} (link and QR code), hipbot staff add {clinic.id} ..."
    )
    return 0


@_cli
def _cli_clinic_link(args: argparse.Namespace, storage: SqlStorage) -> int:
    import segno

    store = ClinicStore(storage.db)
    clinic = _find_clinic(store, args.clinic)
    username = _bot_username(args.bot)
    if username is None:
        raise CliError(
            "which bot? Set HIPBOT_BOT_USERNAME or pass --bot with the bot's username "
            "(as @BotFather shows it, without the @)"
        )
    if args.patient is not None:
        ref = check_patient_ref(args.patient)
        code = store.add_invite(clinic.id, ref, time.time())
        default_out = f"clinic-{clinic.id}-{ref}.png"
    else:
        code, default_out = clinic.code, f"clinic-{clinic.id}.png"
    link = deep_link(username, code)
    out = Path(args.out) if args.out else _data_dir() / default_out
    out.parent.mkdir(parents=True, exist_ok=True)
    segno.make(link, error="m").save(str(out), kind="png", scale=10, border=4)
    print(link)
    print(f"QR code: {out.resolve()}")
    return 0


@_cli
def _cli_clinic_list(args: argparse.Namespace, storage: SqlStorage) -> int:
    store = ClinicStore(storage.db)
    clinics = store.clinics_for_operator()
    for clinic in clinics:
        print(f"{clinic.id}\t{clinic.name}\t{clinic.code}\t{len(store.patients(clinic.id))} linked")
    if not clinics:
        print("no clinics yet: hipbot clinic add NAME")
    return 0


@_cli
def _cli_staff_add(args: argparse.Namespace, storage: SqlStorage) -> int:
    store = ClinicStore(storage.db)
    clinic = _find_clinic(store, args.clinic)
    store.add_staff(clinic.id, args.user_id.strip(), args.role, time.time())
    print(f"{args.user_id} is now {args.role} of clinic {clinic.id} ({clinic.name})")
    return 0


@_cli
def _cli_staff_list(args: argparse.Namespace, storage: SqlStorage) -> int:
    store = ClinicStore(storage.db)
    clinics = [_find_clinic(store, args.clinic)] if args.clinic else store.clinics_for_operator()
    shown = 0
    for clinic in clinics:
        for member in store.staff(clinic.id):
            print(f"{clinic.id}\t{clinic.name}\t{member.user_id}\t{member.role}")
            shown += 1
    if shown:
        return 0
    if not clinics:
        print("no clinics yet: hipbot clinic add NAME")
    elif args.clinic:
        clinic = clinics[0]
        print(
            f"clinic {clinic.id} ({clinic.name}) has no staff yet: {_STAFF_ADD.format(clinic.id)}"
        )
    else:
        print(f"no clinic has staff yet: {_STAFF_ADD.format('CLINIC')}")
    return 0


_STAFF_ADD = "hipbot staff add {} TELEGRAM_USER_ID --role admin"


def _data_dir() -> Path:
    from bot.settings import load_settings

    return load_settings().data_dir


@_cli
def _cli_staff_remove(args: argparse.Namespace, storage: SqlStorage) -> int:
    store = ClinicStore(storage.db)
    clinic = _find_clinic(store, args.clinic)
    if not store.remove_staff(clinic.id, args.user_id.strip()):
        raise CliError(f"{args.user_id} is not staff of clinic {clinic.id} ({clinic.name})")
    print(f"{args.user_id} is no longer staff of clinic {clinic.id} ({clinic.name})")
    return 0


@_cli
def _cli_broadcast(args: argparse.Namespace, storage: SqlStorage) -> int:
    if args.status:
        if len(args.status) != 2 or args.status[0] != "status" or not args.status[1].isdigit():
            raise CliError("use: hipbot broadcast status ID  (or --clinic ... to send one)")
        if args.follow:
            follow_broadcast(storage, int(args.status[1]))
        return _broadcast_status(storage, int(args.status[1]))
    if not args.clinic or not args.text_file:
        raise CliError("--clinic and --text-file are needed (see hipbot broadcast --help)")
    from bot.settings import default_flows_dir

    store = ClinicStore(storage.db)
    clinic = _find_clinic(store, args.clinic)
    folder = args.flows or default_flows_dir()
    known = load_audiences(folder)
    audience = known.get(args.audience)
    if audience is None:
        raise CliError(
            f"no audience {args.audience!r} in {folder}; audiences: {', '.join(sorted(known))}"
        )
    try:
        text = Path(args.text_file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"cannot read {args.text_file}: {error}") from error
    problem = message_problem(store, clinic.id, text)
    if problem:
        raise CliError(f"{args.text_file}: {_plain(problem)}")
    at = bc.parse_local_time(args.at) if args.at else None
    report_to = args.report_to.strip() if args.report_to else None
    if report_to is not None and clinic.id not in store.roles_of(report_to):
        raise CliError(f"--report-to {report_to} is not staff of clinic {clinic.id}")
    now = time.time()
    people = bc.recipients(storage, clinic.id, audience, now)
    when = f"at {at} in each patient's own time zone" if at else "now"
    if args.dry_run:
        print(f"dry run: {len(people)} recipients ({audience.id}: {audience.label}), {when}")
        print(patient_message(clinic.name, text, bc.stop_data(clinic.id)).text)
        return 0
    draft = store.create_draft(clinic.id, "cli", now)
    store.update_draft(
        clinic.id, draft, text=text, audience=audience.id, at_time=str(at) if at else None
    )
    count = bc.queue(storage, clinic.id, draft, audience, at, now, report_to)
    print(f"broadcast #{draft} queued for {count} recipients ({audience.id}), {when}")
    print(f"the running bot sends it; see: hipbot broadcast status {draft}")
    return 0


def _plain(text: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", text))


FOLLOW_EVERY = 2.0  # seconds between looks at a followed broadcast


def follow_broadcast(
    storage: SqlStorage,
    broadcast_id: int,
    sleep: Callable[[float], None] = time.sleep,
    stream: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
    tty: bool | None = None,
) -> str:
    """Show a broadcast's deliveries going out (a bar on a terminal, plain lines otherwise)
    until it is done or cancelled; its final state."""
    from bot.progress_bar import Progress

    store = ClinicStore(storage.db)
    bar: Progress | None = None
    while True:
        item = store.broadcast_for_operator(broadcast_id)
        if item is None or item.state == "draft":
            raise CliError(f"no broadcast #{broadcast_id}")
        counts = store.counts(item.clinic_id, item.id)
        if bar is None:
            bar = Progress(f"broadcast #{item.id}", counts.total, stream, clock, tty)
        bar.update(counts.total - counts.pending, counts.total)
        if item.state in ("done", "cancelled") and item.finished_at is not None:
            bar.finish(f"{item.state}: {counts.line(masked=False)}")
            return item.state
        sleep(FOLLOW_EVERY)


def _broadcast_status(storage: SqlStorage, broadcast_id: int) -> int:
    store = ClinicStore(storage.db)
    item = store.broadcast_for_operator(broadcast_id)
    if item is None or item.state == "draft":
        raise CliError(f"no broadcast #{broadcast_id}")
    clinic = store.clinic(item.clinic_id)
    counts = store.counts(item.clinic_id, item.id)
    print(f"broadcast #{item.id}: {item.state}")
    print(f"clinic: {item.clinic_id} ({clinic.name if clinic else '?'})")
    print(f"audience: {item.audience}" + (f", at {item.at_time} local" if item.at_time else ""))
    print(f"queued: {_when(item.queued_at)}  finished: {_when(item.finished_at)}")
    print(f"recipients: {counts.total}  {counts.line(masked=False)}")
    return 0
