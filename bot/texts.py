"""The keys of every text Python code says, by set; the words are in ``flows/texts_*.yaml``.

``bot.content`` explains the kit. Look a text up in the loaded bundle
(``bundle.kit.text(texts.DONE).get(language)``); ``texts.DONE.get(language)`` reads the
shipped kit, for code with no bundle at hand. Adding a key here makes ``hipbot validate``
ask for it in the set's file.
"""

from __future__ import annotations

from bot.content import text_set

# ---------------------------------------------------------------- engine: flows/texts_engine.yaml

_ENGINE = text_set("engine")
YES = _ENGINE.key("yes_button", label=True)
NO = _ENGINE.key("no_button", label=True)
DONE = _ENGINE.key("done", label=True)
NONE_OF_THESE = _ENGINE.key("none_of_these", label=True)
MENU = _ENGINE.key("menu", label=True)
HELP = _ENGINE.key("help", label=True)
ALREADY_CHOSEN = _ENGINE.key("already_chosen", label=True)  # a button's pop-up note
NOT_ANSWERED = _ENGINE.key("not_answered", label=True)  # in place of a missing answer
PICK_A_BUTTON = _ENGINE.key("pick_a_button")
REASK_CHOICE = _ENGINE.key("reask_choice")
REASK_YES_NO = _ENGINE.key("reask_yes_no")
REASK_INTEGER = _ENGINE.key("reask_integer", "min", "max")
REASK_TIME = _ENGINE.key("reask_time")
REASK_MULTI = _ENGINE.key("reask_multi")
WAY_OUT = _ENGINE.key("way_out")
STALE_BUTTON = _ENGINE.key("stale_button")
UNKNOWN_COMMAND = _ENGINE.key("unknown_command")
FLOW_CHANGED = _ENGINE.key("flow_changed")
AT_END = _ENGINE.key("at_end")
ONLY_TEXT = _ENGINE.key("only_text")
NO_EDITS = _ENGINE.key("no_edits")
PRIVATE_ONLY = _ENGINE.key("private_only")
STOPPED = _ENGINE.key("stopped")
TRY_AGAIN = _ENGINE.key("try_again")

# ---------------------------------------------------------------- clinics: flows/texts_clinics.yaml

_CLINICS = text_set("clinics")
ALERTS_NOTE = _CLINICS.key("alerts_note", "clinic")  # to a patient whose clinic gets alerts
JOIN_QUESTION = _CLINICS.key("join_question", "clinic")
JOINED = _CLINICS.key("joined", "clinic")
DECLINED = _CLINICS.key("declined", "clinic")
LEFT = _CLINICS.key("left", "clinic")
NOT_LINKED = _CLINICS.key("not_linked")
NOT_FROM = _CLINICS.key("not_from", "clinic")
WHICH_TO_LEAVE = _CLINICS.key("which_to_leave")
LINK_GONE = _CLINICS.key("link_gone")
JOIN_LABEL = _CLINICS.key("join_button", label=True)
DECLINE_LABEL = _CLINICS.key("decline_button", label=True)
STOP_LABEL = _CLINICS.key("stop_button", label=True)

# ---------------------------------------------------------------- reminders: flows/texts_reminders.yaml

_REMINDERS = text_set("reminders")
TITLE_SITTING = _REMINDERS.key("title_sitting", label=True)
TITLE_TIP = _REMINDERS.key("title_tip", label=True)
TITLE_EXERCISE = _REMINDERS.key("title_exercise", label=True)
TITLE_CHECKIN = _REMINDERS.key("title_checkin", label=True)
TITLE_FOLLOWUP = _REMINDERS.key("title_followup", label=True)
TITLE_OTHER = _REMINDERS.key("title_other", label=True)
SITTING_TIPS = _REMINDERS.key("sitting", many=True)
DAILY_TIPS = _REMINDERS.key("daily", many=True)
EXERCISE_TEXTS = _REMINDERS.key("exercise", many=True)
CHECKIN_TEXT = _REMINDERS.key("checkin")
