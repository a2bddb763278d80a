"""One turn of a conversation, for every channel: Telegram, the terminal and the web chat.

A channel adapter turns what a person did into an ``Inbound`` and hands it to ``Turns``.
A turn runs in one transaction holding the chat's lock (replicas sharing PostgreSQL never
interleave one person's conversation): it skips an update it already handled (``seen``),
reads the session once, lets a feature take the input (a command, its button, a wizard's
typed answer) or else the engine, and writes the new session, the engine's effects, the
update's id and what the bot says, together.

What the bot says comes back as channel-neutral rows (``bot.outgoing``). A channel that
delivers later (``Channel.durable``: Telegram) has them written to the outbox in the same
transaction, so a crash never loses or repeats a reply; one that answers at once (the
terminal, the web chat) gets them back and draws them.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from bot import languages, outgoing, texts
from bot.content import TextKey
from bot.engine import Engine
from bot.features import Context, Features, Response
from bot.logs import hash_id
from bot.model import Event, Outcome, Reply, Session
from bot.outgoing import Row
from bot.storage import updates as seen_updates
from bot.storage.sql import SqlStorage, insert_outbox
from bot.telegram_html import escape

log = logging.getLogger("hipbot.turns")
SENSITIVE_TOPICS = frozenset({"redflags", "symptoms", "privacy"})
REMINDERS_FLOW = "reminders"
REMINDER_COMMANDS = frozenset({"reminders", "timezone", "remind"})
DEEP_LINK = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what /start may carry (a clinic link)
PRUNE_EVERY = 1000  # handled updates between clean-ups of the remembered update ids
InboundKind = Literal["start", "stop", "command", "text", "button", "other", "note"]


@dataclass(frozen=True)
class Channel:
    """What a channel can do. ``durable``: replies go to the outbox for a sender;
    ``reminders``: it can deliver messages the bot sends by itself later."""

    name: str
    durable: bool = False
    reminders: bool = True


@dataclass(frozen=True)
class Inbound:
    """What a person did, as any channel reports it.

    ``text``: typed text, a command's arguments, a deep-link payload, or a note to say;
    ``name``: a command's name or a button's data. ``pressed``: the channel's id of the
    message whose button was pressed (its buttons are replaced by the choice, quoting
    ``pressed_text``; with ``pressed_photo`` that message is a picture and the text its
    caption). ``seen``: (source, update id) when the channel may deliver an update twice.
    ``flag`` (for ``note``): say the note once ever per person; ``key``: the note as a text
    key, said in the person's language (else ``text`` as it is). ``language``: the channel's
    hint (Telegram's ``language_code``, the browser's ``Accept-Language``), used only for a
    person with no session yet; a session keeps the language it was made with (``/language``
    changes it).
    """

    chat_id: int
    kind: InboundKind
    text: str = ""
    name: str = ""
    language: str = "en"
    pressed: int | None = None
    pressed_text: str = ""
    pressed_photo: bool = False
    seen: tuple[int, int] | None = None
    flag: str = ""
    key: TextKey | None = None


@dataclass
class Done:
    """What a turn did: the rows the bot says (already in the outbox on a durable channel),
    the engine's outcome and the feature's response when they ran."""

    rows: list[Row] = field(default_factory=list)
    outcome: Outcome | None = None
    response: Response | None = None
    repeated: bool = False  # the update was handled before: nothing happened now


class Turns:
    """The turn service the channel adapters share."""

    def __init__(
        self,
        engine: Engine,
        storage: SqlStorage,
        features: Features,
        channel: Channel,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.storage = storage
        self.features = features
        self.channel = channel
        self.clock = clock
        self._handled = 0

    def handle(self, inbound: Inbound) -> Done:
        user = str(inbound.chat_id)
        now = self.clock()
        with self.storage.db.transaction() as db:
            db.lock_key("chat", inbound.chat_id)
            if inbound.kind in ("command", "text", "button", "other"):
                self.storage.prefetch_session(user)  # read with the seen check: one round trip
            if inbound.seen is not None and seen_updates.seen(db, *inbound.seen, now):
                log.info("repeated update ignored", extra={"event": "duplicate_update"})
                return Done(repeated=True)
            done = self._dispatch(inbound, user, now)
            if self.channel.durable:
                insert_outbox(db, done.rows, now)
            if inbound.seen is not None:
                seen_updates.remember(db, *inbound.seen, now)
                if done.outcome is None:
                    self._mark(user, inbound.seen[1], now)
        if inbound.seen is not None:
            self._prune(now)
        return done

    # ------------------------------------------------------------ dispatch

    def _dispatch(self, inbound: Inbound, user: str, now: float) -> Done:
        kind = inbound.kind
        if kind == "note":
            return self._note(inbound, user)
        if kind == "stop":
            self.storage.set_flag(user, "stopped", True)
            language = self.language_of(inbound)
            return Done(outgoing.say(inbound.chat_id, texts.STOPPED.get(language)))
        if kind == "start":
            self.storage.set_flag(user, "stopped", False)
            self.storage.set_flag(user, "blocked", False)
            payload = inbound.text if DEEP_LINK.match(inbound.text) else ""
            return self._engine(inbound, user, Event.start(payload), now)
        session = self.storage.load_session(user)
        if kind == "other":
            return self._other(inbound, user, session, now)
        if kind == "command":
            if inbound.name in REMINDER_COMMANDS and not self.channel.reminders:
                return Done(self._reminders_elsewhere(inbound, session))
            command = self.features.commands.get(inbound.name)
            if command is not None:
                context = self._context(inbound, user, session, now, inbound.text)
                return self._respond(inbound, user, command(context), now)
            event = Event.command_named(inbound.name, inbound.text)
        elif kind == "text":
            if self.features.text_handlers:  # a feature waiting for typed text (a wizard)
                context = self._context(inbound, user, session, now)
                response = self.features.read_text(context, inbound.text)
                if response is not None:
                    return self._respond(inbound, user, response, now)
            event = Event.message(inbound.text)
        else:
            response = self.features.press(self._context(inbound, user, session, now), inbound.name)
            if response is not None:
                return self._respond(inbound, user, response, now)
            event = Event.button(inbound.name)
        return self._engine(inbound, user, event, now, session=session, loaded=True)

    def _engine(
        self,
        inbound: Inbound,
        user: str,
        event: Event,
        now: float,
        prefix: list[Reply] | None = None,
        session: Session | None = None,
        loaded: bool = False,
    ) -> Done:
        before = session if loaded else self.storage.load_session(user)
        at = replace(event, at=event.at or now)
        outcome = self.engine.handle(before, at, user, languages.pick(inbound.language))
        if (
            not self.channel.reminders
            and outcome.session.flow == REMINDERS_FLOW
            and (before is None or before.flow != REMINDERS_FLOW)
        ):
            return Done(self._reminders_elsewhere(inbound, before, prefix))
        return self._commit(inbound, outcome, now, prefix)

    def _commit(
        self, inbound: Inbound, outcome: Outcome, now: float, prefix: list[Reply] | None = None
    ) -> Done:
        """Store the engine's new session (with the update id) and its effects."""
        after = outcome.session
        if inbound.seen is not None:
            after = replace(after, last_update=inbound.seen[1])
        self.storage.commit_turn(after, outcome.effects, (), now)
        rows = self._outcome_rows(inbound, outcome, prefix)
        self._log(after, len(rows))
        return Done(rows, outcome=outcome)

    def _outcome_rows(
        self, inbound: Inbound, outcome: Outcome, prefix: list[Reply] | None = None
    ) -> list[Row]:
        chat, pressed = inbound.chat_id, inbound.pressed
        rows: list[Row] = []
        if pressed is not None and outcome.chosen is not None:
            chosen = Reply(self._chosen(inbound, outcome.chosen))
            caption = inbound.pressed_photo
            rows.append(outgoing.edit(chat, pressed, chosen, caption=caption, choice=True))
        for reply in [*(prefix or []), *outcome.replies]:
            if not reply.edit:
                rows += outgoing.say(chat, reply)
            elif pressed is not None:
                rows.append(outgoing.edit(chat, pressed, reply, buttons_only=True))
        return rows

    @staticmethod
    def _chosen(inbound: Inbound, chosen: str) -> str:
        """The pressed message's text with what was picked under it, in place of buttons."""
        mark = f"✓ <i>{escape(chosen)}</i>"
        return f"{inbound.pressed_text}\n\n{mark}" if inbound.pressed_text else mark

    def _respond(self, inbound: Inbound, user: str, response: Response, now: float) -> Done:
        chat = inbound.chat_id
        rows: list[Row] = []
        if response.edit is not None and inbound.pressed is not None:
            caption = inbound.pressed_photo
            rows.append(outgoing.edit(chat, inbound.pressed, response.edit, caption=caption))
        for reply in response.replies:
            rows += outgoing.say(chat, reply)
        for doc in response.documents:
            rows.append(
                outgoing.document(chat, doc.filename, doc.content, doc.caption, made=doc.made)
            )
        if response.then is None:
            return Done(rows, response=response)
        then = self._engine(replace(inbound, pressed=None), user, response.then, now)
        return Done(rows + then.rows, outcome=then.outcome, response=response)

    def _other(self, inbound: Inbound, user: str, session: Session | None, now: float) -> Done:
        """Something that is not text (a sticker, a photo, a voice note): ask again in words."""
        if session is None:
            return self._engine(inbound, user, Event.start(), now, session=None, loaded=True)
        only_text = texts.ONLY_TEXT.get(session.language)
        note = Reply(self.engine.with_urgent_note(session, only_text), step=session.step)
        return self._commit(inbound, self.engine.repeat(session), now, [note])

    def _note(self, inbound: Inbound, user: str) -> Done:
        """A note that changes nothing else; with ``flag``, said to a person only once ever."""
        if inbound.flag and self.storage.get_flag(user, inbound.flag):
            return Done()
        if inbound.flag:
            self.storage.set_flag(user, inbound.flag, True)
        if inbound.key is not None:
            language = self.language_of(inbound)
            return Done(outgoing.say(inbound.chat_id, self.engine.text(inbound.key).get(language)))
        return Done(outgoing.say(inbound.chat_id, inbound.text))

    def _reminders_elsewhere(
        self, inbound: Inbound, session: Session | None, prefix: list[Reply] | None = None
    ) -> list[Row]:
        """This channel cannot send messages later: say where reminders work, then show
        where the person is (nothing changes)."""
        language = session.language if session is not None else languages.pick(inbound.language)
        note = Reply(texts.TELEGRAM_ONLY.get(language))
        again = self.engine.repeat(session).replies if session is not None else ()
        shown = [r for r in [*(prefix or []), note, *again] if not r.edit]
        return [row for reply in shown for row in outgoing.say(inbound.chat_id, reply)]

    def _context(
        self, inbound: Inbound, user: str, session: Session | None, now: float, args: str = ""
    ) -> Context:
        return Context(
            user_id=user,
            chat_id=inbound.chat_id,
            storage=self.storage,
            engine=self.engine,
            now=now,
            args=args[:200],
            language=session.language if session is not None else languages.pick(inbound.language),
            session=session,
        )

    def language_of(self, inbound: Inbound) -> str:
        """The person's language: their session's, else the channel's hint for someone new."""
        session = self.storage.load_session(str(inbound.chat_id))
        return session.language if session is not None else languages.pick(inbound.language)

    # ------------------------------------------------------------ upkeep

    def _mark(self, user: str, update_id: int, now: float) -> None:
        """The session keeps the latest update id even when no engine step ran (a feature's
        command or button): for a look at where a person is, not for deduping."""
        session = self.storage.load_session(user)
        if session is not None:
            marked = replace(session, revision=session.revision + 1, last_update=update_id)
            self.storage.commit_turn(marked, (), (), now)

    def _prune(self, now: float) -> None:
        self._handled += 1
        if self._handled >= PRUNE_EVERY:
            self._handled = 0
            seen_updates.forget_old(self.storage.db, now)

    def _log(self, session: Session, replies: int) -> None:
        flow = self.engine.bundle.flows.get(session.flow)
        step = flow.steps.get(session.step) if flow else None
        topic = step.topic if step else None
        # on health topics a step id like ``rf_fever_yes`` would tell an answer: log the topic
        shown = f"topic:{topic}" if topic in SENSITIVE_TOPICS else session.step
        log.info(
            "turn",
            extra={
                "event": "turn",
                "channel": self.channel.name,
                "user": hash_id(session.user_id),
                "step": shown,
                "flow": session.flow,
                "replies": replies,
            },
        )
