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
from pathlib import Path
from typing import Any, TextIO

from bot import texts
from bot.conversation import ButtonNotOffered, Conversation
from bot.features import Context, Features, Response
from bot.model import Event, Reply, ReplyButton
from bot.storage.sql import SqlStorage

_TAG = re.compile(r"<[^>]+>")
_BOLD = re.compile(r"</?(b|strong)>")
CONSOLE_IDS = 10**15  # console people get chat ids far above Telegram's


def console_chat_id(name: str) -> int:
    """A stable chat id for a console user name."""
    return CONSOLE_IDS + zlib.crc32(name.encode())


def to_plain(html_text: str, color: bool) -> str:
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
                keys.setdefault(button.label.casefold(), button.data)  # its words press it too
                out.write(f"  [{number}] {button.label}\n")
    out.flush()
    return keys


class Console:
    """One person at a terminal."""

    def __init__(
        self,
        chat: Conversation,
        features: Features,
        chat_id: int,
        out: TextIO,
        clock: Callable[[], float] = time.time,
        files: Path = Path("data"),
    ) -> None:
        self.chat = chat
        self.features = features
        self.chat_id = chat_id
        self.out = out
        self.clock = clock
        self.files = files
        self.color = out.isatty()
        self.keys: dict[str, str] = {}
        self.lock = threading.RLock()

    def show(self, replies: list[Reply]) -> None:
        with self.lock:
            self.keys = render(replies, self.out, self.color)

    def act(self, text: str) -> None:
        """A typed key presses its button; a button's words press it; anything else is sent."""
        with self.lock:
            stripped = text.strip()
            if stripped.startswith("/"):
                name, _, args = stripped[1:].partition(" ")
                if self._switch(name.casefold()):
                    return
                command = self.features.commands.get(name.casefold())
                if command is not None:
                    self._respond(command(self._context(args)))
                    return
                self.show(self.chat.send(text))
                return
            data = self.keys.get(stripped) or self.keys.get(stripped.casefold())
            if data is None:
                with contextlib.suppress(ButtonNotOffered):
                    data = self.chat.button_event(stripped).name
            if data is None:
                waiting = self.features.read_text(self._context(), text)
                if waiting is not None:  # a feature waiting for typed text (a wizard)
                    self._respond(waiting)
                    return
                self.show(self.chat.send(text))
                return
            response = self.features.press(self._context(), data)
            if response is not None:
                self._respond(response)
                return
            replies = self.chat.handle(Event.button(data))
            self.show(self.chat.replies if replies and all(r.edit for r in replies) else replies)

    def _switch(self, name: str) -> bool:
        """/stop pauses every message the bot sends by itself; /start allows them again
        (and starts over), as on Telegram. True when /stop was handled here."""
        storage = self.chat.storage
        if name == "start":
            storage.set_flag(self.chat.user_id, "stopped", False)
        elif name == "stop":
            storage.set_flag(self.chat.user_id, "stopped", True)
            self.show([Reply(texts.STOPPED.get("en"))])
            return True
        return False

    def deliver_due(self) -> int:
        """Run the sweeps, then print this person's due outbox messages."""
        with self.lock:
            storage = self.chat.storage
            if not isinstance(storage, SqlStorage):
                return 0
            now = self.clock()
            self.features.run_jobs(storage, now)
            rows = storage.claim_outbox(50, now, chat_id=self.chat_id)
            replies = [_as_reply(row.method, row.params) for row in rows]
            for row in rows:
                storage.mark_sent(row.id, now)
            shown = [reply for reply in replies if reply is not None]
            if shown:
                self.show(shown)
            return len(shown)

    def _context(self, args: str = "") -> Context:
        storage = self.chat.storage
        assert isinstance(storage, SqlStorage), "features need the SQL storage"
        return Context(
            user_id=self.chat.user_id,
            chat_id=self.chat_id,
            storage=storage,
            engine=self.chat.engine,
            now=self.clock(),
            args=args,
            session=self.chat.session,
        )

    def _respond(self, response: Response) -> None:
        replies = list(response.replies)
        if response.edit is not None:
            replies.insert(0, response.edit)
        for document in response.documents:
            self.files.mkdir(parents=True, exist_ok=True)
            path = self.files / document.filename
            path.write_bytes(document.content)
            replies.append(Reply(f"{html.escape(document.caption)}\n(saved as {path})"))
        if response.then is not None:
            replies += self.chat.handle(response.then)
        self.show(replies)


def _as_reply(method: str, params: dict[str, Any]) -> Reply | None:
    """An outbox row as something to print (only new messages are shown in a terminal)."""
    if method != "sendMessage":
        return None
    rows = (params.get("reply_markup") or {}).get("inline_keyboard", [])
    buttons = tuple(
        tuple(ReplyButton(b["text"], b.get("callback_data", "")) for b in row) for row in rows
    )
    return Reply(str(params.get("text", "")), buttons)


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
