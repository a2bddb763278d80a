"""One turn of a web person's conversation, through the turn service all channels share.

The page posts either typed text or the data of a pressed button; the answer is the bot's
new messages as JSON-ready dicts, drawn from the turn's channel-neutral rows
(``bot.outgoing``). Engine, features, storage and the turn itself are Telegram's and the
console's, so a web person's session, answers, consent and erasure are the same rows.

Reminders and follow-ups are Telegram-only for now (``WEB.reminders`` is off): a turn that
would enter the reminders flow, or a reminders command, says so and the person stays where
they were.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from bot import outgoing, pictures
from bot.engine import Engine
from bot.features import Features
from bot.model import DEFAULT_LANGUAGE, Reply
from bot.storage.sql import SqlStorage
from bot.turns import Channel, Inbound, InboundKind, Turns
from bot.web.markup import markup_tree

WEB_IDS = 10**15  # web people get negative chat ids below -10**15: Telegram's private chats
# are positive, its groups above -10**13, the console's ids positive (bot.console)
WEB = Channel("web", durable=False, reminders=False)
NEWEST = 0  # the message whose buttons were pressed: the page only keeps the newest's
MAX_TEXT = 1000  # characters of one typed message
MAX_BUTTON = 64  # bytes of a button's data, as on Telegram
PICTURES_URL = "/pictures"  # a flow's pictures, by file name


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


def message_json(reply: Reply, replace_last: bool = False, url: str = "") -> dict[str, Any]:
    """A reply as the page draws it: markup tree, button rows, and whether it replaces the
    buttons (``edit``: a toggle) or the whole of the last message (``replace``)."""
    message: dict[str, Any] = {
        "content": markup_tree(reply.text),
        "buttons": [[{"label": b.label, "data": b.data} for b in row] for row in reply.buttons],
        "edit": reply.edit,
        "replace": replace_last,
    }
    if reply.image:  # served by the web server at this address (bot.web.server)
        message["image"] = {"url": url or picture_url(reply.image), "alt": reply.alt}
    return message


def picture_url(ref: str) -> str:
    return f"{PICTURES_URL}/{pictures.public_name(ref)}"


def document_json(payload: dict[str, Any]) -> dict[str, str]:
    filename, content, caption = outgoing.document_of(payload)  # a made one is made here
    return {
        "filename": filename,
        "caption": caption,
        "data": base64.b64encode(content).decode(),
    }


class WebChat:
    """One web person: a thin adapter over the turn service (``bot.turns``)."""

    def __init__(
        self,
        engine: Engine,
        storage: SqlStorage,
        features: Features,
        chat_id: int,
        clock: Callable[[], float],
        language: str = DEFAULT_LANGUAGE,
    ) -> None:
        self.engine = engine
        self.language = language  # a new person's (the browser's); a session keeps its own
        self.storage = storage
        self.chat_id = chat_id
        self.turns = Turns(engine, storage, features, WEB, clock)

    # ------------------------------------------------------------ entry points

    def history(self) -> Turn:
        """Where a returning person left off (nothing for someone new: the page starts)."""
        with self.storage.db.transaction() as db:
            db.lock_key("chat", self.chat_id)
            session = self.storage.load_session(str(self.chat_id))
            if session is None:
                return Turn()
            outcome = self.engine.repeat(session)
            self.storage.commit_turn(outcome.session, outcome.effects)
            return Turn([message_json(r) for r in outcome.replies if not r.edit])

    def send(self, text: str) -> Turn:
        """Typed text: a command, a feature's awaited answer, or the engine's."""
        stripped = text.strip()
        if not stripped.startswith("/"):
            return self._turn(Inbound(self.chat_id, "text", text=text, language=self.language))
        name, _, args = stripped[1:].partition(" ")
        name = name.split("@", 1)[0][:32].casefold()
        kind: InboundKind = "stop" if name == "stop" else "command"
        kind = "start" if name == "start" else kind
        args = "" if kind == "start" else args[:200]  # no clinic links here
        return self._turn(Inbound(self.chat_id, kind, text=args, name=name, language=self.language))

    def press(self, data: str) -> Turn:
        """A pressed button (always on the newest message: the page shows no others)."""
        return self._turn(
            Inbound(self.chat_id, "button", name=data, pressed=NEWEST, language=self.language)
        )

    def _personal_url(self, ref: str) -> str:
        """A personal picture (a progress chart) drawn now, as a data: address: it goes to
        the page in this answer and is never stored or served again. "" for other pictures."""
        if not pictures.is_personal(ref):
            return ""
        picture = pictures.load_for(ref, self.storage, str(self.chat_id))
        return f"data:{picture.mime};base64,{base64.b64encode(picture.content).decode()}"

    def _turn(self, inbound: Inbound) -> Turn:
        turn = Turn()
        for _, kind, payload in self.turns.handle(inbound).rows:
            if kind == outgoing.SAY:
                turn.messages.append(message_json(outgoing.reply_of(payload)))
            elif kind == outgoing.EDIT and not payload.get("_choice"):  # the page marks it
                whole = not payload.get("buttons_only")
                turn.messages.append(message_json(outgoing.reply_of(payload), replace_last=whole))
            elif kind == outgoing.PHOTO:
                picture, alt, caption = outgoing.photo_of(payload)
                shown = replace(caption, image=picture, alt=alt)
                turn.messages.append(message_json(shown, url=self._personal_url(picture)))
            elif kind == outgoing.DOCUMENT:
                turn.documents.append(document_json(payload))
        return turn
