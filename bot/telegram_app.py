"""The Telegram adapter: the only module that imports ``telegram``.

Each update becomes an engine ``Event``; the new session and the replies to send are stored
in one transaction (the outbox); ``OutboxSender`` delivers them. Updates of one chat are
handled in order under a per-chat lock (``ChatOrder``), different chats in parallel. In
polling mode an update is confirmed to Telegram only after it has been handled and stored;
in webhook mode the HTTP answer waits for the same. A redelivered update is recognised by
its id (``Session.last_update``) and acts once.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import re
import signal
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiohttp import web
from telegram import BotCommand, Update
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import texts
from bot.engine import Engine
from bot.errors import ConfigError, FlowErrors
from bot.features import Context, Features, Response, load_features
from bot.loader import load_bundle
from bot.logs import hash_id
from bot.model import Event, Outcome, Reply, Session
from bot.sender import OutboxSender, seconds
from bot.settings import RunSettings, load_dotenv_file
from bot.storage import Storage, open_storage
from bot.storage.sql import SqlStorage, insert_outbox
from bot.telegram_html import escape, split_html
from bot.telegram_request import AiohttpRequest

log = logging.getLogger("hipbot.telegram")
os.environ.setdefault("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as a timedelta, no warning
DEEP_LINK = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SENSITIVE_TOPICS = frozenset({"redflags", "symptoms", "privacy"})
SYSTEM_COMMANDS = {"start": "Start again", "stop": "No more messages from me"}
Row = tuple[int, str, dict[str, Any]]


class ChatOrder(BaseUpdateProcessor):
    """Updates of one chat one after another, in arrival order; chats in parallel."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update) if isinstance(update, Update) else 0
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                await coroutine
        finally:
            if not lock.locked() and key in self._locks and self._locks[key] is lock:
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def chat_key(update: Update) -> int:
    """The private chat an update belongs to (for a button under an old or inline message,
    the person's id, which is their private chat's id)."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else 0


def hashed(user_id: object) -> str:
    """A stable, non-reversible id for logs: raw ids never appear there (keyed, bot.logs)."""
    return hash_id(user_id)


def keyboard(reply: Reply) -> dict[str, Any] | None:
    if not reply.buttons:
        return None
    rows = [[{"text": b.label, "callback_data": b.data} for b in row] for row in reply.buttons]
    return {"inline_keyboard": rows}


class HipBot:
    """Turns Telegram updates into engine events and engine outcomes into outbox rows."""

    def __init__(
        self,
        engine: Engine,
        storage: SqlStorage,
        clock: Callable[[], float] = time.time,
        features: Features | None = None,
    ) -> None:
        self.engine = engine
        self.storage = storage
        self.clock = clock
        self.features = features or Features([])
        self.sender: OutboxSender | None = None
        self._acted: dict[int, deque[int]] = OrderedDict()  # messages whose buttons acted

    # ------------------------------------------------------------ wiring

    def install(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Register one handler per user intent."""
        application.add_handler(TypeHandler(Update, self.only_private), group=-1)
        application.add_handler(ChatMemberHandler(self.on_member, ChatMemberHandler.MY_CHAT_MEMBER))
        application.add_handler(CommandHandler("start", self.on_start))
        application.add_handler(CommandHandler("stop", self.on_stop))
        application.add_handler(MessageHandler(filters.COMMAND, self.on_command))
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(MessageHandler(filters.UpdateType.EDITED, self.on_edited))
        application.add_handler(MessageHandler(filters.TEXT, self.on_text))
        application.add_handler(MessageHandler(filters.ALL, self.on_other_message))
        application.add_error_handler(self.on_error)

    def commands(self) -> list[BotCommand]:
        found = {**SYSTEM_COMMANDS, **self.features.descriptions}
        for command, route in self.engine.routes.items():
            found[command] = route.description.get("en") if route.description else command
        order = ["start", "menu", "help", "urgent"]
        names = sorted(found, key=lambda n: (order.index(n) if n in order else 99, n))
        return [BotCommand(name, found[name][:256]) for name in names]

    # ------------------------------------------------------------ handlers

    async def only_private(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Groups and channels: one polite note, then silence."""
        chat = update.effective_chat
        if chat is None or chat.type == ChatType.PRIVATE:
            return
        if update.my_chat_member is None and not self.storage.get_flag(f"chat:{chat.id}", "noted"):
            self.storage.set_flag(f"chat:{chat.id}", "noted", True)
            self._enqueue([_send(chat.id, texts.PRIVATE_ONLY.get("en"))])
        log.info(
            "ignored a non-private chat", extra={"event": "not_private", "chat": hashed(chat.id)}
        )
        raise ApplicationHandlerStop

    async def on_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Blocked or unblocked by the person: remember it, so nothing is sent meanwhile."""
        member = update.my_chat_member
        if member is None:
            return
        blocked = member.new_chat_member.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
        self.storage.set_flag(str(member.chat.id), "blocked", blocked)
        log.info("membership changed", extra={"event": "blocked" if blocked else "unblocked"})

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/start, with an optional deep-link payload: begin (again) and allow messages."""
        user = self._user(update)
        self.storage.set_flag(user, "stopped", False)
        self.storage.set_flag(user, "blocked", False)
        payload = context.args[0] if context.args else ""
        await self._turn(update, Event.start(payload if DEEP_LINK.match(payload) else ""))

    async def on_stop(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/stop: no proactive messages until /start."""
        self.storage.set_flag(self._user(update), "stopped", True)
        self._note_once(update, texts.STOPPED.get(self._language(update)))

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any other command: a flow route (/menu, /help, /urgent ...) or a friendly 'unknown'."""
        message = update.effective_message
        text = message.text if message and message.text else "/"
        name, _, args = text[1:].partition(" ")
        name = name.split("@", 1)[0][:32].casefold()
        command = self.features.commands.get(name)
        if command is not None:
            await self._feature(update, lambda: command(self._context(update, args[:200])))
            return
        await self._turn(update, Event.command(name, args[:200]))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Typed text: an answer, a button's words, or something to re-ask."""
        message = update.effective_message
        text = (message.text or "") if message else ""
        if self.features.text_handlers:  # a feature waiting for typed text (a wizard)
            taken = await self._feature(
                update, lambda: self.features.read_text(self._context(update), text)
            )
            if taken is not None:
                return
        await self._turn(update, Event.message(text))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: answered at once; acts once even when tapped twice."""
        query = update.callback_query
        if query is None:
            return
        chat_id = self._chat(update)
        message_id = query.message.message_id if query.message else None
        if message_id is not None and message_id in self._acted.get(chat_id, ()):
            await _answer(query, texts.ALREADY_CHOSEN.get(self._language(update)))
            return
        await _answer(query)
        data = query.data or ""
        response = await self._feature(
            update, lambda: self.features.press(self._context(update), data), pressed=message_id
        )
        if response is not None:
            if message_id is not None and response.edit is None:
                self._remember_acted(chat_id, message_id)
            return
        outcome = await self._turn(update, Event.button(query.data or ""), pressed=message_id)
        if outcome is not None and outcome.chosen is not None and message_id is not None:
            self._remember_acted(chat_id, message_id)

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Edits are not read; say so once, kindly."""
        self._note_once(update, texts.NO_EDITS.get(self._language(update)))

    async def on_other_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, voice, files, locations, contacts, polls: ask again in words."""
        user = self._user(update)
        if self.storage.load_session(user) is None:
            await self._turn(update, Event.start())
            return
        with self.storage.db.transaction() as db:
            db.lock_key("chat", self._chat(update))
            session = self.storage.load_session(user)
            if session is None or self._repeated(update, session):
                return
            note = Reply(texts.ONLY_TEXT.get(session.language), step=session.step)
            self._commit(update, session, self.engine.repeat(session), prefix=[note])
        self._enqueue([])

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log what went wrong (no message text, no ids), tell the person, keep serving."""
        error = context.error
        log.error(
            "handler failed",
            extra={"event": "handler_error", "error": type(error).__name__},
            exc_info=error if not isinstance(error, TelegramError) else None,
        )
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is not None and chat.type == ChatType.PRIVATE:
            with contextlib.suppress(Exception):
                self._enqueue([_send(chat.id, texts.TRY_AGAIN.get("en"))])

    # ------------------------------------------------------------ features

    def _context(self, update: Update, args: str = "") -> Context:
        user = self._user(update)
        return Context(
            user_id=user,
            chat_id=self._chat(update),
            storage=self.storage,
            engine=self.engine,
            now=self.clock(),
            args=args,
            language=self._language(update),
            session=self.storage.load_session(user),
        )

    async def _feature(
        self,
        update: Update,
        run: Callable[[], Response | None],
        pressed: int | None = None,
    ) -> Response | None:
        """A feature's command, button or typed answer as one turn: one transaction under
        the chat's lock, its messages stored with it, acting once on a redelivered update.
        None when no feature took it (the engine gets it then)."""
        with self.storage.db.transaction() as db:
            db.lock_key("chat", self._chat(update))
            if self._repeated(update, self.storage.load_session(self._user(update))):
                return Response()
            response = run()
            if response is None:
                return None
            insert_outbox(db, self._response_rows(update, response, pressed), self.clock())
            if response.then is not None:
                self._turn_locked(update, response.then, check_repeat=False)
            else:
                self._mark_handled(update)
        self._enqueue([])
        return response

    def _response_rows(self, update: Update, response: Response, pressed: int | None) -> list[Row]:
        chat_id = self._chat(update)
        rows: list[Row] = []
        if response.edit is not None and pressed is not None:
            params: dict[str, Any] = {
                "chat_id": chat_id,
                "message_id": pressed,
                "text": response.edit.text,
                "parse_mode": ParseMode.HTML,
            }
            markup = keyboard(response.edit)
            if markup:
                params["reply_markup"] = markup
            rows.append((chat_id, "editMessageText", params))
        for reply in response.replies:
            rows += _sends(chat_id, reply)
        for document in response.documents:
            content = base64.b64encode(document.content).decode()
            file = {"filename": document.filename, "content": content}
            rows.append(
                (
                    chat_id,
                    "sendDocument",
                    {"chat_id": chat_id, "caption": document.caption, "_document": file},
                )
            )
        return rows

    def _mark_handled(self, update: Update) -> None:
        """Remember the update id in the session (if the person still has one)."""
        session = self.storage.load_session(self._user(update))
        if session is not None:
            marked = replace(session, revision=session.revision + 1, last_update=update.update_id)
            self.storage.commit_turn(marked, (), (), self.clock())

    # ------------------------------------------------------------ turns

    async def _turn(
        self, update: Update, event: Event, pressed: int | None = None
    ) -> Outcome | None:
        # One transaction per turn, holding the chat's lock: replicas sharing a PostgreSQL
        # database never interleave one person's conversation (SQLite: one writer anyway).
        with self.storage.db.transaction() as db:
            db.lock_key("chat", self._chat(update))
            outcome = self._turn_locked(update, event, pressed)
        self._enqueue([])
        return outcome

    def _turn_locked(
        self, update: Update, event: Event, pressed: int | None = None, check_repeat: bool = True
    ) -> Outcome | None:
        session = self.storage.load_session(self._user(update))
        if check_repeat and self._repeated(update, session):
            return None
        outcome = self.engine.handle(session, event, self._user(update))
        self._commit(update, session, outcome, pressed=pressed)
        return outcome

    @staticmethod
    def _repeated(update: Update, session: Session | None) -> bool:
        """A redelivered update (killed before its offset was confirmed): it acted already."""
        if session is not None and update.update_id <= session.last_update:
            log.info("repeated update ignored", extra={"event": "duplicate_update"})
            return True
        return False

    def _note_once(self, update: Update, text: str) -> None:
        """A note that changes nothing else; stored with the update id when the person has a
        session, so a redelivered update does not say it twice."""
        rows = [_send(self._chat(update), text)]
        session = self.storage.load_session(self._user(update))
        if session is None:
            self._enqueue(rows)
            return
        if self._repeated(update, session):
            return
        marked = replace(session, revision=session.revision + 1, last_update=update.update_id)
        self.storage.commit_turn(marked, (), rows, self.clock())
        self._enqueue([])

    def _commit(
        self,
        update: Update,
        before: Session | None,
        outcome: Outcome,
        prefix: list[Reply] | None = None,
        pressed: int | None = None,
    ) -> None:
        chat_id = self._chat(update)
        rows: list[Row] = []
        if pressed is not None and outcome.chosen is not None:
            rows.append(self._show_choice(update, chat_id, pressed, outcome.chosen))
        for reply in [*(prefix or []), *outcome.replies]:
            if reply.edit and pressed is not None:
                markup = keyboard(reply) or {"inline_keyboard": []}
                rows.append(
                    (
                        chat_id,
                        "editMessageReplyMarkup",
                        {
                            "chat_id": chat_id,
                            "message_id": pressed,
                            "reply_markup": markup,
                            "_step": reply.step,
                        },
                    )
                )
            elif not reply.edit:
                rows += _sends(chat_id, reply)
        session = replace(outcome.session, last_update=update.update_id)
        self.storage.commit_turn(session, outcome.effects, rows, self.clock())
        self._enqueue([])
        log.info(
            "turn",
            extra={
                "event": "turn",
                "user": hashed(session.user_id),
                "step": self._loggable_step(session),
                "flow": session.flow,
                "replies": len(rows),
            },
        )

    def _loggable_step(self, session: Session) -> str:
        """The step id, except on health topics, where an id like ``rf_fever_yes`` would
        tell an answer: there the log gets the topic only."""
        flow = self.engine.bundle.flows.get(session.flow)
        step = flow.steps.get(session.step) if flow else None
        topic = step.topic if step else None
        return f"topic:{topic}" if topic in SENSITIVE_TOPICS else session.step

    def _show_choice(self, update: Update, chat_id: int, message_id: int, chosen: str) -> Row:
        """Replace the pressed message's buttons with what was picked: no second tap."""
        query = update.callback_query
        original = (
            query.message.text_html
            if query and query.message and hasattr(query.message, "text_html")
            else ""
        )
        text = (
            f"{original}\n\n✓ <i>{escape(chosen)}</i>" if original else f"✓ <i>{escape(chosen)}</i>"
        )
        return (
            chat_id,
            "editMessageText",
            {
                "chat_id": chat_id,
                "message_id": message_id,
                "text": text,
                "parse_mode": ParseMode.HTML,
            },
        )

    def _enqueue(self, rows: list[Row]) -> None:
        if rows:
            self.storage.commit_outbox(rows, self.clock())
        if self.sender is not None:
            self.sender.notify()

    def _remember_acted(self, chat_id: int, message_id: int) -> None:
        acted = self._acted.setdefault(chat_id, deque(maxlen=20))
        acted.append(message_id)
        if len(self._acted) > 10_000:
            self._acted.pop(next(iter(self._acted)))

    @staticmethod
    def _chat(update: Update) -> int:
        return chat_key(update)

    def _user(self, update: Update) -> str:
        return str(self._chat(update))

    @staticmethod
    def _language(update: Update) -> str:
        return "en"


async def _answer(query: Any, text: str | None = None) -> None:
    with contextlib.suppress(BadRequest, NetworkError):
        await query.answer(text)


def _send(chat_id: int, text: str, markup: dict[str, Any] | None = None, step: str = "") -> Row:
    params: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": ParseMode.HTML}
    if markup:
        params["reply_markup"] = markup
    if step:
        params["_step"] = step
    return (chat_id, "sendMessage", params)


def _sends(chat_id: int, reply: Reply) -> list[Row]:
    """One reply as sendMessage rows: split cleanly when over 4096, buttons on the last."""
    parts = split_html(reply.text)
    markup = keyboard(reply)
    return [
        _send(chat_id, part, markup if index == len(parts) - 1 else None, reply.step)
        for index, part in enumerate(parts)
    ]


# ---------------------------------------------------------------- running


def build_application(
    settings: RunSettings, processor: ChatOrder
) -> Application[Any, Any, Any, Any, Any, Any]:
    return (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.api_base_url)
        .concurrent_updates(processor)
        .request(AiohttpRequest(connections=64))  # see bot/telegram_request.py
        .get_updates_request(AiohttpRequest(connections=1))
        .updater(None)
        .build()
    )


async def serve(settings: RunSettings, stop: asyncio.Event) -> None:
    """Run the bot until ``stop`` is set: polling or webhook, plus the outbox sender."""
    bundle = load_bundle([settings.flows_dir])
    storage = open_storage(settings.database_url)
    if not isinstance(storage, SqlStorage):
        raise ConfigError("hipbot run needs a database: set DATABASE_URL to sqlite:///path/file.db")
    features = load_features()
    features.setup(storage)
    storage.release_claims()
    engine = Engine(bundle, {"emergency_number": settings.emergency_number})
    processor = ChatOrder()
    application = build_application(settings, processor)
    hipbot = HipBot(engine, storage, features=features)
    hipbot.install(application)
    try:
        reached = await _reach_telegram(application, stop)
    except BaseException:  # a refused token, or cancelled: close what the tries opened
        await _close_unstarted(application, storage)
        raise
    if not reached:
        await _close_unstarted(application, storage)
        return
    sender = OutboxSender(storage, application.bot, settings.rate_limit)
    hipbot.sender = sender
    sending = asyncio.create_task(sender.run())
    jobs = asyncio.create_task(_run_jobs(features, storage, sender, stop))
    try:
        await application.bot.set_my_commands(hipbot.commands())
        log.info("started", extra={"event": "started", "mode": settings.mode})
        if settings.mode == "webhook":
            await _serve_webhook(settings, application, processor, storage, stop)
        else:
            await _poll(application, processor, stop)
    finally:
        sender.stop()
        jobs.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(sending, 10)
        await application.shutdown()
        storage.close()


JOB_INTERVAL = 2.0  # seconds between sweeps of reminders, follow-ups and broadcasts


async def _reach_telegram(
    application: Application[Any, Any, Any, Any, Any, Any], stop: asyncio.Event
) -> bool:
    """Start once the Bot API answers (getMe), retrying with backoff while the network or
    Telegram is down; False if told to stop first. A refused token is final."""
    wait = 1.0
    while not stop.is_set():
        try:
            await application.initialize()
            return True
        except InvalidToken:
            raise
        except (NetworkError, TelegramError) as error:
            log.warning(
                "cannot reach the Bot API yet; retrying",
                extra={"event": "start_retry", "error": type(error).__name__, "wait": wait},
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
            wait = min(wait * 2, 60.0)
    return False


async def _close_unstarted(
    application: Application[Any, Any, Any, Any, Any, Any], storage: SqlStorage
) -> None:
    """Close the HTTP sessions the start-up tries opened: PTB's ``Application.shutdown``
    does nothing for an application whose ``initialize`` never succeeded (stopped with
    Ctrl-C while Telegram was unreachable), which left "Unclosed client session" errors."""
    try:
        await application.bot.shutdown()
    finally:
        storage.close()


async def _run_jobs(
    features: Features, storage: SqlStorage, sender: OutboxSender, stop: asyncio.Event
) -> None:
    """Run every feature's sweep every few seconds; wake the sender when they queued work."""
    while not stop.is_set():
        try:
            if features.run_jobs(storage, time.time()):
                sender.notify()
        except Exception:
            log.exception("a sweep failed", extra={"event": "job_error"})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), JOB_INTERVAL)


async def _poll(
    application: Application[Any, Any, Any, Any, Any, Any],
    processor: ChatOrder,
    stop: asyncio.Event,
) -> None:
    """Long-poll; confirm updates (next offset) only after they were handled and stored."""
    bot = application.bot
    await bot.delete_webhook()
    offset: int | None = None
    backoff = 1.0
    while not stop.is_set():
        fetch = asyncio.ensure_future(
            bot.get_updates(
                offset=offset, timeout=20, read_timeout=30, allowed_updates=Update.ALL_TYPES
            )
        )
        stopping = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if fetch not in done:
            fetch.cancel()
            break
        stopping.cancel()
        try:
            updates = fetch.result()
        except InvalidToken:
            raise
        except RetryAfter as error:
            await asyncio.sleep(seconds(error.retry_after))
            continue
        except (NetworkError, TelegramError):
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
            continue
        backoff = 1.0
        await asyncio.gather(
            *(processor.process_update(u, application.process_update(u)) for u in updates)
        )
        if updates:
            offset = updates[-1].update_id + 1
    if offset is not None:
        with contextlib.suppress(TelegramError):
            await bot.get_updates(offset=offset, timeout=0)


async def _serve_webhook(
    settings: RunSettings,
    application: Application[Any, Any, Any, Any, Any, Any],
    processor: ChatOrder,
    storage: Storage,
    stop: asyncio.Event,
) -> None:
    """Webhook mode: answers 200 only after the update is handled and stored."""

    async def receive(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != settings.webhook_secret:
            return web.Response(status=403, text="forbidden")
        try:
            update = Update.de_json(await request.json(), application.bot)
        except (ValueError, KeyError, TypeError):
            return web.Response(status=400, text="not an update")
        await processor.process_update(update, application.process_update(update))
        return web.Response(text="ok")

    async def healthz(request: web.Request) -> web.Response:
        body = {"ok": True, "pending_outbox": storage.pending_outbox()}
        return web.Response(text=json.dumps(body), content_type="application/json")

    app = web.Application()
    app.router.add_post(settings.webhook_path, receive)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.listen, settings.port)
    await site.start()
    await application.bot.set_webhook(
        settings.public_url.rstrip("/") + settings.webhook_path,
        secret_token=settings.webhook_secret,
        allowed_updates=Update.ALL_TYPES,
    )
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> int:
    """``hipbot run``."""
    load_dotenv_file()
    try:
        settings = RunSettings.from_env()
    except ConfigError as error:
        print(f"hipbot: {error}")
        return 2
    from bot.logs import setup_logging

    setup_logging(settings.log_format)
    try:
        load_bundle([settings.flows_dir])
    except FlowErrors as errors:
        print(f"{errors}\nThe flows have problems: fix them, then start again.")
        return 1
    return asyncio.run(_main(settings))


async def _main(settings: RunSettings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await serve(settings, stop)
    except InvalidToken:
        print("hipbot: Telegram refused TELEGRAM_BOT_TOKEN: check it with @BotFather")
        return 2
    return 0


__all__ = ["ChatOrder", "HipBot", "main", "serve"]
