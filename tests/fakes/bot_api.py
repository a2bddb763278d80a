"""An in-process fake of the Telegram Bot API, for end-to-end tests and benchmarks.

``FakeBotApi`` is a small aiohttp server on 127.0.0.1 that answers ``/bot<token>/<method>`` the
way api.telegram.org does, checks every request against the Bot API reference
(``telegram-bot-api/api.min.json`` in the shared folder beside the repository, or
``TELEGRAM_API_SPEC``), and rejects what Telegram rejects (too long or
badly formatted text, oversized ``callback_data``, editing a missing message, ...). Tests drive
simulated people through :meth:`FakeBotApi.user` and look at what the bot did with
:meth:`FakeBotApi.messages` / :meth:`FakeBotApi.calls` / :meth:`FakeBotApi.wait_for_message`.

Use from an async test::

    async with FakeBotApi() as fake:
        bot = telegram.Bot(fake.token, base_url=fake.base_url)
        ...

Use from synchronous code (a benchmark script)::

    with FakeBotApi.in_thread(rate_limits=RateLimits()) as fake:
        run_the_bot(base_url=fake.base_url)
        fake.user(42).send_command("/start")
        fake.wait_for_message_sync(42, contains="Welcome")

Threading: all state lives behind one re-entrant lock. Every public synchronous method
(``user(...).send_text``, ``fail_next``, ``messages``, ``calls``, ...) may be called from any
thread. ``wait_for*`` coroutines work from any event loop; ``wait_for*_sync`` block the calling
thread and must not be called from the thread that runs the server's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import functools
import itertools
import json
import math
import os
import re
import select
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

import aiohttp
from aiohttp import web

from bot.telegram_html import MAX_CAPTION, MAX_TEXT, HtmlProblem, check_html
from tests.fakes.shared import shared_file

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "ApiSpec",
    "Call",
    "CallbackQueryRecord",
    "FakeBotApi",
    "FakeUser",
    "RateLimits",
    "SentMessage",
    "UploadedFile",
    "WebhookDelivery",
]

JSONDict = dict[str, Any]
T = TypeVar("T")

DEFAULT_TOKEN = "123456789:AAFakeTokenForHipbotTests_0123456789"
SPEC_FILE = "telegram-bot-api/api.min.json"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER = 200
MAX_COMMANDS = 100
MAX_BUTTONS = 100
RECHECK = 0.05  # s: a wait re-checks at least this often (its condition may be outside the fake)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Telegram's default when allowed_updates was never given.
NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_PRIMITIVES = frozenset({"String", "Integer", "Float", "Boolean", "InputFile"})
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_LANG_RE = re.compile(r"^[a-z]{2}$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_BOT_COMMAND_IN_TEXT = re.compile(r"(?:(?<=\s)|^)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


# --------------------------------------------------------------------------------------------
# The Bot API reference
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: dict[str, FieldSpec]
    returns: tuple[str, ...]


class ApiSpec:
    """The methods and types of api.min.json, with case-insensitive method lookup."""

    def __init__(self, data: JSONDict) -> None:
        self.version: str = str(data.get("version", "?"))
        self.methods: dict[str, MethodSpec] = {}
        for name, raw in data["methods"].items():
            fields = {
                f["name"]: FieldSpec(f["name"], tuple(f["types"]), bool(f["required"]))
                for f in raw.get("fields", [])
            }
            self.methods[name] = MethodSpec(name, fields, tuple(raw.get("returns", [])))
        self._by_lower = {name.lower(): spec for name, spec in self.methods.items()}
        self.types: dict[str, JSONDict] = data["types"]
        self.update_types: tuple[str, ...] = tuple(
            f["name"] for f in self.types["Update"]["fields"] if f["name"] != "update_id"
        )

    @classmethod
    def load(cls, path: str | Path | None = None) -> ApiSpec:
        """The reference at ``path``, ``TELEGRAM_API_SPEC``, or the shared folder's copy."""
        return _load_spec(
            str(path or os.environ.get("TELEGRAM_API_SPEC") or shared_file(SPEC_FILE))
        )

    def method(self, name: str) -> MethodSpec | None:
        return self._by_lower.get(name.lower())

    def missing_required(self, type_name: str, obj: Any, path: str = "") -> list[str]:
        """Paths of required fields absent from ``obj`` (recursively) for a Bot API type.

        Used to check that the JSON this fake produces is what Telegram would send.
        """
        path = path or type_name
        if type_name.startswith("Array of "):
            inner = type_name.removeprefix("Array of ")
            if not isinstance(obj, list):
                return [f"{path} (not an array)"]
            return [
                m
                for i, o in enumerate(obj)
                for m in self.missing_required(inner, o, f"{path}[{i}]")
            ]
        spec = self.types.get(type_name)
        if spec is None:
            return []
        if "subtypes" in spec:
            options = [self.missing_required(sub, obj, path) for sub in spec["subtypes"]]
            return min(options, key=len) if options else []
        if not isinstance(obj, dict):
            return [f"{path} (not an object)"]
        missing: list[str] = []
        for f in spec.get("fields", []):
            if f["name"] not in obj:
                if f["required"]:
                    missing.append(f"{path}.{f['name']}")
                continue
            object_types = [t for t in f["types"] if t.removeprefix("Array of ") not in _PRIMITIVES]
            if len(f["types"]) == 1 and object_types:
                missing += self.missing_required(
                    object_types[0], obj[f["name"]], f"{path}.{f['name']}"
                )
        return missing


@functools.lru_cache(maxsize=4)
def _load_spec(path: str) -> ApiSpec:
    with open(path, encoding="utf-8") as fh:
        return ApiSpec(json.load(fh))


# --------------------------------------------------------------------------------------------
# Public records
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer: ``{"ok": false, "error_code": status, "description": ...}``."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    name: str  # the form field
    filename: str | None
    content_type: str | None
    size: int
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class Call:
    """One request the bot made."""

    method: str  # canonical name from the reference ("sendMessage"), or as requested if unknown
    params: JSONDict  # decoded values (ints, bools, dicts, UploadedFile) when validation passed
    time: float  # time.time() when the request arrived
    duration: float
    status: int  # HTTP status of the answer
    description: str | None  # error description, None on success
    result: Any = field(repr=False, default=None)


@dataclass
class SentMessage:
    """A message the bot sent, as it looks now (after edits). ``text`` is the visible text or
    caption (HTML tags removed); ``raw_text`` what the bot sent."""

    chat_id: int
    message_id: int
    kind: str  # "text", "document", "photo", or the send method's suffix ("sticker", ...)
    method: str
    text: str | None
    raw_text: str | None
    parse_mode: str | None
    reply_markup: JSONDict | None
    date: int
    media: JSONDict | None = None
    file: UploadedFile | str | None = None
    edit_date: int | None = None
    edits: int = 0
    deleted: bool = False
    history: list[tuple[str | None, JSONDict | None]] = field(default_factory=list)

    @property
    def buttons(self) -> list[JSONDict]:
        """Inline keyboard buttons, row by row, flattened."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]

    @property
    def button_texts(self) -> list[str]:
        return [str(b.get("text", "")) for b in self.buttons]

    @property
    def has_inline_keyboard(self) -> bool:
        return bool(self.buttons)


@dataclass
class CallbackQueryRecord:
    id: str
    chat_id: int
    message_id: int
    user_id: int
    data: str
    created: float  # time.monotonic()
    answered: bool = False
    answer: JSONDict | None = None


@dataclass(frozen=True)
class WebhookDelivery:
    url: str
    update_id: int
    attempt: int
    status: int | None  # None: connection error or timeout
    error: str | None
    time: float


@dataclass
class RateLimits:
    """Flood limits like Telegram's. Only message-sending methods count (``send*`` except
    sendChatAction, ``forward*``, ``copy*``; ``edit*`` too with ``include_edits``)."""

    global_per_second: float = 30.0
    global_burst: float = 30.0
    chat_per_second: float = 1.0  # private chats
    chat_burst: float = 3.0
    group_per_minute: float = 20.0  # chats with a negative id
    group_burst: float = 20.0
    include_edits: bool = False


@dataclass
class _Fault:
    kind: Literal["fail", "delay", "drop"]
    method: str  # lower-case name or "*"
    times: int
    chat_id: int | str | None = None
    status: int = 500
    description: str = ""
    retry_after: int | None = None
    seconds: float = 0.0

    def matches(self, method: str, raw: JSONDict) -> bool:
        if self.method not in ("*", method.lower()):
            return False
        return self.chat_id is None or str(raw.get("chat_id")) == str(self.chat_id)


class _TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.capacity = max(burst, 1.0)
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def wait_time(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


@dataclass
class _Chat:
    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None

    def to_json(self) -> JSONDict:
        out: JSONDict = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass
class _Person:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"

    def to_json(self) -> JSONDict:
        out: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _command_entities(text: str) -> list[JSONDict]:
    return [
        {
            "type": "bot_command",
            "offset": _utf16_len(text[: m.start()]),
            "length": _utf16_len(m.group(0)),
        }
        for m in _BOT_COMMAND_IN_TEXT.finditer(text)
    ]


def _chat_type_for(chat_id: int) -> str:
    if chat_id > 0:
        return "private"
    return "supergroup" if chat_id <= -1_000_000_000_000 else "group"


def _resolve_future(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeBotApi:
    """A fake api.telegram.org. See the module docstring."""

    def __init__(
        self,
        *,
        token: str | None = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        strict: bool = True,
        strict_chats: bool = False,
        rate_limits: RateLimits | None = None,
        spec_path: str | Path | None = None,
        max_poll_timeout: float = 50.0,
        callback_query_ttl: float | None = None,
        webhook_retry_delay: float = 0.05,
        webhook_max_attempts: int = 50,
        webhook_timeout: float = 10.0,
        bot_username: str = "hipbot_test_bot",
        bot_first_name: str = "HipBot",
        keep_file_content: bool = True,
    ) -> None:
        """
        token: the token the bot must use (``None``: accept any); others get 401.
        strict: reject fields the reference does not list for a method (Telegram ignores them).
        strict_chats: sending to a chat nobody has written from gives "chat not found"
            (by default unknown chats are created: positive ids private, negative ids groups).
        rate_limits: flood limits (``None``: off); change later with :meth:`set_rate_limits`.
        callback_query_ttl: seconds after which answering a callback query fails (Telegram:
            about 15); ``None``: never.
        """
        self.token = token
        self.host = host
        self.strict = strict
        self.strict_chats = strict_chats
        self.spec = ApiSpec.load(spec_path)
        self.max_poll_timeout = max_poll_timeout
        self.callback_query_ttl = callback_query_ttl
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_max_attempts = webhook_max_attempts
        self.webhook_timeout = webhook_timeout
        self.keep_file_content = keep_file_content
        prefix = (token or "").split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 7_000_000_001
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name

        self._port = port
        self._lock = threading.RLock()
        self._version = 0
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._sync_waiters: list[int] = []  # write ends of the pipes wait_for_sync selects on
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._closing = False

        self._chats: dict[int, _Chat] = {}
        self._people: dict[int, _Person] = {}
        self._message_ids: dict[int, int] = {}
        self._messages: dict[int, dict[int, SentMessage]] = {}
        self._user_messages: dict[int, dict[int, JSONDict]] = {}
        self._callbacks: dict[str, CallbackQueryRecord] = {}
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._files: dict[str, tuple[str, int]] = {}  # file id -> (unique id, size): for re-sends
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._blocked: set[int] = set()
        self._faults: list[_Fault] = []
        self._calls: list[Call] = []
        self._rate_limited = 0
        self._errors = 0

        self._next_update_id = 100_000
        self._pending: list[JSONDict] = []
        self._updates_log: list[JSONDict] = []
        self._allowed_updates: frozenset[str] = self._default_allowed()
        self._poll_generation = 0

        self._webhook_urls: list[str] = []
        self._webhook_secret: str | None = None
        self._webhook_rr = 0
        self._webhook_attempts: dict[int, int] = {}
        self._webhook_inflight: set[int] = set()
        self._webhook_deliveries: list[WebhookDelivery] = []
        self._webhook_max_connections = 40
        self._webhook_last_error: tuple[int, str] | None = None
        self.closed = False
        self.logged_out = False

        self._rate_limits: RateLimits | None = None
        self._global_bucket: _TokenBucket | None = None
        self._chat_buckets: dict[int, _TokenBucket] = {}
        self.set_rate_limits(rate_limits)

    # ---------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        if self._runner is None:
            raise RuntimeError("FakeBotApi is not started")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/bot``: PTB appends ``<token>/<method>``."""
        return f"{self.url}/bot"

    def method_url(self, method: str, token: str | None = None) -> str:
        return f"{self.base_url}{token or self.token or DEFAULT_TOKEN}/{method}"

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeBotApi is already started")
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._closing = False
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 2 * 1024 * 1024)
        app.router.add_route("GET", "/bot{token}/{method}", self._handle)
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        self._session = aiohttp.ClientSession()
        self._webhook_task = asyncio.create_task(self._webhook_worker(), name="fake-webhook")

    async def stop(self) -> None:
        self._closing = True
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @classmethod
    @contextlib.contextmanager
    def in_thread(cls, **kwargs: Any) -> Iterator[FakeBotApi]:
        """Run a FakeBotApi on its own event loop in a daemon thread (for synchronous code)."""
        fake = cls(**kwargs)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="FakeBotApi", daemon=True)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(fake.start(), loop).result(timeout=30)
            yield fake
        finally:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(timeout=30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=30)
            loop.close()

    # ---------------------------------------------------------------- configuration

    def set_rate_limits(self, limits: RateLimits | None) -> None:
        """Turn flood limits on (``RateLimits(...)``) or off (``None``); resets the buckets."""
        with self._lock:
            self._rate_limits = limits
            self._chat_buckets = {}
            self._global_bucket = (
                _TokenBucket(limits.global_per_second, limits.global_burst) if limits else None
            )

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` ("*" for any), optionally only those for
        ``chat_id``, fail with ``status``. A 429 always carries ``retry_after`` (default 1)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = {
                400: "Bad Request",
                401: "Unauthorized",
                403: "Forbidden",
                404: "Not Found",
                409: "Conflict",
                429: f"Too Many Requests: retry after {retry_after}",
                500: "Internal Server Error",
                502: "Bad Gateway",
                503: "Service Unavailable",
                504: "Gateway Timeout",
            }.get(status, "Error")
        fault = _Fault("fail", method.lower(), times, chat_id, status, description, retry_after)
        with self._lock:
            self._faults.append(fault)

    def delay_next(
        self, method: str, seconds: float, times: int = 1, chat_id: int | str | None = None
    ) -> None:
        """Hold the next ``times`` calls of ``method`` for ``seconds`` before processing them
        (the request still takes effect, as with a real timeout)."""
        with self._lock:
            self._faults.append(_Fault("delay", method.lower(), times, chat_id, seconds=seconds))

    def drop_connection_next(
        self, method: str, times: int = 1, chat_id: int | str | None = None
    ) -> None:
        """Close the connection without an answer on the next ``times`` calls of ``method``
        (the request has no effect). PTB raises telegram.error.NetworkError."""
        with self._lock:
            self._faults.append(_Fault("drop", method.lower(), times, chat_id))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def block(self, chat_id: int, notify: bool = True) -> None:
        """The person blocks the bot: sends to ``chat_id`` get 403. With ``notify`` a
        my_chat_member update (new status "kicked") is queued."""
        with self._lock:
            self._blocked.add(chat_id)
        if notify:
            self._push_member_change(chat_id, old="member", new="kicked")

    def unblock(self, chat_id: int, notify: bool = True) -> None:
        with self._lock:
            self._blocked.discard(chat_id)
        if notify:
            self._push_member_change(chat_id, old="kicked", new="member")

    def is_blocked(self, chat_id: int) -> bool:
        with self._lock:
            return chat_id in self._blocked

    def use_webhook(
        self,
        urls: str | Sequence[str],
        secret: str | None = None,
        allowed_updates: Sequence[str] | None = None,
    ) -> None:
        """Push updates to ``urls`` (round-robin over several, e.g. one per replica) with the
        header X-Telegram-Bot-Api-Secret-Token, as if the bot had called setWebhook."""
        url_list = [urls] if isinstance(urls, str) else list(urls)
        with self._lock:
            self._webhook_urls = url_list
            self._webhook_secret = secret
            if allowed_updates is not None:
                self._allowed_updates = self._allowed_from(list(allowed_updates))
        self._notify()

    def disable_webhook(self) -> None:
        with self._lock:
            self._webhook_urls = []
            self._webhook_secret = None
        self._notify()

    # ---------------------------------------------------------------- simulated people

    def user(
        self,
        chat_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> FakeUser:
        """A person with a private chat with the bot (user id == chat id)."""
        if chat_id <= 0:
            raise ValueError("a private chat id (= user id) must be positive")
        with self._lock:
            person = self._people.get(chat_id)
            if person is None:
                person = _Person(chat_id, first_name or f"User{chat_id}")
                self._people[chat_id] = person
            if first_name is not None:
                person.first_name = first_name
            if last_name is not None:
                person.last_name = last_name
            if username is not None:
                person.username = username
            person.language_code = language_code
            self._chats[chat_id] = _Chat(
                chat_id,
                "private",
                first_name=person.first_name,
                last_name=person.last_name,
                username=person.username,
            )
        return FakeUser(self, chat_id)

    def group_message(
        self, chat_id: int, text: str, user_id: int = 1, title: str = "Test group"
    ) -> JSONDict:
        """A message in a group ``chat_id`` (negative) from person ``user_id``."""
        return self.user(user_id).group_message(chat_id, text, title=title)

    def channel_post(self, chat_id: int, text: str, title: str = "Test channel") -> JSONDict:
        """A post in channel ``chat_id`` (negative); channel posts have no ``from``."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None or chat.type != "channel":
                chat = _Chat(chat_id, "channel", title=title)
                self._chats[chat_id] = chat
            message: JSONDict = {
                "message_id": self._next_message_id(chat_id),
                "sender_chat": chat.to_json(),
                "chat": chat.to_json(),
                "date": int(time.time()),
                "text": text,
            }
            self._user_messages.setdefault(chat_id, {})[message["message_id"]] = message
        return self.push_update({"channel_post": message})

    def push_update(self, update: JSONDict) -> JSONDict:
        """Queue an update (any Update JSON without update_id); returns it with its id."""
        with self._lock:
            full = {"update_id": self._next_update_id, **update}
            self._next_update_id += 1
            self._pending.append(full)
            self._updates_log.append(full)
        self._notify()
        return full

    def restart_numbering(self, start: int = 1) -> None:
        """Number the next updates from ``start`` again, as Telegram may after a week
        without updates (lower than before is allowed)."""
        with self._lock:
            self._next_update_id = start

    def redeliver(self, update: JSONDict) -> None:
        """Queue an update again exactly as it was (same update_id): what Telegram does when
        its delivery was never confirmed."""
        with self._lock:
            self._pending.append(copy.deepcopy(update))
        self._notify()

    def _push_member_change(self, chat_id: int, old: str, new: str) -> None:
        with self._lock:
            chat = self._chat(chat_id, create=True)
            person = self._people.get(chat_id) or _Person(chat_id, chat.first_name or "User")
            bot_user = self._bot_user_json()

            def member(status: str) -> JSONDict:
                out: JSONDict = {"status": status, "user": bot_user}
                if status == "kicked":
                    out["until_date"] = 0
                return out

            payload = {
                "chat": chat.to_json(),
                "from": person.to_json(),
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            }
        self.push_update({"my_chat_member": payload})

    # ---------------------------------------------------------------- inspection

    def messages(self, chat_id: int, include_deleted: bool = False) -> list[SentMessage]:
        """Messages the bot sent to ``chat_id``, oldest first, as they look now."""
        with self._lock:
            found = sorted(self._messages.get(chat_id, {}).values(), key=lambda m: m.message_id)
            return [self._snapshot(m) for m in found if include_deleted or not m.deleted]

    def last_message(self, chat_id: int) -> SentMessage | None:
        found = self.messages(chat_id)
        return found[-1] if found else None

    def texts(self, chat_id: int) -> list[str]:
        """Visible texts/captions of the bot's messages to ``chat_id``."""
        return [m.text or "" for m in self.messages(chat_id)]

    def user_messages(self, chat_id: int) -> list[JSONDict]:
        """Messages simulated people sent in ``chat_id`` (Telegram JSON)."""
        with self._lock:
            return [copy.deepcopy(m) for m in self._user_messages.get(chat_id, {}).values()]

    def calls(self, method: str | None = None) -> list[Call]:
        """Requests the bot made (all, or of one method, case-insensitive), in order."""
        with self._lock:
            if method is None:
                return list(self._calls)
            wanted = method.lower()
            return [c for c in self._calls if c.method.lower() == wanted]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    @property
    def errors(self) -> list[Call]:
        """Calls answered with an error status."""
        with self._lock:
            return [c for c in self._calls if c.status >= 400]

    @property
    def error_count(self) -> int:
        with self._lock:
            return self._errors

    @property
    def rate_limited_count(self) -> int:
        """How many 429 answers were given (flood limits and injected)."""
        with self._lock:
            return self._rate_limited

    @property
    def commands(self) -> list[JSONDict]:
        """Commands set for the default scope and no language."""
        return self.commands_for()

    def commands_for(
        self, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        with self._lock:
            return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    def callback_queries(self) -> list[CallbackQueryRecord]:
        with self._lock:
            return [dataclasses.replace(q) for q in self._callbacks.values()]

    def unanswered_callback_queries(self) -> list[CallbackQueryRecord]:
        return [q for q in self.callback_queries() if not q.answered]

    def updates(self) -> list[JSONDict]:
        """Every update pushed so far (delivered or not)."""
        with self._lock:
            return copy.deepcopy(self._updates_log)

    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed (getUpdates) or delivered (webhook)."""
        with self._lock:
            return copy.deepcopy(self._pending)

    def webhook_deliveries(self) -> list[WebhookDelivery]:
        with self._lock:
            return list(self._webhook_deliveries)

    # ---------------------------------------------------------------- waiting

    async def wait_for(
        self, predicate: Callable[[], T], timeout: float = 5.0, what: str = "condition"
    ) -> T:
        """Wait until ``predicate()`` is truthy (re-checked whenever the fake's state changes, and
        every ``RECHECK`` s for a condition outside the fake: the bot's database, its log);
        return its value or raise TimeoutError. Works from any event loop."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                version = self._version
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"FakeBotApi: timed out after {timeout}s waiting for {what}")
            await self._wait_change(version, min(remaining, RECHECK))

    def wait_for_sync(
        self, predicate: Callable[[], T], timeout: float = 5.0, what: str = "condition"
    ) -> T:
        """Blocking :meth:`wait_for` for synchronous callers (not from the server's thread).

        A change in the fake writes a byte to this wait's pipe. (Not a timed Condition.wait:
        under libfaketime, which fakes CLOCK_MONOTONIC but not sem_clockwait, that never
        timed out, so a wait woke only when the fake changed; select's timeout works.)"""
        if threading.get_ident() == self._loop_thread:
            raise RuntimeError(
                "wait_for_sync would block the FakeBotApi event loop; await wait_for"
            )
        changed, notify = os.pipe()
        os.set_blocking(notify, False)
        with self._lock:
            self._sync_waiters.append(notify)
        try:
            deadline = time.monotonic() + timeout
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"FakeBotApi: timed out after {timeout}s waiting for {what}")
                if select.select([changed], [], [], min(remaining, RECHECK))[0]:
                    os.read(changed, 4096)
        finally:
            with self._lock:
                self._sync_waiters.remove(notify)
            os.close(changed)
            os.close(notify)

    def _message_predicate(
        self, chat_id: int, contains: str | None, count: int | None
    ) -> Callable[[], SentMessage | None]:
        def predicate() -> SentMessage | None:
            found = [
                m for m in self.messages(chat_id) if contains is None or contains in (m.text or "")
            ]
            return found[-1] if len(found) >= (count or 1) else None

        return predicate

    def _describe_wait(self, chat_id: int, contains: str | None, count: int | None) -> str:
        texts = [t[:80] for t in self.texts(chat_id)]
        return f"{count or 1} message(s) to {chat_id} containing {contains!r}; the chat has {texts}"

    async def wait_for_message(
        self,
        chat_id: int,
        contains: str | None = None,
        count: int | None = None,
        timeout: float = 5.0,
    ) -> SentMessage:
        """Wait until at least ``count`` (default 1) of the bot's messages in ``chat_id`` contain
        ``contains`` (any text if None; edits count); return the latest such message."""
        predicate = self._message_predicate(chat_id, contains, count)
        try:
            found = await self.wait_for(predicate, timeout)
        except TimeoutError:
            raise TimeoutError(self._describe_wait(chat_id, contains, count)) from None
        assert found is not None
        return found

    def wait_for_message_sync(
        self,
        chat_id: int,
        contains: str | None = None,
        count: int | None = None,
        timeout: float = 5.0,
    ) -> SentMessage:
        predicate = self._message_predicate(chat_id, contains, count)
        try:
            found = self.wait_for_sync(predicate, timeout)
        except TimeoutError:
            raise TimeoutError(self._describe_wait(chat_id, contains, count)) from None
        assert found is not None
        return found

    async def wait_for_call(self, method: str, count: int = 1, timeout: float = 5.0) -> Call:
        """Wait until ``method`` was called ``count`` times; return the latest call."""

        def predicate() -> Call | None:
            found = self.calls(method)
            return found[-1] if len(found) >= count else None

        call = await self.wait_for(predicate, timeout, what=f"{count} call(s) of {method}")
        assert call is not None
        return call

    def _notify(self) -> None:
        with self._lock:
            self._version += 1
            waiters, self._waiters = self._waiters, []
            for notify in self._sync_waiters:  # under the lock: not closed meanwhile
                with contextlib.suppress(BlockingIOError):  # full: a wake-up is pending anyway
                    os.write(notify, b"!")
        for loop, fut in waiters:
            with contextlib.suppress(RuntimeError):  # that loop is closed
                loop.call_soon_threadsafe(_resolve_future, fut)

    async def _wait_change(self, version: int, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        entry = (loop, fut)
        with self._lock:
            if self._version != version or self._closing:
                return
            self._waiters.append(entry)
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock, contextlib.suppress(ValueError):
                self._waiters.remove(entry)

    # ---------------------------------------------------------------- HTTP

    async def _not_found(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        started = time.time()
        spec = self.spec.method(request.match_info["method"])
        method = spec.name if spec else request.match_info["method"]
        params: JSONDict = {}
        result: Any = None
        description: str | None = None
        retry_after: int | None = None
        status = 200
        try:
            if self.token is not None and request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if spec is None:
                raise ApiError(404, "Not Found")
            params = await self._read_params(request)
            if await self._apply_faults(method, params):
                if request.transport is not None:
                    request.transport.abort()
                self._record(method, params, started, 0, "connection dropped", None)
                return web.Response(status=500)
            params = self._validate(spec, params)
            result = await self._dispatch(spec, params, request)
        except ApiError as err:
            status, description, retry_after = err.status, err.description, err.retry_after
        self._record(method, params, started, status, description, result)
        if status >= 400:
            body = ApiError(status, description or "", retry_after).body()
        else:
            body = {"ok": True, "result": result}
            if spec is not None and spec.name == "setWebhook" and params.get("url"):
                body["description"] = "Webhook was set"
            elif spec is not None and spec.name in ("setWebhook", "deleteWebhook"):
                body["description"] = "Webhook was deleted"
        return web.json_response(body, status=status, dumps=self._dumps)

    @staticmethod
    def _dumps(obj: Any) -> str:
        return json.dumps(obj, ensure_ascii=False)

    def _record(
        self,
        method: str,
        params: JSONDict,
        started: float,
        status: int,
        description: str | None,
        result: Any,
    ) -> None:
        call = Call(method, params, started, time.time() - started, status, description, result)
        with self._lock:
            self._calls.append(call)
            if status >= 400 or status == 0:
                self._errors += 1
            if status == 429:
                self._rate_limited += 1
        self._notify()

    async def _read_params(self, request: web.Request) -> JSONDict:
        params: JSONDict = dict(request.query)
        if request.method != "POST" or not request.can_read_body:
            return params
        ctype = request.content_type
        try:
            if ctype == "application/json":
                raw = await request.read()
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        raise _bad("can't parse JSON request body") from None
                    if not isinstance(body, dict):
                        raise _bad("JSON request body must be an object")
                    params.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        content = value.file.read()
                        params[key] = UploadedFile(
                            key,
                            value.filename,
                            value.content_type,
                            len(content),
                            content if self.keep_file_content else b"",
                        )
                    else:
                        params[key] = value
            else:
                await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise ApiError(413, "Request Entity Too Large") from None
        return params

    async def _apply_faults(self, method: str, raw: JSONDict) -> bool:
        """Consume matching faults; True if the connection must be dropped."""
        delays: list[float] = []
        failure: _Fault | None = None
        with self._lock:
            for fault in list(self._faults):
                if not fault.matches(method, raw):
                    continue
                if fault.kind == "fail" and failure is not None:
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                if fault.kind == "drop":
                    return True
                if fault.kind == "delay":
                    delays.append(fault.seconds)
                else:
                    failure = fault
        for seconds in delays:
            await asyncio.sleep(seconds)
        if failure is not None:
            raise ApiError(failure.status, failure.description, failure.retry_after)
        return False

    # ---------------------------------------------------------------- validation

    def _validate(self, spec: MethodSpec, raw: JSONDict) -> JSONDict:
        files = {v.name: v for v in raw.values() if isinstance(v, UploadedFile)}
        out: JSONDict = {}
        for name, value in raw.items():
            fspec = spec.fields.get(name)
            if fspec is None:
                if isinstance(value, UploadedFile) and any(
                    isinstance(v, str) and v == f"attach://{name}" for v in raw.values()
                ):
                    continue  # a file part referenced with attach://
                if self.strict:
                    raise _bad(
                        f'unknown parameter "{name}" for method {spec.name} (the fake is '
                        "strict about fields Telegram would ignore; FakeBotApi(strict=False))"
                    )
                out[name] = value
                continue
            out[name] = self._coerce(fspec, value, files)
        for fspec in spec.fields.values():
            if not fspec.required:
                continue
            value = out.get(fspec.name)
            empty = value is None or (
                value == "" and (spec.name, fspec.name) != ("setWebhook", "url")
            )
            if empty:
                if fspec.name == "text":
                    raise _bad("message text is empty")
                if fspec.name == "chat_id":
                    raise _bad("chat_id is empty")
                raise _bad(f'parameter "{fspec.name}" is required')
        return out

    def _coerce(self, fspec: FieldSpec, value: Any, files: dict[str, UploadedFile]) -> Any:
        types = fspec.types
        if (
            isinstance(value, str)
            and value[:1] in ("[", "{")
            and any(t not in _PRIMITIVES for t in types)
        ):
            try:
                value = json.loads(value)
            except ValueError:
                if "String" not in types:
                    raise _bad(f'can\'t parse JSON object in field "{fspec.name}"') from None
        for type_name in types:
            ok, converted = self._try_type(type_name, value, files)
            if ok:
                return converted
        shown = type(value).__name__ if not isinstance(value, str) else repr(value[:40])
        raise _bad(f'field "{fspec.name}" must be {" or ".join(types)}, got {shown}')

    @staticmethod
    def _try_type(type_name: str, value: Any, files: dict[str, UploadedFile]) -> tuple[bool, Any]:
        if type_name == "Integer":
            if isinstance(value, bool):
                return False, None
            if isinstance(value, int):
                return True, value
            if isinstance(value, float) and value.is_integer():
                return True, int(value)
            if isinstance(value, str):
                if _INT_RE.match(value.strip()):
                    return True, int(value)
                with contextlib.suppress(ValueError):
                    number = float(value)
                    if number.is_integer():
                        return True, int(number)
            return False, None
        if type_name == "Float":
            if isinstance(value, bool):
                return False, None
            if isinstance(value, int | float):
                return True, float(value)
            if isinstance(value, str):
                with contextlib.suppress(ValueError):
                    return True, float(value)
            return False, None
        if type_name == "Boolean":
            if isinstance(value, bool):
                return True, value
            if isinstance(value, int) and value in (0, 1):
                return True, bool(value)
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
                return True, value.lower() in ("true", "1")
            return False, None
        if type_name == "String":
            if isinstance(value, str):
                return True, value
            if isinstance(value, int | float) and not isinstance(value, bool):
                return True, str(value)
            return False, None
        if type_name == "InputFile":
            if isinstance(value, UploadedFile):
                return True, value
            if isinstance(value, str) and value.startswith("attach://"):
                attached = files.get(value.removeprefix("attach://"))
                return (attached is not None), attached
            return False, None
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                return False, None
            inner = type_name.removeprefix("Array of ")
            if inner in ("String", "Integer"):
                checked = [FakeBotApi._try_type(inner, v, files) for v in value]
                if all(ok for ok, _ in checked):
                    return True, [v for _, v in checked]
                return False, None
            return all(isinstance(v, dict) for v in value), value
        # any other object type
        return isinstance(value, dict), value

    # ---------------------------------------------------------------- dispatch

    async def _dispatch(self, spec: MethodSpec, params: JSONDict, request: web.Request) -> Any:
        name = spec.name.lower()
        if name == "getupdates":
            return await self._get_updates(params, request)
        handler = getattr(self, f"_m_{name}", None)
        with self._lock:
            chat_id = params.get("chat_id")
            if chat_id is not None and self._may_be_blocked(name):
                chat = self._chat(chat_id, create=not self.strict_chats)
                if chat.id in self._blocked:
                    raise ApiError(403, BLOCKED)
            buckets = self._rate_buckets(name, params)
            now = time.monotonic()
            wait = max((b.wait_time(now) for b in buckets), default=0.0)
            if wait > 0:
                retry_after = max(1, math.ceil(wait))
                raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
            result = handler(params) if handler is not None else self._generic(spec, params)
            for bucket in buckets:
                bucket.take()
            return result

    @staticmethod
    def _may_be_blocked(name: str) -> bool:
        return name.startswith(("send", "edit", "copy", "forward", "stop", "pin"))

    def _rate_buckets(self, name: str, params: JSONDict) -> list[_TokenBucket]:
        limits = self._rate_limits
        if limits is None or self._global_bucket is None:
            return []
        counted = (
            (name.startswith("send") and name != "sendchataction")
            or name.startswith(("forward", "copy"))
            or (limits.include_edits and name.startswith("edit"))
        )
        if not counted:
            return []
        buckets = [self._global_bucket]
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int):
            bucket = self._chat_buckets.get(chat_id)
            if bucket is None:
                if chat_id > 0:
                    bucket = _TokenBucket(limits.chat_per_second, limits.chat_burst)
                else:
                    bucket = _TokenBucket(limits.group_per_minute / 60.0, limits.group_burst)
                self._chat_buckets[chat_id] = bucket
            buckets.append(bucket)
        return buckets

    # ---------------------------------------------------------------- state helpers

    def _default_allowed(self) -> frozenset[str]:
        return frozenset(self.spec.update_types) - NOT_DELIVERED_BY_DEFAULT

    def _allowed_from(self, names: list[Any]) -> frozenset[str]:
        return frozenset(str(n) for n in names) if names else self._default_allowed()

    def _chat(self, chat_id: int | str, create: bool) -> _Chat:
        if isinstance(chat_id, str):
            username = chat_id.removeprefix("@").lower()
            for known in self._chats.values():
                if known.username and known.username.lower() == username:
                    return known
            raise _bad("chat not found")
        chat = self._chats.get(chat_id)
        if chat is None:
            if not create:
                raise _bad("chat not found")
            kind = _chat_type_for(chat_id)
            if kind == "private":
                chat = _Chat(chat_id, kind, first_name=f"User{chat_id}")
            else:
                chat = _Chat(chat_id, kind, title=f"Chat {chat_id}")
            self._chats[chat_id] = chat
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _file_id(self, prefix: str) -> tuple[str, str]:
        n = next(self._file_ids)
        file_id, unique_id = f"{prefix}ACAgIAAxkBAAI{n:08d}FakeFileId", f"AQAD{n:08d}"
        self._files[file_id] = (unique_id, 0)
        return file_id, unique_id

    def _bot_user_json(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    @staticmethod
    def _snapshot(message: SentMessage) -> SentMessage:
        return dataclasses.replace(
            message,
            reply_markup=copy.deepcopy(message.reply_markup),
            media=copy.deepcopy(message.media),
            history=list(message.history),
        )

    def _message_json(self, m: SentMessage) -> JSONDict:
        chat = self._chats[m.chat_id]
        out: JSONDict = {"message_id": m.message_id}
        if chat.type == "channel":
            out["sender_chat"] = chat.to_json()
        else:
            out["from"] = self._bot_user_json()
        out["chat"] = chat.to_json()
        out["date"] = m.date
        if m.edit_date is not None:
            out["edit_date"] = m.edit_date
        if m.kind == "text":
            out["text"] = m.text
        else:
            out.update(copy.deepcopy(m.media or {}))
            if m.text:
                out["caption"] = m.text
        if m.reply_markup and "inline_keyboard" in m.reply_markup:
            out["reply_markup"] = copy.deepcopy(m.reply_markup)
        return out

    @staticmethod
    def _visible(text: str, parse_mode: str | None, caption: bool) -> str:
        mode = (parse_mode or "").lower()
        if parse_mode and mode not in ("html", "markdown", "markdownv2"):
            raise _bad(f"unsupported parse_mode {parse_mode!r}")
        visible = text
        if mode == "html":
            try:
                visible = check_html(text)
            except HtmlProblem as problem:
                raise _bad(f"can't parse entities: {problem}") from None
        if caption:
            if len(visible) > MAX_CAPTION:
                raise _bad("message caption is too long")
        else:
            if not visible.strip():
                raise _bad("message text is empty")
            if len(visible) > MAX_TEXT:
                raise _bad("message is too long")
        return visible

    @staticmethod
    def _check_reply_markup(markup: Any) -> None:
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad(
                    'can\'t parse inline keyboard markup: field "inline_keyboard" must '
                    "be an Array of Array of InlineKeyboardButton"
                )
            buttons = [b for row in rows for b in row]
            if len(buttons) > MAX_BUTTONS:
                raise _bad("reply markup is too long")
            for button in buttons:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _bad("can't parse inline keyboard button: Text must be a String")
                if not button["text"]:
                    raise _bad("BUTTON_TEXT_INVALID")
                if not any(key in button for key in _INLINE_ACTIONS):
                    raise _bad(
                        "can't parse inline keyboard button: Text buttons are unallowed "
                        "in the inline keyboard"
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not (
                        1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                    ):
                        raise _bad("BUTTON_DATA_INVALID")
                if "url" in button and not re.match(r"^(https?|tg)://\S+$", str(button["url"])):
                    raise _bad("BUTTON_URL_INVALID")
        elif "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad("can't parse reply keyboard markup JSON object")
            for button in (b for row in rows for b in row):
                text = button.get("text") if isinstance(button, dict) else button
                if not isinstance(text, str) or not text:
                    raise _bad("can't parse keyboard button: Text must be a non-empty String")
        elif not ("remove_keyboard" in markup or "force_reply" in markup):
            raise _bad("can't parse reply keyboard markup JSON object")

    def _check_reply_target(self, chat: _Chat, params: JSONDict) -> None:
        reply = params.get("reply_parameters")
        if not isinstance(reply, dict) or "message_id" not in reply:
            return
        if reply.get("allow_sending_without_reply") or reply.get("chat_id") not in (None, chat.id):
            return
        target = reply["message_id"]
        if target not in self._messages.get(chat.id, {}) and target not in self._user_messages.get(
            chat.id, {}
        ):
            raise _bad("message to be replied not found")

    def _new_message(
        self,
        chat: _Chat,
        *,
        kind: str,
        method: str,
        text: str | None,
        raw_text: str | None,
        parse_mode: str | None,
        reply_markup: JSONDict | None,
        media: JSONDict | None = None,
        file: UploadedFile | str | None = None,
    ) -> JSONDict:
        message = SentMessage(
            chat_id=chat.id,
            message_id=self._next_message_id(chat.id),
            kind=kind,
            method=method,
            text=text,
            raw_text=raw_text,
            parse_mode=parse_mode,
            reply_markup=reply_markup,
            date=int(time.time()),
            media=media,
            file=file,
        )
        self._messages.setdefault(chat.id, {})[message.message_id] = message
        return self._message_json(message)

    def _send_prelude(self, params: JSONDict) -> _Chat:
        chat = self._chat(params["chat_id"], create=not self.strict_chats)
        markup = params.get("reply_markup")
        if markup is not None:
            self._check_reply_markup(markup)
        self._check_reply_target(chat, params)
        return chat

    def _caption(self, params: JSONDict) -> str | None:
        caption = params.get("caption")
        if caption is None:
            return None
        return self._visible(str(caption), params.get("parse_mode"), caption=True)

    def _edit_target(self, params: JSONDict) -> SentMessage | None:
        if params.get("inline_message_id"):
            return None
        if params.get("chat_id") in (None, ""):
            raise _bad("chat_id is empty")
        if params.get("message_id") is None:
            raise _bad("message identifier is not specified")
        chat = self._chat(params["chat_id"], create=not self.strict_chats)
        message = self._messages.get(chat.id, {}).get(params["message_id"])
        if message is None or message.deleted:
            if params["message_id"] in self._user_messages.get(chat.id, {}):
                raise _bad("message can't be edited")
            raise _bad("message to edit not found")
        return message

    def _apply_edit(
        self,
        message: SentMessage,
        text: str | None,
        raw_text: str | None,
        parse_mode: str | None,
        markup: JSONDict | None,
    ) -> JSONDict:
        def signature(t: str | None, raw: str | None, mode: str | None) -> tuple[Any, ...]:
            formatted = raw if (mode or "").lower() == "html" else None
            if formatted is not None and not re.search(r"<[a-zA-Z]", formatted):
                formatted = None
            return (t, formatted)

        if signature(text, raw_text, parse_mode) == signature(
            message.text, message.raw_text, message.parse_mode
        ) and (markup or None) == (message.reply_markup or None):
            raise ApiError(400, NOT_MODIFIED)
        message.history.append((message.text, message.reply_markup))
        message.text, message.raw_text, message.parse_mode = text, raw_text, parse_mode
        message.reply_markup = markup
        message.edit_date = int(time.time())
        message.edits += 1
        return self._message_json(message)

    # ---------------------------------------------------------------- methods

    def _generic(self, spec: MethodSpec, params: JSONDict) -> Any:
        """Methods without a dedicated handler: a Message for send-like methods, else True."""
        if spec.returns == ("Message",) and "chat_id" in params:
            chat = self._send_prelude(params)
            caption = self._caption(params)
            kind = spec.name.removeprefix("send").lower() or spec.name
            return self._new_message(
                chat,
                kind=kind,
                method=spec.name,
                text=caption,
                raw_text=params.get("caption"),
                parse_mode=params.get("parse_mode"),
                reply_markup=params.get("reply_markup"),
            )
        return True

    def _m_getme(self, params: JSONDict) -> JSONDict:
        return {
            **self._bot_user_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_sendmessage(self, params: JSONDict) -> JSONDict:
        chat = self._send_prelude(params)
        text = params["text"]
        visible = self._visible(text, params.get("parse_mode"), caption=False)
        return self._new_message(
            chat,
            kind="text",
            method="sendMessage",
            text=visible,
            raw_text=text,
            parse_mode=params.get("parse_mode"),
            reply_markup=params.get("reply_markup"),
        )

    def _send_file(self, params: JSONDict, kind: Literal["document", "photo"]) -> JSONDict:
        chat = self._send_prelude(params)
        caption = self._caption(params)
        source = params[kind]
        size = 0
        if isinstance(source, str) and not source.startswith(("http://", "https://")):
            # re-sending a file by the id Telegram gave it: the same file, no upload
            known = self._files.get(source.removesuffix("_s"))
            if known is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            file_id, (unique_id, size) = source.removesuffix("_s"), known
        else:
            file_id, unique_id = self._file_id("BQ" if kind == "document" else "AgAC")
        if isinstance(source, UploadedFile):
            if source.size == 0:
                raise _bad("file must be non-empty")
            size = source.size
            self._files[file_id] = (unique_id, size)
            if (
                kind == "photo"
                and self.keep_file_content
                and not (
                    source.content.startswith(_IMAGE_MAGIC)
                    or (source.content[:4] == b"RIFF" and source.content[8:12] == b"WEBP")
                )
            ):
                raise _bad("IMAGE_PROCESS_FAILED")
        media: JSONDict
        if kind == "document":
            document: JSONDict = {"file_id": file_id, "file_unique_id": unique_id}
            if isinstance(source, UploadedFile):
                document["file_name"] = source.filename or "file"
                document["mime_type"] = source.content_type or "application/octet-stream"
                document["file_size"] = size
            media = {"document": document}
        else:
            media = {
                "photo": [
                    {
                        "file_id": f"{file_id}_s",
                        "file_unique_id": f"{unique_id}_s",
                        "width": 90,
                        "height": 68,
                        "file_size": max(size // 20, 1),
                    },
                    {
                        "file_id": file_id,
                        "file_unique_id": unique_id,
                        "width": 800,
                        "height": 600,
                        "file_size": max(size, 1),
                    },
                ]
            }
        return self._new_message(
            chat,
            kind=kind,
            method="sendDocument" if kind == "document" else "sendPhoto",
            text=caption,
            raw_text=params.get("caption"),
            parse_mode=params.get("parse_mode"),
            reply_markup=params.get("reply_markup"),
            media=media,
            file=source,
        )

    def _m_senddocument(self, params: JSONDict) -> JSONDict:
        return self._send_file(params, "document")

    def _m_sendphoto(self, params: JSONDict) -> JSONDict:
        return self._send_file(params, "photo")

    def _m_sendchataction(self, params: JSONDict) -> bool:
        self._chat(params["chat_id"], create=not self.strict_chats)
        if params["action"] not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _m_editmessagetext(self, params: JSONDict) -> JSONDict | bool:
        text = params.get("text")
        if text is None:
            raise _bad("message text is empty (rich_message is not supported by the fake)")
        markup = params.get("reply_markup")
        if markup is not None:
            self._check_reply_markup(markup)
        message = self._edit_target(params)
        visible = self._visible(text, params.get("parse_mode"), caption=False)
        if message is None:
            return True
        if message.kind != "text":
            raise _bad("there is no text in the message to edit")
        return self._apply_edit(message, visible, text, params.get("parse_mode"), markup)

    def _m_editmessagecaption(self, params: JSONDict) -> JSONDict | bool:
        markup = params.get("reply_markup")
        if markup is not None:
            self._check_reply_markup(markup)
        message = self._edit_target(params)
        caption = self._caption(params)
        if message is None:
            return True
        if message.kind == "text":
            raise _bad("there is no caption in the message to edit")
        return self._apply_edit(
            message, caption, params.get("caption"), params.get("parse_mode"), markup
        )

    def _m_editmessagereplymarkup(self, params: JSONDict) -> JSONDict | bool:
        markup = params.get("reply_markup")
        if markup is not None:
            self._check_reply_markup(markup)
        message = self._edit_target(params)
        if message is None:
            return True
        return self._apply_edit(message, message.text, message.raw_text, message.parse_mode, markup)

    def _m_deletemessage(self, params: JSONDict) -> bool:
        chat = self._chat(params["chat_id"], create=not self.strict_chats)
        message_id = params["message_id"]
        message = self._messages.get(chat.id, {}).get(message_id)
        if message is not None and not message.deleted:
            message.deleted = True
            return True
        if self._user_messages.get(chat.id, {}).pop(message_id, None) is not None:
            return True
        raise _bad("message to delete not found")

    def _m_deletemessages(self, params: JSONDict) -> bool:
        chat = self._chat(params["chat_id"], create=not self.strict_chats)
        for message_id in params["message_ids"]:
            message = self._messages.get(chat.id, {}).get(message_id)
            if message is not None:
                message.deleted = True
            self._user_messages.get(chat.id, {}).pop(message_id, None)
        return True

    def _m_answercallbackquery(self, params: JSONDict) -> bool:
        query = self._callbacks.get(params["callback_query_id"])
        expired = (
            query is not None
            and self.callback_query_ttl is not None
            and time.monotonic() - query.created > self.callback_query_ttl
        )
        if query is None or query.answered or expired:
            raise _bad(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        if len(str(params.get("text") or "")) > MAX_CALLBACK_ANSWER:
            raise _bad("MESSAGE_TOO_LONG")
        query.answered = True
        query.answer = dict(params)
        return True

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    def _check_language(self, params: JSONDict) -> None:
        code = params.get("language_code")
        if code and not _LANG_RE.match(str(code)):
            raise _bad("language_code must be a two-letter ISO 639-1 code or empty")

    def _m_setmycommands(self, params: JSONDict) -> bool:
        commands = params["commands"]
        if len(commands) > MAX_COMMANDS:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            name = command.get("command")
            if not isinstance(name, str) or not _COMMAND_RE.match(name):
                raise _bad("BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self._check_language(params)
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self._commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _m_getmycommands(self, params: JSONDict) -> list[JSONDict]:
        self._check_language(params)
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    def _m_deletemycommands(self, params: JSONDict) -> bool:
        self._check_language(params)
        self._commands.pop(
            self._commands_key(params.get("scope"), params.get("language_code")), None
        )
        return True

    def _m_getchat(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params["chat_id"], create=not self.strict_chats)
        return {
            **chat.to_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _m_setwebhook(self, params: JSONDict) -> bool:
        url = params["url"]
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.match(secret):
            raise _bad("secret token contains unallowed characters")
        if url and not re.match(r"^https?://\S+$", url):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        max_connections = params.get("max_connections")
        if max_connections is not None and not 1 <= max_connections <= 100:
            raise _bad("bad webhook: max_connections must be between 1 and 100")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if "allowed_updates" in params:
            self._allowed_updates = self._allowed_from(params["allowed_updates"])
        self._webhook_urls = [url] if url else []
        self._webhook_secret = secret if url else None
        self._webhook_max_connections = max_connections or 40
        self._webhook_last_error = None
        return True

    def _m_deletewebhook(self, params: JSONDict) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self._webhook_urls = []
        self._webhook_secret = None
        return True

    def _m_getwebhookinfo(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self._webhook_urls[0] if self._webhook_urls else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook_urls:
            info["max_connections"] = self._webhook_max_connections
            info["ip_address"] = "127.0.0.1"
            info["allowed_updates"] = sorted(self._allowed_updates)
            if self._webhook_last_error is not None:
                info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    def _m_close(self, params: JSONDict) -> bool:
        self.closed = True
        return True

    def _m_logout(self, params: JSONDict) -> bool:
        self.logged_out = True
        return True

    # ---------------------------------------------------------------- getUpdates

    def _take_updates(self, limit: int) -> list[JSONDict]:
        allowed = self._allowed_updates
        self._pending = [u for u in self._pending if _update_kind(u) in allowed]
        return copy.deepcopy(self._pending[:limit])

    async def _get_updates(self, params: JSONDict, request: web.Request) -> list[JSONDict]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), self.max_poll_timeout)
        with self._lock:
            if self._webhook_urls:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if "allowed_updates" in params:
                self._allowed_updates = self._allowed_from(params["allowed_updates"])
            if offset > 0:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
            elif offset < 0:
                self._pending = self._pending[offset:]
            self._poll_generation += 1
            generation = self._poll_generation
        self._notify()  # an older long poll is now terminated
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                version = self._version
                if generation != self._poll_generation:
                    transport = request.transport
                    if transport is None or transport.is_closing():
                        return []  # the client gave up on this poll (PTB does on stop)
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )
                batch = self._take_updates(limit)
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._closing:
                return batch
            await self._wait_change(version, remaining)

    # ---------------------------------------------------------------- webhook delivery

    async def _webhook_worker(self) -> None:
        while not self._closing:
            with self._lock:
                version = self._version
                update: JSONDict | None = None
                url = ""
                secret = self._webhook_secret
                if self._webhook_urls:
                    allowed = self._allowed_updates
                    self._pending = [u for u in self._pending if _update_kind(u) in allowed]
                    if self._pending:
                        update = copy.deepcopy(self._pending[0])
                        url = self._webhook_urls[self._webhook_rr % len(self._webhook_urls)]
                        self._webhook_rr += 1
            if update is None:
                await self._wait_change(version, 1.0)
                continue
            await self._deliver(update, url, secret)

    async def _deliver(self, update: JSONDict, url: str, secret: str | None) -> None:
        assert self._session is not None
        update_id = int(update["update_id"])
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        status: int | None = None
        error: str | None = None
        try:
            async with self._session.post(
                url,
                data=self._dumps(update).encode("utf-8"),
                headers={"Content-Type": "application/json", **headers},
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                status = response.status
                await response.read()
                if not 200 <= status < 300:
                    error = f"Wrong response from the webhook: {status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = f"Connection failed: {exc!r}"
        ok = error is None
        with self._lock:
            attempt = self._webhook_attempts.get(update_id, 0) + 1
            self._webhook_deliveries.append(
                WebhookDelivery(url, update_id, attempt, status, error, time.time())
            )
            if ok or attempt >= self.webhook_max_attempts:
                self._pending = [u for u in self._pending if u["update_id"] != update_id]
                self._webhook_attempts.pop(update_id, None)
            else:
                self._webhook_attempts[update_id] = attempt
            if error is not None:
                self._webhook_last_error = (int(time.time()), error)
        self._notify()
        if not ok:
            await asyncio.sleep(self.webhook_retry_delay)


def _update_kind(update: JSONDict) -> str:
    return next((k for k in update if k != "update_id"), "")


# --------------------------------------------------------------------------------------------
# Simulated people
# --------------------------------------------------------------------------------------------


class FakeUser:
    """A person writing to the bot in a private chat (``FakeBotApi.user(...)``). Every method
    queues one update and returns it (Telegram JSON, with its update_id)."""

    def __init__(self, api: FakeBotApi, user_id: int) -> None:
        self.api = api
        self.id = user_id
        self.chat_id = user_id

    def to_json(self) -> JSONDict:
        with self.api._lock:
            return self.api._people[self.id].to_json()

    def _message(self, chat_id: int, content: JSONDict, reply_to: int | None = None) -> JSONDict:
        api = self.api
        with api._lock:
            chat = api._chat(chat_id, create=True)
            message: JSONDict = {
                "message_id": api._next_message_id(chat_id),
                "from": api._people[self.id].to_json(),
                "chat": chat.to_json(),
                "date": int(time.time()),
                **content,
            }
            if reply_to is not None:
                original = api._messages.get(chat_id, {}).get(reply_to)
                if original is not None:
                    message["reply_to_message"] = api._message_json(original)
                elif reply_to in api._user_messages.get(chat_id, {}):
                    message["reply_to_message"] = copy.deepcopy(
                        api._user_messages[chat_id][reply_to]
                    )
            api._user_messages.setdefault(chat_id, {})[message["message_id"]] = message
            return copy.deepcopy(message)

    def _send(self, content: JSONDict, reply_to: int | None = None) -> JSONDict:
        return self.api.push_update({"message": self._message(self.chat_id, content, reply_to)})

    @staticmethod
    def _text_content(text: str) -> JSONDict:
        content: JSONDict = {"text": text}
        entities = _command_entities(text)
        if entities:
            content["entities"] = entities
        return content

    def send_text(self, text: str, reply_to: int | None = None) -> JSONDict:
        """A text message; ``/commands`` in it get bot_command entities like Telegram's."""
        return self._send(self._text_content(text), reply_to)

    def send_command(self, command: str, payload: str | None = None) -> JSONDict:
        """``send_command("/start", "ref_42")`` -> "/start ref_42" (a deep link)."""
        if not command.startswith("/"):
            command = f"/{command}"
        return self.send_text(command if payload is None else f"{command} {payload}")

    def click(self, button: str, message_id: int | None = None) -> JSONDict:
        """Press the inline button whose label or callback_data is ``button`` on the latest bot
        message with an inline keyboard (or on ``message_id``); queues a callback_query."""
        api = self.api
        with api._lock:
            candidates = [
                m
                for m in sorted(
                    api._messages.get(self.chat_id, {}).values(), key=lambda m: m.message_id
                )
                if not m.deleted and m.has_inline_keyboard
            ]
            if message_id is not None:
                candidates = [m for m in candidates if m.message_id == message_id]
            if not candidates:
                raise LookupError(f"no bot message with an inline keyboard in chat {self.chat_id}")
            message = candidates[-1]
            found = next((b for b in message.buttons if b.get("text") == button), None) or next(
                (b for b in message.buttons if b.get("callback_data") == button), None
            )
            if found is None:
                raise LookupError(
                    f"no button {button!r} on message {message.message_id}; it has "
                    f"{[(b.get('text'), b.get('callback_data')) for b in message.buttons]}"
                )
            if "callback_data" not in found:
                raise LookupError(f"button {button!r} has no callback_data: {found}")
            query_id = str(next(api._callback_ids))
            api._callbacks[query_id] = CallbackQueryRecord(
                id=query_id,
                chat_id=self.chat_id,
                message_id=message.message_id,
                user_id=self.id,
                data=found["callback_data"],
                created=time.monotonic(),
            )
            query = {
                "id": query_id,
                "from": api._people[self.id].to_json(),
                "message": api._message_json(message),
                "chat_instance": str(abs(self.chat_id) * 1_000_003 + 17),
                "data": found["callback_data"],
            }
        return api.push_update({"callback_query": query})

    def _file(self, prefix: str) -> tuple[str, str]:
        with self.api._lock:
            return self.api._file_id(prefix)

    def send_sticker(self, emoji: str = "👍") -> JSONDict:
        file_id, unique_id = self._file("CAAC")
        return self._send(
            {
                "sticker": {
                    "file_id": file_id,
                    "file_unique_id": unique_id,
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": emoji,
                    "set_name": "FakeStickers",
                    "file_size": 23_000,
                }
            }
        )

    def send_photo(self, caption: str | None = None) -> JSONDict:
        file_id, unique_id = self._file("AgAC")
        content: JSONDict = {
            "photo": [
                {
                    "file_id": f"{file_id}_s",
                    "file_unique_id": f"{unique_id}_s",
                    "width": 90,
                    "height": 120,
                    "file_size": 1_500,
                },
                {
                    "file_id": file_id,
                    "file_unique_id": unique_id,
                    "width": 960,
                    "height": 1280,
                    "file_size": 120_000,
                },
            ]
        }
        if caption:
            content["caption"] = caption
        return self._send(content)

    def send_voice(self, duration: int = 3) -> JSONDict:
        file_id, unique_id = self._file("AwAC")
        return self._send(
            {
                "voice": {
                    "file_id": file_id,
                    "file_unique_id": unique_id,
                    "duration": duration,
                    "mime_type": "audio/ogg",
                    "file_size": 8_000 * duration,
                }
            }
        )

    def send_document(
        self, file_name: str = "report.pdf", mime_type: str = "application/pdf"
    ) -> JSONDict:
        file_id, unique_id = self._file("BQAC")
        return self._send(
            {
                "document": {
                    "file_id": file_id,
                    "file_unique_id": unique_id,
                    "file_name": file_name,
                    "mime_type": mime_type,
                    "file_size": 42_000,
                }
            }
        )

    def send_location(self, latitude: float = 52.52, longitude: float = 13.405) -> JSONDict:
        return self._send({"location": {"latitude": latitude, "longitude": longitude}})

    def send_contact(self, phone_number: str = "+15555550100") -> JSONDict:
        person = self.to_json()
        return self._send(
            {
                "contact": {
                    "phone_number": phone_number,
                    "first_name": person["first_name"],
                    "user_id": self.id,
                }
            }
        )

    def send_poll(
        self, question: str = "Which side hurts?", options: Sequence[str] = ("Left", "Right")
    ) -> JSONDict:
        with self.api._lock:
            poll_id = str(5_000_000_000_000_000_000 + next(self.api._file_ids))
        return self._send(
            {
                "poll": {
                    "id": poll_id,
                    "question": question,
                    "options": [
                        {"persistent_id": str(i), "text": text, "voter_count": 0}
                        for i, text in enumerate(options)
                    ],
                    "total_voter_count": 0,
                    "is_closed": False,
                    "is_anonymous": False,
                    "type": "regular",
                    "allows_multiple_answers": False,
                    "allows_revoting": True,
                    "members_only": False,
                }
            }
        )

    def edit_last_text(self, new_text: str) -> JSONDict:
        """The person edits their latest text message: an edited_message update."""
        api = self.api
        with api._lock:
            mine = [
                m
                for m in api._user_messages.get(self.chat_id, {}).values()
                if "text" in m and m.get("from", {}).get("id") == self.id
            ]
            if not mine:
                raise LookupError(f"user {self.id} has sent no text message to edit")
            message = mine[-1]
            message.pop("entities", None)
            message.update(self._text_content(new_text))
            message["edit_date"] = int(time.time())
            edited = copy.deepcopy(message)
        return api.push_update({"edited_message": edited})

    def group_message(self, chat_id: int, text: str, title: str = "Test group") -> JSONDict:
        """This person writes ``text`` in group ``chat_id`` (negative id)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        with self.api._lock:
            chat = self.api._chats.get(chat_id)
            if chat is None or chat.type not in ("group", "supergroup"):
                self.api._chats[chat_id] = _Chat(chat_id, _chat_type_for(chat_id), title=title)
        message = self._message(chat_id, self._text_content(text))
        return self.api.push_update({"message": message})
