"""What a due reminder says: its text and buttons, as an outbox row.

The store (``bot.features.reminders.store``) claims what is due and hands each ``Due`` to the
``Say`` it was given; the feature gives this module's ``wording(config)``, so the words and
buttons live here, on the feature's side, and the rows still go to the outbox in the
sweep's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from bot import outgoing, texts
from bot.features import button
from bot.features.reminders.rules import reminder_text, reminder_title, render_followup
from bot.features.reminders.store import BUTTON_KEY, Due
from bot.model import DEFAULT_LANGUAGE, Reply, ReplyButton
from bot.storage.sql import OutboxItem

Say = Callable[[Due], OutboxItem]

NAMES = {  # how /reminders and the summary name each kind (words: flows/texts_reminders.yaml)
    "sitting": texts.NAME_SITTING,
    "tip": texts.NAME_TIP,
    "exercise": texts.NAME_EXERCISE,
    "checkin": texts.NAME_CHECKIN,
    "followup": texts.NAME_FOLLOWUP,
}


def reminder_buttons(
    reminder_id: int, kind: str, language: str = DEFAULT_LANGUAGE
) -> list[list[ReplyButton]]:
    """Done, Snooze 15 min, Snooze 1 h, Stop this reminder (check-in: Start it first)."""
    rows = [
        [button(BUTTON_KEY, f"done:{reminder_id}", texts.DONE_BUTTON.get(language))],
        [
            button(BUTTON_KEY, f"s15:{reminder_id}", texts.SNOOZE_15.get(language)),
            button(BUTTON_KEY, f"s60:{reminder_id}", texts.SNOOZE_60.get(language)),
        ],
        [button(BUTTON_KEY, f"stop:{reminder_id}", texts.STOP_REMINDER.get(language))],
    ]
    if kind == "checkin":
        start = texts.START_CHECKIN.get(language)
        rows.insert(0, [button(BUTTON_KEY, f"go:{reminder_id}", start)])
    if kind == "followup":
        rows = [[button(BUTTON_KEY, f"stop:{reminder_id}", texts.STOP_TIPS.get(language))]]
    return rows


def say_due(due: Due, config: Mapping[str, str]) -> OutboxItem:
    """The outbox row for one claimed reminder; ``config`` fills a follow-up's placeholders
    such as {emergency_number}."""
    language = due.language
    if due.followup is not None:
        title = f"<b>{reminder_title('followup', language=language)}</b>\n"
        text = title + render_followup(due.followup, language, config)
    else:
        text = reminder_text(due.kind, due.sent_before, language=language)
    rows = reminder_buttons(due.reminder_id, due.kind, language)
    buttons = tuple(tuple(row) for row in rows)
    reply = Reply(text, buttons, step=f"reminder:{due.kind}")
    (row,) = outgoing.say(due.chat_id, reply, reminder=due.reminder_id)
    return row


def wording(config: Mapping[str, str]) -> Say:
    """The ``Say`` a ``ReminderStore`` sweeps with, filling placeholders from ``config``."""
    return partial(say_due, config=dict(config))
