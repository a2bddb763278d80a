"""``hipbot chat``: the same flows and storage as the Telegram bot, in a terminal.

Buttons are numbered; type the number or the label. Commands work (/menu, /help, ...).
Ctrl-D (end of input) leaves; running it again carries on where you were.
"""

from __future__ import annotations

import contextlib
import re
import sys
from typing import TextIO

from bot.conversation import ButtonNotOffered, Conversation
from bot.model import Event, Reply

_TAG = re.compile(r"<[^>]+>")
_BOLD = re.compile(r"</?(b|strong)>")


def to_plain(html_text: str, color: bool) -> str:
    import html

    if color:
        html_text = _BOLD.sub(
            lambda m: "\033[0m" if m.group(0).startswith("</") else "\033[1m", html_text
        )
    return html.unescape(_TAG.sub("", html_text))


def render(replies: list[Reply], out: TextIO, color: bool) -> dict[str, str]:
    """Print replies; return what each key a person may type stands for (key -> data).

    Buttons are numbered 1, 2, 3...; buttons whose label is a number (a 0-10 scale) are
    typed as that number instead, so "7" always means 7.
    """
    keys: dict[str, str] = {}
    number = 0
    for reply in replies:
        text = to_plain(reply.text, color).replace("\n", "\n     ")
        out.write(f"\nbot> {text}\n")
        for row in reply.buttons:
            if all(button.label.isdigit() for button in row):
                keys.update({button.label: button.data for button in row})
                out.write("  " + " ".join(f"[{button.label}]" for button in row) + "\n")
                continue
            for button in row:
                number += 1
                keys[str(number)] = button.data
                out.write(f"  [{number}] {button.label}\n")
    out.flush()
    return keys


def run_console(chat: Conversation, stdin: TextIO, out: TextIO) -> int:
    color = out.isatty()
    out.write(
        "hipbot chat: type a number or a button's words, /menu for the menu, Ctrl-D to leave.\n"
    )
    keys = render(chat.resume(), out, color)
    while True:
        if stdin.isatty():
            out.write("\nyou> ")
            out.flush()
        line = stdin.readline()
        if not line:
            out.write("\nBye for now. Run hipbot chat again to carry on where you left off.\n")
            return 0
        text = line.rstrip("\n")
        if not text.strip():
            continue
        if not stdin.isatty():
            out.write(f"\nyou> {text}\n")
        replies = _act(chat, text, keys)
        keys = render(replies, out, color)


def _act(chat: Conversation, text: str, keys: dict[str, str]) -> list[Reply]:
    """A typed key presses its button; a button's words press it; anything else is sent."""
    stripped = text.strip()
    event = None
    if stripped in keys:
        event = Event.button(keys[stripped])
    elif not stripped.startswith("/"):
        with contextlib.suppress(ButtonNotOffered):
            event = chat.button_event(stripped)
    if event is None:
        return chat.send(text)
    replies = chat.handle(event)
    return chat.replies if replies and all(r.edit for r in replies) else replies


def main(chat: Conversation) -> int:
    try:
        return run_console(chat, sys.stdin, sys.stdout)
    except KeyboardInterrupt:
        sys.stdout.write("\nBye for now.\n")
        return 0
