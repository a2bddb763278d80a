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
SHARE_QUESTION = _CLINICS.key("share_question", "clinic")  # progress shared with the clinic?
SHARED = _CLINICS.key("shared", "clinic")
NOT_SHARED = _CLINICS.key("not_shared", "clinic")
SHARE_NONE = _CLINICS.key("share_none")
SHARE_YES_LABEL = _CLINICS.key("share_yes_button", label=True)
SHARE_NO_LABEL = _CLINICS.key("share_no_button", label=True)

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
NAME_SITTING = _REMINDERS.key("name_sitting", label=True)  # how /reminders names each kind
NAME_TIP = _REMINDERS.key("name_tip", label=True)
NAME_EXERCISE = _REMINDERS.key("name_exercise", label=True)
NAME_CHECKIN = _REMINDERS.key("name_checkin", label=True)
NAME_FOLLOWUP = _REMINDERS.key("name_followup", label=True)
TREND_BETTER = _REMINDERS.key("trend_better", label=True)
TREND_SAME = _REMINDERS.key("trend_same", label=True)
TREND_WORSE = _REMINDERS.key("trend_worse", label=True)
TREND_NONE = _REMINDERS.key("trend_none", label=True)
WINDOW_NOTE = _REMINDERS.key("window_note", "start", "end")
LIST_TITLE = _REMINDERS.key("list_title", label=True)  # a heading
LIST_NONE = _REMINDERS.key("list_none")
LIST_SETTINGS = _REMINDERS.key("list_settings", "timezone", "quiet")
LIST_STOPPED = _REMINDERS.key("list_stopped")
CHANGE = _REMINDERS.key("change_button", label=True)  # "Change: <name>"
STOP = _REMINDERS.key("stop_button", label=True)  # "Stop: <name>"
ADD = _REMINDERS.key("add_button", label=True)
MY_TIMEZONE = _REMINDERS.key("timezone_button", label=True)
MY_QUIET = _REMINDERS.key("quiet_button", label=True)
MY_CHECKINS = _REMINDERS.key("checkins_button", label=True)
BACK_TO_MENU = _REMINDERS.key("menu_button", label=True)
PLACE_NOT_FOUND = _REMINDERS.key("place_not_found")
TIMEZONE_SET = _REMINDERS.key("timezone_set", "timezone")
NO_CHECKINS = _REMINDERS.key("no_checkins")
CHECKINS_TITLE = _REMINDERS.key("checkins_title", label=True)
CHECKIN_LINE = _REMINDERS.key("checkin_line", "day", "pain", "trend")
PAIN_OF_10 = _REMINDERS.key("pain_of_10", "pain", label=True)
STOPPED_NOTE = _REMINDERS.key("stopped_note")
ALREADY_OFF = _REMINDERS.key("already_off")
REMINDER_OFF = _REMINDERS.key("reminder_off")
DONE_NOTE = _REMINDERS.key("done_note")
SNOOZED = _REMINDERS.key("snoozed", "when")
STOPPED_TIPS = _REMINDERS.key("stopped_tips")
STOPPED_REMINDER = _REMINDERS.key("stopped_reminder")
LETS_START = _REMINDERS.key("lets_start")
OLD_BUTTON = _REMINDERS.key("old_button")
DONE_BUTTON = _REMINDERS.key("done_button", label=True)  # under every reminder
SNOOZE_15 = _REMINDERS.key("snooze_15_button", label=True)
SNOOZE_60 = _REMINDERS.key("snooze_60_button", label=True)
STOP_REMINDER = _REMINDERS.key("stop_reminder_button", label=True)
START_CHECKIN = _REMINDERS.key("start_checkin_button", label=True)
STOP_TIPS = _REMINDERS.key("stop_tips_button", label=True)


# ---------------------------------------------------------------- privacy: flows/texts_privacy.yaml

_PRIVACY = text_set("privacy")
ASK_DELETE = _PRIVACY.key("ask_delete")
ERASED = _PRIVACY.key("erased")
KEPT = _PRIVACY.key("kept")
MYDATA_CAPTION = _PRIVACY.key("mydata_caption")  # the file's caption
NO_POLICY = _PRIVACY.key("no_policy")
ERASE_LABEL = _PRIVACY.key("erase_button", label=True)
KEEP_LABEL = _PRIVACY.key("keep_button", label=True)
TELEGRAM_ONLY = _PRIVACY.key("telegram_only")  # the web chat, where reminders would be set


# ---------------------------------------------------------------- progress: flows/texts_progress.yaml

_PROGRESS = text_set("progress")
CHART_CAPTION = _PROGRESS.key("chart_caption")
CHART_ALT = _PROGRESS.key("chart_alt")
FEW_CHECKINS = _PROGRESS.key("few_checkins", "count")
SUMMARY_CAPTION = _PROGRESS.key("summary_caption")
SUMMARY_NEEDS_CONSENT = _PROGRESS.key("summary_needs_consent")


# ---------------------------------------------------------------- language: flows/texts_language.yaml

_LANGUAGE = text_set("language")
CHOOSE_LANGUAGE = _LANGUAGE.key("choose")  # over one button per language, named in its own
LANGUAGE_SET = _LANGUAGE.key("set", "language")  # after a change, before the step again


# ---------------------------------------------------------------- commands: flows/texts_commands.yaml

_COMMANDS = text_set("commands")
COMMAND_DESCRIPTIONS = {  # Telegram's command menu, per language (flow routes have their own)
    name: _COMMANDS.key(name)
    for name in (
        "start",
        "stop",
        "reminders",
        "timezone",
        "progress",
        "summary",
        "leave",
        "language",
        "privacy",
        "mydata",
        "delete",
    )
}


# ---------------------------------------------------------------- when: flows/texts_when.yaml

_WHEN = text_set("when")  # how /reminders and the summary say when things happen
TODAY_AT = _WHEN.key("today_at", "time", label=True)
TOMORROW_AT = _WHEN.key("tomorrow_at", "time", label=True)
NOT_PLANNED = _WHEN.key("not_planned", label=True)
EVERY_MINUTES = _WHEN.key("every_minutes", "every", "start", "end", "days")
EVERY_WEEKDAY_AT = _WHEN.key("every_weekday_at", "day", "time", label=True)
EVERY_DAY_AT = _WHEN.key("every_day_at", "time", label=True)
AT_ON_DAYS = _WHEN.key("at_on_days", "time", "days", label=True)
EVERY_DAY = _WHEN.key("every_day", label=True)
WORK_DAYS = _WHEN.key("work_days", label=True)
WEEKEND = _WHEN.key("weekend", label=True)
QUIET_OFF = _WHEN.key("quiet_off", label=True)
QUIET_RANGE = _WHEN.key("quiet_range", "start", "end", label=True)
STARTED_ON = _WHEN.key("started_on", "day", label=True)
LIST_LINE = _WHEN.key("list_line", "name", "how", "when")  # one reminder in /reminders
FOLLOWUP_PROGRESS = _WHEN.key("followup_progress", "done", "total", label=True)


# ---------------------------------------------------------------- deployment: flows/texts_deployment.yaml

_DEPLOYMENT = text_set("deployment")  # the words put in for a setting left at its default
URGENT_CARE_DEFAULT = _DEPLOYMENT.key("urgent_care", label=True)  # "call {urgent_care} today"
URGENT_CARE_UNSET = "your doctor"  # HIPBOT_URGENT_CARE's default (bot.settings)


def configured(name: str, value: str, language: str) -> str:
    """A deployment setting as a placeholder shows it: the emergency number and a configured
    urgent-care service as they are, in every language; the unset urgent care ("your
    doctor") in the person's language."""
    if name == "urgent_care" and value == URGENT_CARE_UNSET:
        return URGENT_CARE_DEFAULT.get(language)
    return value


# ---------------------------------------------------------------- mydata: flows/texts_mydata.yaml

_MYDATA = text_set("mydata")
MYDATA_ABOUT = _MYDATA.key("about")  # the first line of /mydata's file (plain text, in JSON)
# ------------------------------------------- progress page: flows/texts_progress_page.yaml
# the words on the chart and the summary PDF (bot.progress.labels), plain text

_PAGE = text_set("progress_page")
_PAGE_HEADINGS = frozenset({"red_flags", "reminders", "better", "same", "worse", "none"})
PAGE_LABELS = {
    name: _PAGE.key(name, *placeholders, label=name in _PAGE_HEADINGS)  # a few words
    for name, placeholders in {
        "chart_title": (),
        "pain_axis": (),
        "pain_line": (),
        "activity_axis": (),
        "date_axis": (),
        "months": (),
        "day_month": ("day", "month"),
        "date": ("day", "month", "year"),
        "title": (),
        "made_on": (),
        "made_by": (),
        "symptoms": (),
        "activities": (),
        "pain_now": (),
        "red_flags": (),
        "red_flags_none": (),
        "red_flags_yes": ("yes", "asked"),
        "red_flags_no": ("asked",),
        "progress": (),
        "few_checkins": (),
        "checkin_line": ("day", "pain", "feeling"),
        "better": (),
        "same": (),
        "worse": (),
        "reminders": (),
        "reminder_line": ("what", "how_often", "done", "sent"),
        "questions": (),
        "none": (),
        "more": ("count",),
    }.items()
}
