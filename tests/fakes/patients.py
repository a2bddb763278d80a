"""Scripted patients for runs of the real bot against ``FakeBotApi`` (tests and benchmarks).

``script_patients`` walks the engine in-process (no Telegram, no storage) along a seeded
random path per patient: /start, then button taps, commands, typed text and stickers. For
every action it records the sendMessage texts the adapter must send (split as the adapter
splits them) and how many edits it makes; for every patient, the session they must end with.

``Watch`` follows a fake's calls and wakes the patient of a chat whenever the bot sent or
edited something there, so hundreds of patients can wait for their answers without each
re-reading the fake on every change.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bot import texts
from bot.engine import Engine
from bot.features import BUTTON_PREFIX, load_features
from bot.loader import load_bundle
from bot.model import Event, Outcome, Reply, ReplyButton, Session
from bot.telegram_html import check_html, split_html
from tests.fakes.bot_api import Call, FakeBotApi, FakeUser

Kind = Literal["start", "command", "click", "text", "sticker"]


@dataclass(frozen=True)
class Action:
    """One thing a patient does, and what the bot must answer."""

    kind: Kind
    arg: str = ""  # command name, button label or typed text
    sends: tuple[str, ...] = ()  # HTML of each sendMessage it causes, in order
    edits: int = 0  # edits of the pressed message (the choice shown in place of the buttons)

    @property
    def visible(self) -> tuple[str, ...]:
        """The sends as the person sees them (tags removed), as ``SentMessage.text``."""
        return tuple(check_html(text) for text in self.sends)

    def perform(self, user: FakeUser) -> dict[str, Any]:
        """Queue this action as an update in the fake; returns the update."""
        if self.kind == "start":
            return user.send_command("/start")
        if self.kind == "command":
            return user.send_command(f"/{self.arg}")
        if self.kind == "click":
            return user.click(self.arg)
        if self.kind == "text":
            return user.send_text(self.arg)
        return user.send_sticker()


@dataclass(frozen=True)
class PatientScript:
    chat_id: int
    actions: tuple[Action, ...]
    session: Session  # where the engine says the patient ends (last_update left at 0)

    @property
    def sends(self) -> list[str]:
        return [text for action in self.actions for text in action.sends]


def engine_for(flows_dir: str | Path, emergency_number: str = "112") -> Engine:
    return Engine(load_bundle([str(flows_dir)]), {"emergency_number": emergency_number})


def _sends(replies: Sequence[Reply]) -> tuple[str, ...]:
    return tuple(part for r in replies if not r.edit for part in split_html(r.text))


def _keyboard(replies: Sequence[Reply]) -> tuple[ReplyButton, ...]:
    """Buttons of the newest message with a keyboard among ``replies`` (none: ())."""
    for reply in reversed(replies):
        if not reply.edit and reply.buttons:
            buttons = [button for row in reply.buttons for button in row]
            # a feature's buttons (x:...) are not the engine's to answer
            return tuple(b for b in buttons if not b.data.startswith(BUTTON_PREFIX))
    return ()


def simulate(
    engine: Engine,
    session: Session | None,
    user_id: str,
    kind: Kind,
    arg: str,
    keyboard: Sequence[ReplyButton],
) -> tuple[Outcome, list[Reply]]:
    """What the adapter does with one action: the outcome and every reply it sends."""
    if kind == "sticker" and session is not None:
        only_text = texts.ONLY_TEXT.get(session.language)
        note = Reply(engine.with_urgent_note(session, only_text), step=session.step)
        outcome = engine.repeat(session)
        return outcome, [note, *outcome.replies]
    event = {
        "start": Event.start(),
        "command": Event.command_named(arg),
        "text": Event.message(arg),
        "sticker": Event.start(),
    }.get(kind)
    if kind == "click":
        data = next(button.data for button in keyboard if button.label == arg)
        event = Event.button(data)
    assert event is not None
    outcome = engine.handle(session, event, user_id)
    return outcome, list(outcome.replies)


# Effects whose handlers only record something. Actions with other effects (a reminder that
# will message the person later, answers or data erased) are left out of the walks: what the
# adapter stores and sends for them is not the engine's alone.
QUIET_EFFECTS = frozenset({"started", "red_flag", "consent_given"})


def _walkable(outcome: Outcome, replies: Sequence[Reply]) -> bool:
    """An action a patient may take: it answers with a new message (what the patient waits
    for; toggles that only edit a keyboard are left out) and has only quiet effects."""
    return (
        bool(_sends(replies))
        and not any(reply.edit for reply in replies)
        and all(effect.name in QUIET_EFFECTS for effect in outcome.effects)
    )


def script_patient(
    engine: Engine,
    chat_id: int,
    length: int,
    rng: random.Random,
    taken: frozenset[str] = frozenset(),
) -> PatientScript:
    """/start, then ``length - 1`` more actions. ``taken``: commands a feature answers
    before the engine (left out)."""
    user_id = str(chat_id)
    commands = sorted(set(engine.routes) - taken)
    session: Session | None = None
    keyboard: tuple[ReplyButton, ...] = ()
    actions: list[Action] = []
    while len(actions) < length:
        for _ in range(30):
            kind, arg = _pick(rng, actions, keyboard, commands)
            outcome, replies = simulate(engine, session, user_id, kind, arg, keyboard)
            sends = _sends(replies)
            if _walkable(outcome, replies):
                break
        else:
            kind, arg = "command", "menu"
            outcome, replies = simulate(engine, session, user_id, kind, arg, keyboard)
            sends = _sends(replies)
        edits = 1 if kind == "click" and outcome.chosen is not None else 0
        actions.append(Action(kind, arg, sends, edits))
        session = outcome.session
        keyboard = _keyboard(replies)
    assert session is not None
    return PatientScript(chat_id, tuple(actions), session)


def _pick(
    rng: random.Random,
    actions: list[Action],
    keyboard: Sequence[ReplyButton],
    commands: list[str],
) -> tuple[Kind, str]:
    if not actions:
        return "start", ""
    roll = rng.random()
    if keyboard and roll < 0.72:
        return "click", rng.choice([button.label for button in keyboard])
    if roll < 0.84:
        return "command", rng.choice(commands)
    if roll < 0.90:
        typed = rng.choice([button.label for button in keyboard]) if keyboard else "next"
        return "text", rng.choice(["hello", "what is this?", typed.lower()])
    if roll < 0.96:
        return "sticker", ""
    return "start", ""


def script_patients(
    flows_dir: str | Path,
    chat_ids: Sequence[int],
    length: tuple[int, int] = (6, 10),
    seed: int = 0,
    emergency_number: str = "112",
) -> list[PatientScript]:
    """One seeded script per chat id, ``length`` actions long (inclusive range)."""
    engine = engine_for(flows_dir, emergency_number)
    taken = frozenset(load_features().commands)
    scripts = []
    for chat_id in chat_ids:
        rng = random.Random(f"{seed}:{chat_id}")
        scripts.append(script_patient(engine, chat_id, rng.randint(*length), rng, taken))
    return scripts


class Watch:
    """Wakes whoever waits on a chat when the fake answered a call for that chat.

    ``sent[chat]`` counts the sendMessage calls the fake accepted for the chat; ``sent_at[chat]``
    holds when the fake answered each of them (``time.time()``).
    """

    def __init__(self, fake: FakeBotApi) -> None:
        self.fake = fake
        self.sent: dict[int, int] = {}
        self.sent_at: dict[int, list[float]] = {}
        self._events: dict[int, asyncio.Event] = {}
        self._seen = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Watch:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            calls = await self.fake.wait_for(self._calls_if_new, timeout=3600, what="calls")
            fresh, self._seen = calls[self._seen :], len(calls)
            for call in fresh:
                chat = call.params.get("chat_id")
                if not isinstance(chat, int):
                    continue
                if call.method == "sendMessage" and call.status == 200:
                    self.sent[chat] = self.sent.get(chat, 0) + 1
                    self.sent_at.setdefault(chat, []).append(call.time + call.duration)
                event = self._events.get(chat)
                if event is not None:
                    event.set()

    def _calls_if_new(self) -> list[Call]:
        calls = self.fake.calls()
        return calls if len(calls) > self._seen else []

    async def until(
        self,
        chat_id: int,
        predicate: Callable[[], bool],
        timeout: float,
        recheck: float | None = None,
    ) -> None:
        """Wait until ``predicate()`` holds, re-checking whenever the bot wrote to the chat
        (and every ``recheck`` seconds, for predicates on state outside the fake)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        event = self._events.setdefault(chat_id, asyncio.Event())
        while True:
            event.clear()
            if predicate():
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"chat {chat_id}: timed out after {timeout}s")
            wait = remaining if recheck is None else min(remaining, recheck)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), wait)
