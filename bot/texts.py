"""The engine's own words (re-asks, stale buttons, ...), with per-language variants."""

from __future__ import annotations

from bot.model import Text

YES = Text({"en": "Yes"})
NO = Text({"en": "No"})
DONE = Text({"en": "Done"})
NONE_OF_THESE = Text({"en": "None of these"})
PICK_A_BUTTON = Text({"en": "Please tap one of the buttons below, or type its number."})
REASK_CHOICE = Text({"en": "Sorry, I did not get that. Please tap a button, or type its number."})
REASK_YES_NO = Text({"en": "Please answer yes or no. You can tap a button."})
REASK_INTEGER = Text({"en": "Please type a whole number from {min} to {max}."})
REASK_TIME = Text({"en": "Please type a time like 09:30 or 18:00."})
REASK_MULTI = Text(
    {"en": "Tap the ones that fit, then tap Done. Or type their numbers, like 1, 3."}
)
WAY_OUT = Text({"en": "It seems this is not working. You can go back to the menu or ask for help."})
STALE_BUTTON = Text({"en": "That button is from an earlier message. Here is where we are now:"})
UNKNOWN_COMMAND = Text({"en": "Sorry, I don't know that command. Here is where we were:"})
FLOW_CHANGED = Text(
    {"en": "This part of the chat has been updated since your last visit. Let's carry on here."}
)
AT_END = Text({"en": "You can go back to the menu at any time."})
MENU = Text({"en": "Menu"})
HELP = Text({"en": "Help"})
NOT_ANSWERED = Text({"en": "not answered"})
ONLY_TEXT = Text({"en": "I can only read text and button taps here. Let's carry on:"})
NO_EDITS = Text(
    {"en": "I saw you edited a message. I only read new messages, so please send it again."}
)
PRIVATE_ONLY = Text(
    {
        "en": "Hello! I only talk in private chats, to keep health questions private. "
        "Please open a chat with me directly."
    }
)
STOPPED = Text(
    {
        "en": "Done. I will not send you any messages on my own: no reminders, no clinic "
        "news. I still answer when you write. Send /start to turn them back on."
    }
)
ALREADY_CHOSEN = Text({"en": "Already chosen ✓"})
TRY_AGAIN = Text(
    {"en": "Sorry, something went wrong on my side. Please try that again in a moment."}
)
