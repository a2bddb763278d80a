"""One person's conversation over the engine and a storage: the shared driver behind
``hipbot chat``, transcript tests and Python tests (``chat.send(...)``, ``chat.click(...)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.callbacks import small_number
from bot.engine import Engine
from bot.errors import HipbotError
from bot.model import Event, Outcome, Reply, Session
from bot.storage import Storage


class ButtonNotOffered(HipbotError, LookupError):
    """A click named a button that the latest replies do not offer."""


def parse_input(text: str) -> Event:
    """A typed line as an event: ``/start payload``, ``/menu``, or plain text."""
    stripped = text.strip()
    if stripped.startswith("/") and len(stripped) > 1:
        name, _, args = stripped[1:].partition(" ")
        name = name.split("@", 1)[0]
        if name == "start":
            return Event.start(args.strip())
        return Event.command_named(name, args.strip())
    return Event.message(text)


class Conversation:
    def __init__(
        self,
        engine: Engine,
        storage: Storage,
        user_id: str,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock  # stamps each event (``Event.at``); None: events carry no time
        self.storage = storage
        self.user_id = user_id
        self.replies: list[Reply] = []  # what the bot said in answer to the last action
        self.visited: set[str] = set()

    @property
    def session(self) -> Session | None:
        return self.storage.load_session(self.user_id)

    def handle(self, event: Event) -> list[Reply]:
        if self.clock is not None and not event.at:
            event = replace(event, at=self.clock())
        outcome = self.engine.handle(self.session, event, self.user_id)
        return self._commit(outcome)

    def send(self, text: str) -> list[Reply]:
        return self.handle(parse_input(text))

    def click(self, label: str) -> list[Reply]:
        return self.handle(self.button_event(label))

    def resume(self) -> list[Reply]:
        """Show where a returning person left off (or start a new person)."""
        session = self.session
        if session is None:
            return self.handle(Event.start())
        return self._commit(self.engine.repeat(session))

    def offered(self) -> list[tuple[str, str]]:
        """(label, data) of every button in the latest replies, newest message last."""
        return [(b.label, b.data) for reply in self.replies for row in reply.buttons for b in row]

    def button_event(self, label: str) -> Event:
        offered = self.offered()
        for wanted in (label, f"✅ {label}"):
            for text, data in reversed(offered):
                if text.casefold() == wanted.casefold():
                    return Event.button(data)
        position = None if self._asks_number() else small_number(label.strip())
        if position is not None and 1 <= position <= len(offered):
            return Event.button(offered[position - 1][1])
        labels = ", ".join(repr(text) for text, _ in offered) or "none"
        raise ButtonNotOffered(f"no button {label!r} is offered; offered: {labels}")

    def _asks_number(self) -> bool:
        """Whether the current step asks for a number: a typed number is then the answer
        (out of range: re-asked), never a button's position."""
        session = self.session
        flow = self.engine.bundle.flows.get(session.flow) if session else None
        step = flow.steps.get(session.step) if flow and session else None
        return step is not None and step.input is not None and step.input.kind == "integer"

    def text(self) -> str:
        return "\n\n".join(reply.text for reply in self.replies)

    def _commit(self, outcome: Outcome) -> list[Reply]:
        self.storage.commit_turn(outcome.session, outcome.effects)
        self.visited.update(outcome.visited)
        edits = [reply for reply in outcome.replies if reply.edit]
        if edits and len(edits) == len(outcome.replies):
            # a toggle changes the keyboard of the message on screen, nothing new is said
            self.replies = [*self.replies[:-1], *edits] if self.replies else edits
        else:
            self.replies = list(outcome.replies)
        return list(outcome.replies)
