"""One turn of a web person's conversation, driven as ``bot/console.py`` drives it.

The page posts either typed text or the data of a pressed button; the answer is the bot's
new messages as JSON-ready dicts. Everything runs over the same ``Conversation`` (engine and
storage) and ``Features`` as Telegram and the console, in one transaction holding the
chat's lock, so a web person's session, answers, consent and erasure are the same rows.

Reminders and follow-ups are Telegram-only for now: a turn that would enter the reminders
flow, or a reminders command, gets ``texts.TELEGRAM_ONLY`` and the person stays where they were.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from bot import texts
from bot.conversation import Conversation
from bot.engine import Engine
from bot.features import Context, Document, Features, Response
from bot.model import Event, Outcome, Reply
from bot.storage.sql import SqlStorage
from bot.web.markup import markup_tree

WEB_IDS = 10**15  # web people get negative chat ids below -10**15: Telegram's private chats
# are positive, its groups above -10**13, the console's ids positive (bot.console)
REMINDERS_FLOW = "reminders"
TELEGRAM_ONLY_COMMANDS = frozenset({"reminders", "timezone", "remind"})
MAX_TEXT = 1000  # characters of one typed message
MAX_BUTTON = 64  # bytes of a button's data, as on Telegram


def web_chat_id(person: str) -> int:
    """A stable chat id for a web person's random cookie id; the id itself is not stored."""
    digest = hashlib.sha256(f"hipbot-web:{person}".encode()).digest()
    return -(WEB_IDS + int.from_bytes(digest[:6], "big"))


@dataclass
class Turn:
    """What the page shows after one action."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"messages": self.messages, "documents": self.documents}


def message_json(reply: Reply, replace_last: bool = False) -> dict[str, Any]:
    """A reply as the page draws it: markup tree, button rows, and whether it replaces the
    buttons (``edit``: a toggle) or the whole of the last message (``replace``)."""
    return {
        "content": markup_tree(reply.text),
        "buttons": [[{"label": b.label, "data": b.data} for b in row] for row in reply.buttons],
        "edit": reply.edit,
        "replace": replace_last,
    }


def document_json(document: Document) -> dict[str, str]:
    return {
        "filename": document.filename,
        "caption": document.caption,
        "data": base64.b64encode(document.content).decode(),
    }


class WebChat:
    """One web person: their chat id, the shared engine, features and storage."""

    def __init__(
        self,
        engine: Engine,
        storage: SqlStorage,
        features: Features,
        chat_id: int,
        clock: Callable[[], float],
    ) -> None:
        self.features = features
        self.chat_id = chat_id
        self.clock = clock
        self.chat = Conversation(engine, storage, str(chat_id), clock=clock)
        self.storage = storage

    # ------------------------------------------------------------ entry points

    def history(self) -> Turn:
        """Where a returning person left off (nothing for someone new: the page starts)."""
        with self.storage.db.transaction() as db:
            db.lock_key("chat", self.chat_id)
            session = self.chat.session
            if session is None:
                return Turn()
            outcome = self.chat.engine.repeat(session)
            self.storage.commit_turn(outcome.session, outcome.effects)
            return Turn([message_json(r) for r in outcome.replies if not r.edit])

    def send(self, text: str) -> Turn:
        """Typed text: a command, a feature's awaited answer, or the engine's."""
        with self.storage.db.transaction() as db:
            db.lock_key("chat", self.chat_id)
            return self._send(text)

    def press(self, data: str) -> Turn:
        """A pressed button: a feature's own (``x:...``) or the engine's."""
        with self.storage.db.transaction() as db:
            db.lock_key("chat", self.chat_id)
            response = self.features.press(self._context(), data)
            if response is not None:
                return self._respond(response, pressed=True)
            return self._engine(Event.button(data))

    # ------------------------------------------------------------ turns

    def _send(self, text: str) -> Turn:
        stripped = text.strip()
        if stripped.startswith("/"):
            name, _, args = stripped[1:].partition(" ")
            name = name.split("@", 1)[0][:32].casefold()
            if name == "start":
                self.storage.set_flag(self.chat.user_id, "stopped", False)
            elif name == "stop":
                self.storage.set_flag(self.chat.user_id, "stopped", True)
                return Turn([message_json(Reply(texts.STOPPED.get("en")))])
            if name in TELEGRAM_ONLY_COMMANDS:
                return self._telegram_only()
            command = self.features.commands.get(name)
            if command is not None:
                return self._respond(command(self._context(args[:200])))
            return self._engine(
                Event.command(name, args[:200]) if name != "start" else Event.start()
            )
        waiting = self.features.read_text(self._context(), text)
        if waiting is not None:  # a feature waiting for typed text (a wizard)
            return self._respond(waiting)
        return self._engine(Event.message(text))

    def _engine(self, event: Event, prefix: list[Reply] | None = None) -> Turn:
        session = self.chat.session
        stamped = replace(event, at=event.at or self.clock())
        outcome = self.chat.engine.handle(session, stamped, self.chat.user_id)
        if _enters_reminders(session.flow if session else None, outcome):
            return self._telegram_only(prefix)
        self.storage.commit_turn(outcome.session, outcome.effects)
        return Turn([message_json(r) for r in [*(prefix or []), *outcome.replies]])

    def _telegram_only(self, prefix: list[Reply] | None = None) -> Turn:
        """Say reminders are Telegram-only, then show where the person is (nothing changes)."""
        note = Reply(texts.TELEGRAM_ONLY.get())
        session = self.chat.session
        again = self.chat.engine.repeat(session).replies if session is not None else ()
        return Turn([message_json(r) for r in [*(prefix or []), note, *again] if not r.edit])

    def _respond(self, response: Response, pressed: bool = False) -> Turn:
        turn = Turn()
        if response.edit is not None:
            turn.messages.append(message_json(response.edit, replace_last=pressed))
        turn.messages += [message_json(r) for r in response.replies]
        turn.documents += [document_json(d) for d in response.documents]
        if response.then is not None:
            turn.messages += self._engine(response.then).messages
        return turn

    def _context(self, args: str = "") -> Context:
        return Context(
            user_id=self.chat.user_id,
            chat_id=self.chat_id,
            storage=self.storage,
            engine=self.chat.engine,
            now=self.clock(),
            args=args,
            session=self.chat.session,
        )


def _enters_reminders(before_flow: str | None, outcome: Outcome) -> bool:
    return outcome.session.flow == REMINDERS_FLOW and before_flow != REMINDERS_FLOW
