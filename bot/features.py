"""Features beyond the flow engine (reminders, clinics, privacy), wired the same way into
every adapter.

A feature is a ``Feature`` value built by a module listed in ``FEATURE_MODULES``. It may add:

* ``setup(storage)``: its tables (``storage.db.migrate(...)``), effect handlers and erasers;
* ``commands``: ``/name`` handlers, pure over a ``Context``, answering with a ``Response``;
* ``buttons``: handlers for its own buttons, whose data is ``x:<key>:<argument>``;
* ``jobs``: periodic work (sweeps) run by ``hipbot run`` every few seconds and by the console;
* ``text``: typed text it is waiting for (a wizard's next answer), offered before the engine;
* ``cli``: subcommands of ``hipbot``.

The turn service (``bot.turns``) turns a ``Response`` into channel-neutral messages
(``bot.outgoing``): replies (with buttons), documents (a file on Telegram, a download in the
web chat, a saved file in the console) and optionally an engine event to run afterwards (for
example: go to the reminders flow).
"""

from __future__ import annotations

import argparse
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.model import Event, Reply, ReplyButton, Session

if TYPE_CHECKING:
    from bot.engine import Engine
    from bot.storage.sql import SqlStorage

log = logging.getLogger("hipbot.features")
FEATURE_MODULES: list[str] = [
    "bot.heartbeat",  # first: its job marks the database as in use before any sweep
    "bot.clinics_feature",
    "bot.privacy_feature",
    "bot.reminders_feature",
    "bot.progress.feature",  # after reminders: it reads the check-ins that feature keeps
]
BUTTON_PREFIX = "x:"


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    caption: str = ""
    made: str = ""  # a made document (bot.outgoing.register_maker): content is its data


@dataclass
class Context:
    """What a command or button handler may use. ``now`` is injected (UTC seconds)."""

    user_id: str
    chat_id: int
    storage: SqlStorage
    engine: Engine
    now: float
    args: str = ""
    language: str = "en"
    session: Session | None = None
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class Response:
    replies: list[Reply] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    then: Event | None = None  # an engine event to handle after the replies
    edit: Reply | None = None  # for a button: replace the pressed message with this


Command = Callable[[Context], Response]
ButtonHandler = Callable[[Context, str], Response]
Job = Callable[["SqlStorage", float], int]
TextHandler = Callable[[Context, str], "Response | None"]


@dataclass
class Feature:
    name: str
    setup: Callable[[SqlStorage], None] | None = None
    commands: dict[str, Command] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)  # for Telegram's command menu
    buttons: dict[str, ButtonHandler] = field(default_factory=dict)
    jobs: list[Job] = field(default_factory=list)
    cli: Callable[[Any], None] | None = None  # gets argparse's subparsers
    # typed text the feature is waiting for (a wizard's answer); None lets the engine have it
    text: TextHandler | None = None


def button(key: str, argument: str, label: str) -> ReplyButton:
    """A feature's button: ``x:<key>:<argument>`` (at most 64 bytes in all)."""
    data = f"{BUTTON_PREFIX}{key}:{argument}"
    if len(data.encode()) > 64:
        raise ValueError(f"button data {data!r} is over Telegram's 64 bytes")
    return ReplyButton(label, data)


def parse_button(data: str) -> tuple[str, str] | None:
    if not data.startswith(BUTTON_PREFIX):
        return None
    key, _, argument = data[len(BUTTON_PREFIX) :].partition(":")
    return key, argument


class Features:
    """Every feature, merged: what adapters look things up in."""

    def __init__(self, features: list[Feature]) -> None:
        self.features = features
        self.commands: dict[str, Command] = {}
        self.descriptions: dict[str, str] = {}
        self.buttons: dict[str, ButtonHandler] = {}
        self.jobs: list[Job] = []
        for feature in features:
            self.commands.update(feature.commands)
            self.descriptions.update(feature.descriptions)
            self.buttons.update(feature.buttons)
            self.jobs += feature.jobs
        self.text_handlers = [f.text for f in features if f.text is not None]

    def setup(self, storage: SqlStorage) -> None:
        for feature in self.features:
            if feature.setup is not None:
                feature.setup(storage)

    def add_cli(self, subparsers: argparse._SubParsersAction[Any]) -> None:
        for feature in self.features:
            if feature.cli is not None:
                feature.cli(subparsers)

    def read_text(self, context: Context, text: str) -> Response | None:
        """A feature's answer to typed text it is waiting for, else None (the engine's turn)."""
        for handler in self.text_handlers:
            response = handler(context, text)
            if response is not None:
                return response
        return None

    def run_jobs(self, storage: SqlStorage, now: float) -> int:
        """Run every job; one that fails is logged and never stops the others."""
        done = 0
        for job in self.jobs:
            try:
                done += job(storage, now)
            except Exception:
                log.exception("a job failed", extra={"event": "job_error", "error": job.__name__})
        return done

    def beat(self, storage: SqlStorage, now: float) -> None:
        """Run only the heartbeat job: a bot says it holds the database before anything else
        (it may retry reaching Telegram for minutes before the other jobs start)."""
        for job in self.jobs:
            if job.__name__ == "heartbeat":
                job(storage, now)

    def press(self, context: Context, data: str) -> Response | None:
        parsed = parse_button(data)
        if parsed is None or parsed[0] not in self.buttons:
            return None
        return self.buttons[parsed[0]](context, parsed[1])


def load_features(modules: list[str] | None = None) -> Features:
    """Import each feature module and call its ``feature()``."""
    found = []
    for name in FEATURE_MODULES if modules is None else modules:
        module = importlib.import_module(name)
        found.append(module.feature())
    return Features(found)
