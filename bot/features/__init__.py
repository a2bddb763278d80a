"""Features beyond the flow engine (reminders, clinics, privacy), wired the same way into
every adapter.

Where things are: this module is the framework; each feature is a package beside it
(``reminders/``, ``clinics/``, ``privacy/``: ``rules.py`` pure rules and wording,
``store.py`` its tables (privacy keeps its few in ``chat.py``), ``chat.py`` its handlers, ``cli.py`` its ``hipbot`` subcommands,
``__init__.py`` its ``feature()``) or a module (``heartbeat.py``). To add a feature: a new
package here, named in ``FEATURE_MODULES``.

A feature is a ``Feature`` value built by a module listed in ``FEATURE_MODULES``. It may add:

* ``stores(ports)``: put its stores on the ``Ports`` of a storage (``ports.put(PORT, store)``),
  nothing else: handlers reach them as ``ctx.store(PORT)``, behind a small protocol;
* ``setup(ports)``: its tables (``storage.db.migrate(...)``), effect handlers and erasers;
* ``commands``: ``/name`` handlers, pure over a ``Context``, answering with a ``Response``;
* ``buttons``: handlers for its own buttons, whose data is ``x:<key>:<argument>``;
* ``jobs``: periodic work (sweeps) run by ``hipbot run`` every few seconds and by the console,
  called with the storage's ``Ports`` and the time;
* ``text``: typed text it is waiting for (a wizard's next answer), offered before the engine;
* ``cli``: subcommands of ``hipbot``.

The turn service (``bot.turns``) turns a ``Response`` into channel-neutral messages
(``bot.outgoing``): replies (with buttons), documents (a file on Telegram, a download in the
web chat, a saved file in the console) and optionally an engine event to run afterwards (for
example: go to the reminders flow).

Ports: what the entry point loaded once (``Loaded``: the checked settings, the flows bundle and
the paths it came from) reaches every feature through ``Ports``; no feature reads the
environment, loads settings or reads ``./flows`` itself (its ``cli.py``, an entry point,
excepted), and none keeps a module-level cache (``tests/test_features_shape.py``).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import logging
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from bot.model import Event, Reply, ReplyButton, Session

if TYPE_CHECKING:
    from bot.engine import Engine
    from bot.model import Bundle
    from bot.settings import Settings
    from bot.storage.sql import SqlStorage

T = TypeVar("T")

log = logging.getLogger("hipbot.features")
FEATURE_MODULES: list[str] = [
    "bot.features.heartbeat",  # first: its job marks the database as in use before any sweep
    "bot.features.clinics",
    "bot.features.privacy",
    "bot.features.reminders",
    "bot.features.progress",  # after reminders: it reads the check-ins that feature keeps
    "bot.features.language",
]
BUTTON_PREFIX = "x:"


class Loaded:
    """What the entry point loaded once for the whole process: the checked ``settings``, the
    flows ``bundle`` and the ``paths`` it came from (follow-ups and audiences are read there).

    An entry point passes what it loaded (``hipbot chat --flows X``: X). What it leaves out is
    loaded here on first use, once: the settings from the environment, the bundle from the
    settings' flows folder.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        bundle: Bundle | None = None,
        paths: Sequence[str] | None = None,
    ) -> None:
        self._settings = settings
        self._bundle = bundle
        self._paths = tuple(str(path) for path in paths) if paths else None
        self._derived: dict[str, object] = {}

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from bot.settings import load_settings

            self._settings = load_settings()
        return self._settings

    @property
    def paths(self) -> tuple[str, ...]:
        return self._paths or (self.settings.flows_dir,)

    @property
    def bundle(self) -> Bundle:
        if self._bundle is None:
            from bot.loader import load_bundle

            self._bundle = load_bundle(self.paths)
        return self._bundle

    def once(self, name: str, build: Callable[[], T]) -> T:
        """What a feature derives from what was loaded (its follow-ups, its audiences), built
        on first use and kept for the process (this object's life, not a module's)."""
        if name not in self._derived:
            self._derived[name] = build()
        return cast(T, self._derived[name])


@dataclass(frozen=True)
class Port(Generic[T]):
    """The name of one store a feature puts on ``Ports``; ``T`` is its protocol."""

    name: str


class Ports:
    """What handlers and jobs reach beyond the turn, for one storage: the process's
    ``loaded`` settings and bundle, and each feature's stores behind their protocols."""

    def __init__(self, storage: SqlStorage, loaded: Loaded) -> None:
        self.storage = storage
        self.loaded = loaded
        self._stores: dict[str, object] = {}

    @property
    def settings(self) -> Settings:
        return self.loaded.settings

    def put(self, port: Port[T], store: T) -> None:
        self._stores[port.name] = store

    def get(self, port: Port[T]) -> T:
        if port.name not in self._stores:
            raise LookupError(
                f"no store {port.name!r} on these ports (known: {sorted(self._stores)}): "
                "is its feature loaded?"
            )
        return cast(T, self._stores[port.name])


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
    ports: Ports | None = None  # filled by ``Features`` before a handler runs

    def store(self, port: Port[T]) -> T:
        """A feature's store, behind its protocol (``ctx.store(REMINDERS)``)."""
        if self.ports is None:
            raise LookupError(f"no ports on this context: store {port.name!r} unknown")
        return self.ports.get(port)

    @property
    def loaded(self) -> Loaded:
        if self.ports is None:
            raise LookupError("no ports on this context: nothing loaded")
        return self.ports.loaded


@dataclass
class Response:
    replies: list[Reply] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    then: Event | None = None  # an engine event to handle after the replies
    edit: Reply | None = None  # for a button: replace the pressed message with this


Command = Callable[[Context], Response]
ButtonHandler = Callable[[Context, str], Response]
Job = Callable[["SqlStorage", float], int]  # what adapters run: ``Features.jobs``
PortJob = Callable[[Ports, float], int]  # what a feature declares
TextHandler = Callable[[Context, str], "Response | None"]


@dataclass
class Feature:
    name: str
    setup: Callable[[Ports], None] | None = None
    commands: dict[str, Command] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)  # for Telegram's command menu
    buttons: dict[str, ButtonHandler] = field(default_factory=dict)
    jobs: list[PortJob] = field(default_factory=list)
    cli: Callable[[Any], None] | None = None  # gets argparse's subparsers
    # typed text the feature is waiting for (a wizard's answer); None lets the engine have it
    text: TextHandler | None = None
    stores: Callable[[Ports], None] | None = None  # puts its stores on the ports, nothing else


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
    """Every feature, merged: what adapters look things up in.

    Its handlers and jobs are the features' own, given the ``Ports`` of the storage they run
    on (made here, once per storage: ``ports(storage)``), so a ``Context`` an adapter builds
    reaches the stores, settings and bundle without the adapter knowing of them.
    """

    def __init__(self, features: list[Feature], loaded: Loaded | None = None) -> None:
        self.features = features
        self.loaded = loaded or Loaded()
        self._ports: weakref.WeakKeyDictionary[SqlStorage, Ports] = weakref.WeakKeyDictionary()
        self.commands: dict[str, Command] = {}
        self.descriptions: dict[str, str] = {}
        self.buttons: dict[str, ButtonHandler] = {}
        self.jobs: list[Job] = []
        for feature in features:
            self.commands.update({k: self._command(h) for k, h in feature.commands.items()})
            self.descriptions.update(feature.descriptions)
            self.buttons.update({k: self._button(h) for k, h in feature.buttons.items()})
            self.jobs += [self._job(job) for job in feature.jobs]
        self.text_handlers = [self._text(f.text) for f in features if f.text is not None]

    def ports(self, storage: SqlStorage) -> Ports:
        """The ports of ``storage``: every feature's stores on it (made once)."""
        ports = self._ports.get(storage)
        if ports is None:
            ports = Ports(storage, self.loaded)
            for feature in self.features:
                if feature.stores is not None:
                    feature.stores(ports)
            self._ports[storage] = ports
        return ports

    def context(self, context: Context) -> Context:
        """``context`` with these features' ports of its storage."""
        ports = self.ports(context.storage)
        return context if context.ports is ports else replace(context, ports=ports)

    def _command(self, handler: Command) -> Command:
        @functools.wraps(handler)
        def bound(context: Context) -> Response:
            return handler(self.context(context))

        return bound

    def _button(self, handler: ButtonHandler) -> ButtonHandler:
        @functools.wraps(handler)
        def bound(context: Context, argument: str) -> Response:
            return handler(self.context(context), argument)

        return bound

    def _text(self, handler: TextHandler) -> TextHandler:
        @functools.wraps(handler)
        def bound(context: Context, text: str) -> Response | None:
            return handler(self.context(context), text)

        return bound

    def _job(self, job: PortJob) -> Job:
        @functools.wraps(job)
        def bound(storage: SqlStorage, now: float) -> int:
            return job(self.ports(storage), now)

        return bound

    def setup(self, storage: SqlStorage) -> None:
        ports = self.ports(storage)
        for feature in self.features:
            if feature.setup is not None:
                feature.setup(ports)

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


def load_features(modules: list[str] | None = None, loaded: Loaded | None = None) -> Features:
    """Import each feature module and call its ``feature()``; ``loaded``: what the entry
    point loaded (settings, bundle, paths), else loaded on first use (``Loaded``)."""
    found = []
    for name in FEATURE_MODULES if modules is None else modules:
        module = importlib.import_module(name)
        found.append(module.feature())
    return Features(found, loaded)
