"""Reminders in the chat and on the command line (a ``Feature``).

In the chat
    The ``reminders`` flow (flows/reminders.yaml) asks what to remind, when, the time zone
    and quiet hours; its ``schedule_reminder`` action becomes a row here, in the same
    transaction as the person's turn (``on_schedule``). ``/reminders`` lists a person's
    reminders with buttons to change (back into the flow at that kind's first question) or
    stop each one, and their check-in history. ``/timezone CITY`` sets the time zone at once
    (without a city it opens the flow's time-zone question). Every reminder message has Done,
    Snooze 15 min, Snooze 1 h and Stop this reminder (a check-in also "Start the check-in").

The sweep
    ``sweep`` is the feature's job: ``hipbot run`` runs it every 2 seconds and ``hipbot chat``
    after every input and every few seconds; it claims due reminders and follow-ups and
    writes their messages to the outbox (``ReminderStore.sweep``).

Command line
    ``hipbot reminders status`` (how many of each kind, how many due), ``hipbot reminders
    sweep`` (one sweep now) and ``hipbot reminders followup-start CHAT_ID YYYY-MM-DD`` (a
    clinic's day 0 for a person's follow-ups).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta

from bot import callbacks, dates, outgoing, texts
from bot.authoring import document_kind, read_yaml, yaml_files
from bot.content import fill
from bot.errors import FlowErrors
from bot.features import Context, Loaded, Ports, Response, button
from bot.features.reminders.messages import NAMES, wording
from bot.features.reminders.ports import REMINDERS, STORE, Reminders
from bot.features.reminders.rules import (
    FollowupSequence,
    Rule,
    RuleError,
    build_followups,
    hhmm,
    local_of,
    match_timezone,
    quiet_from_answers,
    reminder_text,
    reminder_title,
    rule_from_answers,
    timezone_label,
    zone,
)
from bot.features.reminders.store import BUTTON_KEY, Reminder, ReminderStore
from bot.model import DEFAULT_LANGUAGE, AnswerValue, Effect, Event, Reply, ReplyButton, Session
from bot.storage.db import Database
from bot.storage.sql import SqlStorage, insert_outbox

log = logging.getLogger("hipbot.reminders")

FLOW = "reminders"
FIRST_STEP = {  # where "change" goes back into the flow, per kind
    "sitting": "rem_sit_every",
    "tip": "rem_tip_time",
    "exercise": "rem_ex_time",
    "checkin": "rem_ci_day",
    "followup": "rem_fu_intro",
}
START, TIME_ZONE, QUIET, CHECKIN = "rem_start", "rem_tz_region", "rem_quiet", "rem_ci_pain"
TREND = {"better": texts.TREND_BETTER, "same": texts.TREND_SAME, "worse": texts.TREND_WORSE}


def _name(kind: str, language: str = DEFAULT_LANGUAGE) -> str:
    key = NAMES.get(kind)
    return key.get(language) if key is not None else kind


# ---------------------------------------------------------------- the store of a storage


def followups_of(loaded: Loaded) -> dict[str, FollowupSequence]:
    """The follow-up sequences of the flows the process loaded (``loaded.paths``, checked
    against the answers its bundle saves); none when those flows do not validate (logged, as
    ``hipbot validate`` would report them). Built once per ``Loaded``."""
    return loaded.once("reminders.followups", lambda: _read_followups(loaded))


def _read_followups(loaded: Loaded) -> dict[str, FollowupSequence]:
    try:
        bundle = loaded.bundle
    except FlowErrors as errors:
        log.error("flows do not validate: no follow-ups", extra={"event": "followups_invalid"})
        log.debug("%s", errors)
        return {}
    saved = {
        step.input.save
        for flow in bundle.flows.values()
        for step in flow.steps.values()
        if step.input
    }
    found: dict[str, FollowupSequence] = {}
    for path in yaml_files(list(loaded.paths)):
        document = read_yaml(path)
        if document_kind(document) == "followups":
            sequence, _ = build_followups(str(path), document, saved)
            if sequence is not None:
                found[sequence.id] = sequence
    return found


def reminder_store(storage: SqlStorage, loaded: Loaded) -> ReminderStore:
    """The reminders store on this storage's database, with the loaded follow-ups and the
    wording filled from the loaded settings."""
    settings = loaded.settings
    return ReminderStore(
        storage.db,
        followups=followups_of(loaded),
        answers_of=_answers_reader(storage),
        language_of=_language_reader(storage),
        say=wording(
            {"emergency_number": settings.emergency_number, "urgent_care": settings.urgent_care}
        ),
    )


def stores(ports: Ports) -> None:
    """Put the reminders store on ``ports`` (``REMINDERS``, ``STORE``)."""
    ports.put(STORE, reminder_store(ports.storage, ports.loaded))


def _answers_reader(storage: SqlStorage) -> Callable[[str], Mapping[str, AnswerValue]]:
    def answers(user_id: str) -> Mapping[str, AnswerValue]:
        session = storage.load_session(user_id)
        return session.answers if session is not None else {}

    return answers


def _language_reader(storage: SqlStorage) -> Callable[[str], str]:
    def language(user_id: str) -> str:
        session = storage.load_session(user_id)
        return session.language if session is not None else DEFAULT_LANGUAGE

    return language


def chat_of(user_id: str) -> int | None:
    """The private chat of a person (their user id, which is their chat's id)."""
    return int(user_id) if user_id.lstrip("-").isdigit() else None


# ---------------------------------------------------------------- effects (in the turn)

Handler = Callable[[Database, Session, Effect, float], None]


def on_schedule(store: ReminderStore) -> Handler:
    """``schedule_reminder``: save a reminder (or settings) from the person's answers. Never
    raises: a bad answer must not undo the person's turn; it is logged instead."""

    def handle(db: Database, session: Session, effect: Effect, now: float) -> None:
        chat = chat_of(session.user_id)
        if chat is None:
            return
        kind = str(effect.args.get("kind", ""))
        answers = session.answers
        try:
            if kind == "settings":
                save = str(effect.args.get("save", ""))
                typed = answers.get("timezone")
                tz = match_timezone(typed) if isinstance(typed, str) and save != "quiet" else None
                quiet = quiet_from_answers(answers) if save != "timezone" else None
                store.save_settings(session.user_id, now, tz=tz, quiet=quiet)
            elif kind == "followup":
                sequence = str(effect.args.get("sequence") or next(iter(store.followups), ""))
                store.enroll_followups(session.user_id, chat, sequence, now)
            else:
                rule = rule_from_answers(kind, answers)
                store.set_reminder(session.user_id, chat, kind, rule, now)
                if kind == "sitting":
                    _say_if_window_changed(db, chat, rule, answers, now, session.language)
        except (RuleError, ValueError) as error:
            log.warning(
                "reminder not saved",
                extra={"event": "reminder_invalid", "kind": kind, "error": str(error)[:200]},
            )

    return handle


def _say_if_window_changed(
    db: Database,
    chat: int,
    rule: Rule,
    answers: Mapping[str, AnswerValue],
    now: float,
    language: str = DEFAULT_LANGUAGE,
) -> None:
    """A window typed back to front, or shorter than one break, was put right: say so,
    rather than let the person believe the times they typed."""
    typed = (answers.get("sit_start"), answers.get("sit_end"))
    if typed == (hhmm(rule.start), hhmm(rule.end)):
        return
    template = texts.WINDOW_NOTE.get(language)
    text = fill(template, start=hhmm(rule.start), end=hhmm(rule.end))
    insert_outbox(db, outgoing.say(chat, text), now)


def on_checkin(store: ReminderStore) -> Handler:
    """``checkin_recorded``: keep this check-in with its date (the history, not the latest)."""

    def handle(db: Database, session: Session, effect: Effect, now: float) -> None:
        pain = session.answers.get("ci_pain")
        trend = session.answers.get("ci_trend")
        store.record_checkin(
            session.user_id,
            pain if isinstance(pain, int) and not isinstance(pain, bool) else None,
            trend if isinstance(trend, str) else None,
            now,
        )

    return handle


def on_withdrawn(store: ReminderStore) -> Handler:
    """``consent_withdrawn``: check-in answers are health answers; they go at once."""

    def handle(db: Database, session: Session, effect: Effect, now: float) -> None:
        store.erase_checkins(db, session.user_id)

    return handle


def setup(ports: Ports) -> None:
    storage, store = ports.storage, ports.get(STORE)
    handlers = {
        "schedule_reminder": on_schedule(store),
        "checkin_recorded": on_checkin(store),
        "consent_withdrawn": on_withdrawn(store),
    }
    for name, handler in handlers.items():
        storage.on_effect(name, handler)
    storage.erasers.append(store.erase)
    storage.exporters["reminders"] = store.export


JOB_BUDGET = 0.5  # seconds of sweeping per job run (it runs on the bot's event loop)


def sweep(ports: Ports, now: float) -> int:
    """The job: queue due reminders and follow-up messages, about ``JOB_BUDGET`` seconds'
    worth (some 3,000) at a time; the next run, 2 seconds later, goes on with the rest."""
    return ports.get(STORE).sweep(now, budget=JOB_BUDGET)


# ---------------------------------------------------------------- /reminders


def when_text(
    instant: float | None, tz_name: str, now: float, language: str = DEFAULT_LANGUAGE
) -> str:
    """'today at 10:30', 'tomorrow at 08:00', 'Friday, 12 June, 09:00' in the person's time
    and language (bot.dates)."""
    if instant is None:
        return texts.NOT_PLANNED.get(language)
    tz = zone(tz_name)
    moment, today = local_of(instant, tz), local_of(now, tz).date()
    clock = dates.clock(moment, language)
    if moment.date() == today:
        return fill(texts.TODAY_AT.get(language), time=clock)
    if moment.date() == today + timedelta(days=1):
        return fill(texts.TOMORROW_AT.get(language), time=clock)
    return dates.day_and_time(moment, language)


def _describe(store: Reminders, reminder: Reminder, tz_name: str, now: float, language: str) -> str:
    name = _name(reminder.kind, language)
    if reminder.rule is not None:
        how = reminder.rule.describe(language)
    else:
        sequence = store.followups.get(str(reminder.data.get("sequence")))
        done = store.followup_done(reminder.user_id, sequence.id) if sequence else {}
        total = len(sequence.messages) if sequence else 0
        how = fill(texts.FOLLOWUP_PROGRESS.get(language), done=str(len(done)), total=str(total))
    when = when_text(reminder.next_due, tz_name, now, language)
    return fill(texts.LIST_LINE.get(language), name=name, how=how, when=when)


def list_reminders(context: Context) -> Response:
    """/reminders: what is set, with buttons to change or stop each one."""
    store = context.store(REMINDERS)
    settings = store.settings(context.user_id)
    reminders = store.reminders(context.user_id)
    lines = [f"<b>{texts.LIST_TITLE.get(context.language)}</b>"]
    if not reminders:
        lines.append(texts.LIST_NONE.get(context.language))
    lines += [_describe(store, r, settings.tz, context.now, context.language) for r in reminders]
    lines.append(
        fill(
            texts.LIST_SETTINGS.get(context.language),
            timezone=timezone_label(settings.tz),
            quiet=settings.quiet.describe(context.language),
        )
    )
    if context.storage.get_flag(context.user_id, "stopped"):
        lines.append(texts.LIST_STOPPED.get(context.language))
    rows: list[tuple[ReplyButton, ...]] = []
    for reminder in reminders:
        name = _name(reminder.kind, context.language)
        change, stop = texts.CHANGE.get(context.language), texts.STOP.get(context.language)
        rows.append((button(BUTTON_KEY, f"chg:{reminder.kind}", f"{change}: {name}"),))
        rows.append((button(BUTTON_KEY, f"off:{reminder.id}", f"{stop}: {name}"),))
    rows.append((button(BUTTON_KEY, "add:", texts.ADD.get(context.language)),))
    rows.append(
        (
            button(BUTTON_KEY, "tz:", texts.MY_TIMEZONE.get(context.language)),
            button(BUTTON_KEY, "quiet:", texts.MY_QUIET.get(context.language)),
        )
    )
    if store.checkins(context.user_id):
        rows.append((button(BUTTON_KEY, "hist:", texts.MY_CHECKINS.get(context.language)),))
    rows.append(
        (ReplyButton(texts.BACK_TO_MENU.get(context.language), callbacks.encode_route("menu")),)
    )
    return Response(replies=[Reply("\n".join(lines), tuple(rows), step="reminders_list")])


def set_timezone(context: Context) -> Response:
    """/timezone CITY: set the time zone now; without a city, ask in the flow."""
    if not context.args.strip():
        return Response(then=Event.timer_named(f"{FLOW}:{TIME_ZONE}"))
    tz = match_timezone(context.args)
    if tz is None:
        return Response(replies=[Reply(texts.PLACE_NOT_FOUND.get(context.language))])
    context.store(REMINDERS).save_settings(context.user_id, context.now, tz=tz)
    return Response(
        replies=[Reply(fill(texts.TIMEZONE_SET.get(context.language), timezone=timezone_label(tz)))]
    )


def _history(context: Context) -> Response:
    store = context.store(REMINDERS)
    tz = zone(store.settings(context.user_id).tz)
    checkins = store.checkins(context.user_id)[-12:]
    if not checkins:
        return Response(replies=[Reply(texts.NO_CHECKINS.get(context.language))])
    lines = [f"<b>{texts.CHECKINS_TITLE.get(context.language)}</b>"]
    for checkin in checkins:
        day = dates.short_date(local_of(checkin.at, tz), context.language)
        pain = (
            "-"
            if checkin.pain is None
            else fill(texts.PAIN_OF_10.get(context.language), pain=str(checkin.pain))
        )
        trend = TREND.get(checkin.trend or "", texts.TREND_NONE).get(context.language)
        lines.append(
            fill(texts.CHECKIN_LINE.get(context.language), day=day, pain=pain, trend=trend)
        )
    return Response(replies=[Reply("\n".join(lines))])


# ---------------------------------------------------------------- buttons


def press(context: Context, argument: str) -> Response:
    """Every reminder button: ``verb:value`` (see ``reminder_buttons`` and /reminders)."""
    verb, _, value = argument.partition(":")
    match verb:
        case "chg" if value in FIRST_STEP:
            return Response(then=Event.timer_named(f"{FLOW}:{FIRST_STEP[value]}"))
        case "add":
            return Response(then=Event.timer_named(f"{FLOW}:{START}"))
        case "tz":
            return Response(then=Event.timer_named(f"{FLOW}:{TIME_ZONE}"))
        case "quiet":
            return Response(then=Event.timer_named(f"{FLOW}:{QUIET}"))
        case "hist":
            return _history(context)
        case "off":
            stopped = _number(value) is not None and context.store(REMINDERS).stop(
                context.user_id, _number(value) or 0
            )
            listing = list_reminders(context).replies[0]
            note = (texts.STOPPED_NOTE if stopped else texts.ALREADY_OFF).get(context.language)
            return Response(edit=Reply(f"{note}\n\n{listing.text}", listing.buttons))
    reminder_id = _number(value)
    store = context.store(REMINDERS)
    reminder = store.reminder(context.user_id, reminder_id) if reminder_id is not None else None
    if reminder is None:
        return Response(edit=Reply(texts.REMINDER_OFF.get(context.language)))
    shown = _shown_text(reminder, context.language)
    match verb:
        case "done":
            store.done(context.user_id, reminder.id, context.now)
            return Response(edit=Reply(f"{shown}\n\n✓ {texts.DONE_NOTE.get(context.language)}"))
        case "s15" | "s60":
            minutes = 15 if verb == "s15" else 60
            due = store.snooze(context.user_id, reminder.id, minutes, context.now)
            tz = store.settings(context.user_id).tz
            snoozed = fill(
                texts.SNOOZED.get(context.language),
                when=when_text(due, tz, context.now, context.language),
            )
            return Response(edit=Reply(f"{shown}\n\n⏰ {snoozed}"))
        case "stop":
            store.stop(context.user_id, reminder.id)
            said = texts.STOPPED_TIPS if reminder.kind == "followup" else texts.STOPPED_REMINDER
            return Response(edit=Reply(f"{shown}\n\n{said.get(context.language)}"))
        case "go":
            return Response(
                edit=Reply(f"{shown}\n\n✓ {texts.LETS_START.get(context.language)}"),
                then=Event.timer_named(f"{FLOW}:{CHECKIN}"),
            )
    return Response(edit=Reply(texts.OLD_BUTTON.get(context.language)))


def _shown_text(reminder: Reminder, language: str = DEFAULT_LANGUAGE) -> str:
    """The text of the reminder's latest message (the pressed one, in almost every case)."""
    if reminder.kind == "followup":
        return f"<b>{reminder_title('followup', language=language)}</b>"
    return reminder_text(reminder.kind, max(0, reminder.sent_count - 1), language=language)


def _number(value: str) -> int | None:
    return callbacks.small_number(value)  # "²".isdigit() holds but int("²") fails
