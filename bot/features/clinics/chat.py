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

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from bot import outgoing, texts
from bot.callbacks import small_number
from bot.content import fill
from bot.features import Context, Ports, Response, button
from bot.features.clinics import broadcast as bc
from bot.features.clinics import dashboard
from bot.features.clinics.rules import (
    CLINIC_PREFIX,
    EVERYONE,
    PERSONAL_PREFIX,
    Audience,
    declined,
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
from bot.features.clinics.store import Broadcast, ClinicStore
from bot.model import Effect, Event, Reply, ReplyButton, Session
from bot.storage.db import Database
from bot.storage.sql import insert_outbox
from bot.telegram_html import MAX_TEXT, HtmlProblem, check_html, escape

JOIN_PRIORITY = 1  # after the welcome the same /start queued (priority 0)
WIZARD = "bw"
STOP = "bx"
JOIN = "cj"
DECLINE = "cn"
LEAVE = bc.STOP_BUTTON
SHARE = "cs"

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


def setup(ports: Ports) -> None:
    storage = ports.storage
    store = ClinicStore(storage.db)
    store.migrate()
    storage.on_effect("started", on_started)
    storage.erasers.append(store.erase_user)
    storage.exporters["clinics"] = store.export_user
    storage.outcome_hooks.append(bc.Outcomes())
    storage.on_effect("red_flag", on_red_flag)
    storage.erasers.append(dashboard.erase_user)
    storage.exporters["clinic_sharing"] = dashboard.export_user


def on_red_flag(db: Database, session: Session, effect: Effect, now: float) -> None:
    """A red flag: a row in the dashboard's alert inbox of each clinic that asked for alerts."""
    dashboard.record_alerts(db, session.user_id, bool(effect.args.get("urgent", True)), now)


Handler = Callable[[Database, Session, Effect, float], None]


def sweep_job(ports: Ports, now: float) -> int:
    settings = ports.settings
    return bc.sweep(ports.storage, now, settings.rate_limit, settings.allow_paid_broadcast)


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
        (ReplyButton(texts.JOIN_LABEL.get(session.language), f"x:{JOIN}:{code}"),),
        (ReplyButton(texts.DECLINE_LABEL.get(session.language), f"x:{DECLINE}:{code}"),),
    )
    question = Reply(join_question(clinic.name, session.language), buttons, step="clinic_join")
    insert_outbox(db, outgoing.say(chat, question), now, priority=JOIN_PRIORITY)


def join_button(ctx: Context, code: str) -> Response:
    store = ClinicStore(ctx.storage.db)
    # a clinic reaches its patients on Telegram: a web or console person is not linked
    found = store.resolve_code(code, ctx.user_id) if ctx.user_id.isdigit() else None
    if found is None:
        return Response(edit=Reply(ctx.engine.text(texts.LINK_GONE).get(ctx.language)))
    clinic, ref = found
    store.link(clinic.id, ctx.user_id, ref, ctx.now)
    said = joined(clinic.name, ctx.language)
    if ref and _alerts_on(ctx.storage.db, clinic.id):  # what /urgent means for this patient
        note = ctx.engine.text(texts.ALERTS_NOTE).get(ctx.language)
        said += "\n\n" + fill(note, clinic=escape(clinic.name))
    if not ref:
        return Response(edit=Reply(said))
    return Response(edit=Reply(said), replies=[_share_question(ctx, clinic.id, clinic.name)])


# ---------------------------------------------------------------- sharing progress (dashboard)


def _share_question(ctx: Context, clinic_id: int, clinic_name: str) -> Reply:
    """Share check-ins with a clinic that knows the patient by its REF? (own consent, own
    version: ``dashboard.SHARE_VERSION``; revocable with /share)."""
    text = fill(ctx.engine.text(texts.SHARE_QUESTION).get(ctx.language), clinic=escape(clinic_name))
    yes = ctx.engine.text(texts.SHARE_YES_LABEL).get(ctx.language)
    no = ctx.engine.text(texts.SHARE_NO_LABEL).get(ctx.language)
    rows = ((button(SHARE, f"y.{clinic_id}", yes),), (button(SHARE, f"n.{clinic_id}", no),))
    return Reply(text, rows, step="clinic_share")


def share_command(ctx: Context) -> Response:
    """/share: for each clinic that knows the patient by a REF, whether they share, to change."""
    store = ClinicStore(ctx.storage.db)
    replies = []
    for clinic, link in store.links_of(ctx.user_id):
        if link.opted_in and link.patient_ref:
            replies.append(_share_question(ctx, clinic.id, clinic.name))
    if not replies:
        return Response(replies=[Reply(ctx.engine.text(texts.SHARE_NONE).get(ctx.language))])
    return Response(replies=replies)


def share_button(ctx: Context, argument: str) -> Response:
    choice, _, number = argument.partition(".")
    store = ClinicStore(ctx.storage.db)
    mine = {
        c.id: c for c, link in store.links_of(ctx.user_id) if link.opted_in and link.patient_ref
    }
    clinic = mine.get(small_number(number) or 0)  # only the person's own clinics
    if clinic is None or choice not in ("y", "n"):
        return _stale_button(SHARE, argument)
    with ctx.storage.db.transaction() as db:
        if choice == "y":
            dashboard.give_share(db, clinic.id, ctx.user_id, ctx.now)
        else:
            dashboard.withdraw_share(db, clinic.id, ctx.user_id, ctx.now)
    key = texts.SHARED if choice == "y" else texts.NOT_SHARED
    said = fill(ctx.engine.text(key).get(ctx.language), clinic=escape(clinic.name))
    return Response(edit=Reply(said))


def _alerts_on(db: Database, clinic_id: int) -> bool:
    """Whether the clinic asked for red-flag alerts (``hipbot alerts on``, bot.features.privacy.chat)."""
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


def audiences(ctx: Context) -> dict[str, Audience]:
    """``all`` and the named audiences of the flows the process loaded (``Loaded.paths``),
    read once per process."""
    saved = frozenset(ctx.engine.questions) if ctx.engine is not None else frozenset()
    loaded = ctx.loaded
    return loaded.once(
        "clinics.audiences:" + ",".join(sorted(saved)),
        lambda: audiences_in(loaded.paths, saved),
    )


def audiences_in(paths: Sequence[str], saved: frozenset[str]) -> dict[str, Audience]:
    """``all`` and every audience declared under ``paths``."""
    found: dict[str, Audience] = {}
    for path in paths:
        found.update(load_audiences(path, set(saved)))
    return found


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
    count = bc.queue(
        ctx.storage, draft.clinic_id, draft.id, audience, at, ctx.now, ctx.user_id, draft.text
    )
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


def shown_when(moment: float | None) -> str:
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
                f"#{item.id} {item.state}, {escape(item.audience)}, {shown_when(item.queued_at)}"
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


def login_command(ctx: Context) -> Response:
    """/login: a one-time code (per clinic) for the clinic dashboard in the browser."""
    roles = _roles(ctx)
    if not roles:
        return _not_staff(ctx, "login")
    store = ClinicStore(ctx.storage.db)
    url = ctx.loaded.settings.web_url.rstrip("/")
    replies = []
    for clinic_id in roles:
        try:
            code = dashboard.issue_code(ctx.storage.db, clinic_id, ctx.user_id, ctx.now)
        except dashboard.TooManyCodes as error:
            return Response(replies=[Reply(escape(str(error)))])
        name = store.clinic(clinic_id)
        replies.append(Reply(dashboard.code_message(name.name if name else "", code, url)))
    return Response(replies=replies)


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
