"""Progress in the chat (a ``Feature``): the check-in chart and the one-page summary.

``/progress`` (and the flow's "See my progress" button, step ``rem_ci_chart_show``) sends the
personal picture ``progress``: a photo row that names it and nothing else. The chart is
drawn when the row is sent, from the person's sealed check-ins (``make_chart``: in a child
process, ``bot.progress.pool``, which the sender's worker thread on Telegram, the turn's
thread in the web chat and the terminal wait for),
so its bytes are never stored. Under 3 check-ins ``/progress`` says so in a short text.

``/summary`` sends a one-page PDF (``bot.progress.summary``) built from what the person told
the bot, as a made ``document`` row: the row holds the summary's data (sealed at rest in the
outbox like every row) and the PDF is made when it is delivered (in a child process,
``bot.progress.pool``), so it is never stored. Only with consent to keep answers (without it: a short
text saying why and how to agree).

The activity scores of each check-in (``ci_act1``.. and ``ci_score1``..) are kept by this
feature's ``checkin_recorded`` handler (``bot.features.progress.store``), next to the check-in the
reminders feature keeps; both go with /delete and a consent withdrawal.

The Common questions a person opens (the answer steps of topic ``faq``, ``faq_titles``) are
kept by a turn hook, only while the person agrees to the policy, for the /summary page and
/mydata; they go with /delete and a withdrawal too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from bot import outgoing, pictures, texts, trend
from bot.actions import CONSENT_ANSWER
from bot.content import fill
from bot.features import Context, Document, Ports, Response
from bot.features.progress import store
from bot.features.reminders.messages import NAMES
from bot.features.reminders.store import ReminderStore
from bot.localtime import local_of, zone
from bot.model import AnswerValue, Bundle, Effect, Reply, Session, Text
from bot.progress import pool
from bot.progress.chart import CheckIn, Feeling, chart_makes_sense, render_chart
from bot.progress.labels import chart_labels, summary_labels
from bot.progress.summary import RedFlagScreen, ReminderUse, Summary, render_summary
from bot.storage.db import Database

if TYPE_CHECKING:
    from bot.engine import Engine
    from bot.storage.sql import SqlStorage

log = logging.getLogger("hipbot.progress")
PICTURE = "progress"
SUMMARY = "summary"  # the made document (bot.outgoing.register_maker)
MAX_POINTS = 26  # half a year of weekly check-ins on one chart
SYMPTOM_ANSWERS = ("signs", "hurts")  # the symptom check's answers the summary lists
RED_FLAG_PREFIX = "rf_"
FEELINGS = frozenset({"better", "same", "worse"})


# ---------------------------------------------------------------- the data


def _reminder_store(storage: SqlStorage) -> ReminderStore:
    """The reminders feature's store, read only here (check-ins, reminders, time zone)."""
    return ReminderStore(storage.db)


def checkins_of(storage: SqlStorage, user_id: str) -> list[CheckIn]:
    """A person's check-ins as the chart draws them: the day in their time zone (the last
    check-in of a day counts: ``trend.last_per_day``, as for the count and the worse-trend
    rule), pain and how it felt, and the activity scores kept with it.
    Check-ins without a pain score or a feeling are left out."""
    reminders = _reminder_store(storage)
    tz = zone(reminders.settings(user_id).tz)
    scores = {s.at: s.scores for s in store.scores(storage.db, user_id)}
    kept: list[CheckIn] = []
    for checkin in reminders.checkins(user_id):
        if not isinstance(checkin.pain, int) or checkin.trend not in FEELINGS:
            continue
        day = local_of(checkin.at, tz).date()
        activities = dict(list(scores.get(checkin.at, {}).items())[: trend.MAX_ACTIVITIES])
        kept.append(CheckIn(day, checkin.pain, cast(Feeling, checkin.trend), activities))
    return trend.last_per_day(sorted(kept, key=lambda c: c.on), lambda c: c.on)


def make_chart(storage: SqlStorage, user_id: str) -> bytes:
    """The personal picture ``progress``: the chart of the latest check-ins, drawn now.
    Raises ValueError when the person has none (the row cannot be sent)."""
    checkins = checkins_of(storage, user_id)[-MAX_POINTS:]
    if not checkins:
        raise ValueError("no check-ins to chart (erased since the chart was asked for?)")
    record = storage.session_record(user_id) or {}
    labels = chart_labels(str(record.get("language") or "en"))
    return pool.draw(render_chart, checkins, labels)


# ---------------------------------------------------------------- Common questions opened

FAQ_TOPIC = "faq"  # the steps of Common questions (flows/hip.yaml)


def faq_titles(bundle: Bundle) -> dict[str, Text]:
    """The Common questions' answers: step -> its question, as the menus' buttons word it.
    An answer is a ``faq`` step a ``faq`` menu leads to that is not itself a menu (a step
    with buttons to three or more ``faq`` steps)."""

    def faq_targets(step: Any) -> list[Any]:
        return [
            b
            for b in step.buttons
            if (target := bundle.flows.get(b.go.flow)) is not None
            and (found := target.steps.get(b.go.step)) is not None
            and found.topic == FAQ_TOPIC
        ]

    titles: dict[str, Text] = {}
    for flow in bundle.flows.values():
        menus = [s for s in flow.steps.values() if s.topic == FAQ_TOPIC]
        for menu in menus:
            for button in faq_targets(menu):
                answer = bundle.flows[button.go.flow].steps[button.go.step]
                if len(faq_targets(answer)) < 3:
                    titles.setdefault(answer.id, button.label)
    return titles


def agreed(bundle: Bundle, session: Session) -> bool:
    """The person agreed to the current privacy policy (the consent answers are kept under)."""
    policy, given = bundle.policy, session.answers.get(CONSENT_ANSWER)
    return (
        policy is not None
        and isinstance(given, int)
        and not isinstance(given, bool)
        and given >= policy.consent.version
    )


def opened_hook(ports: Ports) -> Any:
    """A turn hook: keep each Common question the person opens, only with their consent."""

    def hook(db: Database, session: Session, now: float) -> None:
        bundle = ports.loaded.bundle
        titles = ports.loaded.once("progress.faq_titles", lambda: faq_titles(bundle))
        if session.step in titles and agreed(bundle, session):
            store.record_opened(db, session.user_id, now, session.step)

    return hook


def export_with_titles(ports: Ports) -> Any:
    """/mydata: what the store keeps, each opened question with its words (in English)."""

    def export(db: Database, user_id: str) -> dict[str, Any]:
        kept = store.export(db, user_id)
        titles = ports.loaded.once("progress.faq_titles", lambda: faq_titles(ports.loaded.bundle))
        for item in kept["questions_opened"]:
            title = titles.get(item["step"])
            item["question"] = title.get("en") if title is not None else None
        return kept

    return export


def opened_titles(bundle: Bundle, db: Database, user_id: str, language: str) -> list[str]:
    """The questions the person opened, oldest first, in their language."""
    titles = faq_titles(bundle)
    steps = [step for _, step in store.questions_opened(db, user_id)]
    return [titles[step].get(language) for step in steps if step in titles]


# ---------------------------------------------------------------- effects


def on_checkin(db: Database, session: Session, effect: Effect, now: float) -> None:
    """``checkin_recorded``: keep this week's activity scores with the check-in's time."""
    scores = trend.activity_scores(session.answers)
    if scores:
        store.record_scores(db, session.user_id, now, scores)


def on_withdrawn(db: Database, session: Session, effect: Effect, now: float) -> None:
    """``consent_withdrawn``: activity scores are health answers; they go at once."""
    store.erase(db, session.user_id)


def setup(ports: Ports) -> None:
    storage = ports.storage
    store.migrate(storage.db)
    storage.on_effect("checkin_recorded", on_checkin)
    storage.on_effect("consent_withdrawn", on_withdrawn)
    storage.erasers.append(store.erase)
    storage.exporters["progress"] = export_with_titles(ports)
    storage.turn_hooks.append(opened_hook(ports))
    pictures.register_personal(PICTURE, make_chart)
    outgoing.register_maker(SUMMARY, make_summary)


# ---------------------------------------------------------------- /progress


def progress_command(context: Context) -> Response:
    """/progress: the chart as a photo (drawn when sent), or a short text under 3 check-ins."""
    checkins = checkins_of(context.storage, context.user_id)
    if not chart_makes_sense(checkins):
        few = fill(texts.FEW_CHECKINS.get(context.language), count=str(len(checkins)))
        return Response(replies=[Reply(few)])
    caption = texts.CHART_CAPTION.get(context.language)
    alt = texts.CHART_ALT.get(context.language)
    return Response(replies=[Reply(caption, image=PICTURE, alt=alt, step="progress")])


# ---------------------------------------------------------------- /summary


def consented(engine: Engine, session: Session | None) -> bool:
    """Whether the person agreed to the current privacy policy (as the engine checks it)."""
    agreed = session.answers.get(CONSENT_ANSWER) if session is not None else None
    rule = engine.consent
    return rule is not None and isinstance(agreed, int) and agreed >= rule.version


def _labels(engine: Engine, name: str, value: AnswerValue, language: str) -> list[str]:
    """An answer in the words of its question's buttons."""
    question = engine.questions.get(name)
    options = {o.value: o.label.get(language) for o in question.options} if question else {}
    values = value if isinstance(value, list) else [str(value)]
    return [options.get(v, v) for v in values]


def red_flag_screen(
    answers: Mapping[str, AnswerValue],
    answered_at: Mapping[str, float],
    tz: Any,
    language: str = "en",
) -> RedFlagScreen | None:
    """The safety questions' outcome and day, when the person answered any of them."""
    asked = [name for name in answers if name.startswith(RED_FLAG_PREFIX)]
    if not asked:
        return None
    yes = [name for name in asked if answers[name] is True]
    words = summary_labels(language)
    outcome = (
        words["red_flags_yes"].format(yes=len(yes), asked=len(asked))
        if yes
        else words["red_flags_no"].format(asked=len(asked))
    )
    when = max((answered_at.get(name, 0.0) for name in asked), default=0.0)
    return RedFlagScreen(outcome, local_of(when, tz).date())


def _reminder_uses(reminders: Any, user_id: str, language: str = "en") -> list[ReminderUse]:
    uses = []
    for reminder in reminders.reminders(user_id):
        key = NAMES.get(reminder.kind)
        what = key.get(language) if key is not None else reminder.kind
        uses.append(
            ReminderUse(what, reminder.describe(language), reminder.done_count, reminder.sent_count)
        )
    return uses


def build_summary(context: Context) -> Summary:
    """What the person told the bot, for the page (``bot.progress.summary``)."""
    storage, user, language = context.storage, context.user_id, context.language
    record = storage.session_record(user) or {}
    session = context.session
    answers: Mapping[str, AnswerValue] = session.answers if session is not None else {}
    answered_at: Mapping[str, float] = record.get("answered_at", {}) or {}
    reminders = _reminder_store(storage)
    tz = zone(reminders.settings(user).tz)
    symptoms: list[str] = []
    for name in SYMPTOM_ANSWERS:
        value = answers.get(name)
        if value is not None:
            symptoms += _labels(context.engine, name, value, language)
    checkins = checkins_of(storage, user)
    pain = answers.get("pain_now")
    pain_now = checkins[-1].pain if checkins else pain if isinstance(pain, int) else None
    activities = [a for a in (answers.get(s) for s in trend.SLOTS) if isinstance(a, str)]
    return Summary(
        made_on=local_of(context.now, tz).date(),
        symptoms=symptoms,
        activities=activities,
        pain_now=pain_now if not isinstance(pain_now, bool) else None,
        red_flags=red_flag_screen(answers, answered_at, tz, language),
        checkins=checkins[-MAX_POINTS:],
        reminders=_reminder_uses(reminders, user, language),
        questions=opened_titles(context.engine.bundle, storage.db, user, language),
        language=language,
    )


def summary_json(summary: Summary) -> bytes:
    """The summary's data for its outbox row (sealed there); ``make_summary`` reads it."""
    value = {
        "made_on": summary.made_on.isoformat(),
        "symptoms": list(summary.symptoms),
        "activities": list(summary.activities),
        "pain_now": summary.pain_now,
        "red_flags": (
            {"outcome": summary.red_flags.outcome, "on": summary.red_flags.on.isoformat()}
            if summary.red_flags
            else None
        ),
        "checkins": [
            {"on": c.on.isoformat(), "pain": c.pain, "feeling": c.feeling, "scores": c.activities}
            for c in summary.checkins
        ],
        "reminders": [vars(r) for r in summary.reminders],
        "questions": None if summary.questions is None else list(summary.questions),
        "language": summary.language,
    }
    return json.dumps(value).encode()


def summary_of(data: bytes) -> Summary:
    value = json.loads(data)
    flags = value.get("red_flags")
    return Summary(
        made_on=date.fromisoformat(value["made_on"]),
        symptoms=[str(s) for s in value["symptoms"]],
        activities=[str(a) for a in value["activities"]],
        pain_now=value["pain_now"],
        red_flags=RedFlagScreen(flags["outcome"], date.fromisoformat(flags["on"]))
        if flags
        else None,
        checkins=[
            CheckIn(date.fromisoformat(c["on"]), c["pain"], c["feeling"], c["scores"])
            for c in value["checkins"]
        ],
        reminders=[ReminderUse(**r) for r in value["reminders"]],
        questions=value["questions"],
        language=str(value.get("language") or "en"),
    )


def make_summary(data: bytes) -> bytes:
    """The made document ``summary``: the PDF, made when the row is delivered."""
    summary = summary_of(data)
    return pool.draw(render_summary, summary, summary_labels(summary.language))


def summary_command(context: Context) -> Response:
    """/summary: the one-page PDF, only with consent to keep answers. The row holds the
    summary's data (sealed); the PDF is made when it is sent, in a worker thread."""
    if not consented(context.engine, context.session):
        return Response(replies=[Reply(texts.SUMMARY_NEEDS_CONSENT.get(context.language))])
    summary = build_summary(context)
    name = f"hip-summary-{summary.made_on.isoformat()}.pdf"
    caption = texts.SUMMARY_CAPTION.get(context.language)
    return Response(documents=[Document(name, summary_json(summary), caption, made=SUMMARY)])


__all__: Sequence[str] = [
    "checkins_of",
    "make_chart",
    "progress_command",
    "setup",
    "summary_command",
]
