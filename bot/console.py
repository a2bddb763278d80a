"""``hipbot chat``: the same flows, features and storage as the Telegram bot, in a terminal.

Buttons are numbered; type the number or the label. Commands work (/menu, /help, ...).
Ctrl-D (end of input) leaves; running it again carries on where you were. Messages the bot
sends on its own (reminders, clinic messages) go through the same outbox as on Telegram and
are printed when they are due.
"""

from __future__ import annotations

import contextlib
import html
import re
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from bot import outgoing, pictures
from bot.conversation import ButtonNotOffered, Conversation
from bot.features import Features
from bot.model import DEFAULT_LANGUAGE, Reply
from bot.outgoing import Row
from bot.storage.sql import SqlStorage
from bot.turns import Channel, Inbound, InboundKind, Turns

_TAG = re.compile(r"<[^>]+>")
_BOLD = re.compile(r"</?(b|strong)>")
CONSOLE_IDS = 10**15  # console people get chat ids far above Telegram's
CONSOLE = Channel("console", durable=False, reminders=True)  # its outbox: deliver_due
ON_SCREEN = 0  # the message whose buttons were pressed: always the one on screen


def console_chat_id(name: str) -> int:
    """A stable chat id for a console user name."""
    return CONSOLE_IDS + zlib.crc32(name.encode())


def to_plain(html_text: str, color: bool) -> str:
    if color:
        html_text = _BOLD.sub(
            lambda m: "\033[0m" if m.group(0).startswith("</") else "\033[1m", html_text
        )
    return html.unescape(_TAG.sub("", html_text))


def render(
    replies: list[Reply],
    out: TextIO,
    color: bool,
    pictures_dir: Path | None = None,
    owner: tuple[Any, str] = (None, ""),
) -> dict[str, str]:
    """Print replies; return what each key a person may type stands for (key -> data).

    Buttons are numbered 1, 2, 3...; buttons whose label is a number (a 0-10 scale) are
    typed as that number instead, so "7" always means 7. A picture is shown as its alt text
    and, with ``pictures_dir``, the file it is written to (a personal picture is drawn for
    ``owner``: (storage, user id)).
    """
    keys: dict[str, str] = {}
    number = 0
    for reply in replies:
        if reply.image:
            where = (
                f"\n     {pictures.write(reply.image, pictures_dir, *owner)}"
                if pictures_dir
                else ""
            )
            out.write(f"\nbot> [picture: {reply.alt}]{where}\n")
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
                keys.setdefault(button.label.casefold(), button.data)  # its words press it too
                out.write(f"  [{number}] {button.label}\n")
    out.flush()
    return keys


class Console:
    """One person at a terminal: a thin adapter over the turn service (``bot.turns``)."""

    def __init__(
        self,
        chat: Conversation,
        features: Features,
        chat_id: int,
        out: TextIO,
        clock: Callable[[], float] = time.time,
        files: Path = Path("data"),
        language: str = DEFAULT_LANGUAGE,
    ) -> None:
        storage = chat.storage
        if not isinstance(storage, SqlStorage):
            raise TypeError("hipbot chat needs the SQL storage (sqlite:// or postgresql://)")
        self.chat = chat  # its engine, and the buttons on screen for typed words (button_event)
        self.storage = storage
        self.turns = Turns(chat.engine, storage, features, CONSOLE, clock)
        self.features = features
        self.chat_id = chat_id
        self.language = language  # a new person's (``--language``); a session keeps its own
        self.out = out
        self.clock = clock
        self.files = files
        self.color = out.isatty()
        self.keys: dict[str, str] = {}
        self.lock = threading.RLock()

    def show(self, replies: list[Reply]) -> None:
        with self.lock:
            self.chat.replies = list(replies)
            owner = (self.storage, str(self.chat_id))
            self.keys = render(replies, self.out, self.color, self.files / "pictures", owner)

    def act(self, text: str) -> None:
        """A typed key presses its button; a button's words press it; anything else is sent."""
        with self.lock:
            stripped = text.strip()
            if stripped.startswith("/"):
                name, _, args = stripped[1:].partition(" ")
                name = name.split("@", 1)[0][:32].casefold()
                kind: InboundKind = "stop" if name == "stop" else "command"
                kind = "start" if name == "start" else kind
                self._turn(Inbound(self.chat_id, kind, text=args.strip(), name=name))
                return
            data = self.keys.get(stripped) or self.keys.get(stripped.casefold())
            if data is None:
                with contextlib.suppress(ButtonNotOffered):
                    data = self.chat.button_event(stripped).data
            if data is None:
                self._turn(Inbound(self.chat_id, "text", text=text))
            else:
                self._turn(Inbound(self.chat_id, "button", name=data, pressed=ON_SCREEN))

    def _turn(self, inbound: Inbound) -> None:
        self._print(self.turns.handle(replace(inbound, language=self.language)).rows)

    def _print(self, rows: list[Row]) -> None:
        """Rows as the terminal shows them: new messages, files saved to disk, and a changed
        message printed again (only when nothing new was said, as after a toggle)."""
        replies: list[Reply] = []
        changed: list[Reply] = []
        for _, kind, payload in rows:
            if kind == outgoing.SAY:
                replies.append(outgoing.reply_of(payload))
            elif kind == outgoing.EDIT and not payload.get("_choice"):
                changed.append(outgoing.reply_of(payload))
            elif kind == outgoing.PHOTO:
                picture, alt, shown = outgoing.photo_of(payload)
                replies.append(replace(shown, image=picture, alt=alt))
            elif kind == outgoing.DOCUMENT:
                filename, content, caption = outgoing.document_of(payload)
                self.files.mkdir(parents=True, exist_ok=True)
                path = self.files / filename
                path.write_bytes(content)
                replies.append(Reply(f"{html.escape(caption)}\n(saved as {path})"))
        if replies or changed:
            self.show([*changed, *replies])

    def deliver_due(self) -> int:
        """Run the sweeps, then print this person's due outbox messages."""
        with self.lock:
            now = self.clock()
            self.features.run_jobs(self.storage, now)
            rows = self.storage.claim_outbox(50, now, chat_id=self.chat_id)
            for row in rows:
                self.storage.mark_sent(row.id, now)
            shown = [outgoing.reply_of(r.params) for r in rows if r.method == outgoing.SAY]
            if shown:
                self.show(shown)
            return len(shown)


def run_console(console: Console, stdin: TextIO, poll: float = 5.0) -> int:
    out = console.out
    out.write(
        "hipbot chat: type a number or a button's words, /menu for the menu, Ctrl-D to leave.\n"
    )
    console.show(console.chat.resume())
    console.deliver_due()
    stop = threading.Event()
    if stdin.isatty():
        threading.Thread(target=_deliver_loop, args=(console, stop, poll), daemon=True).start()
    try:
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
            console.act(text)
            console.deliver_due()
    finally:
        stop.set()


def _deliver_loop(console: Console, stop: threading.Event, poll: float) -> None:
    while not stop.wait(poll):
        with contextlib.suppress(Exception):
            console.deliver_due()


def main(console: Console) -> int:
    try:
        return run_console(console, sys.stdin)
    except KeyboardInterrupt:
        sys.stdout.write("\nBye for now.\n")
        return 0
