"""The Telegram adapter: the only module that imports ``telegram``.

Each update becomes an engine ``Event``; the new session and the replies to send are stored
in one transaction (the outbox); ``OutboxSender`` delivers them. Updates of one chat are
handled in order under a per-chat lock (``ChatOrder``), different chats in parallel. In
polling mode an update is confirmed to Telegram only after it has been handled and stored;
in webhook mode the HTTP answer waits for the same. A redelivered update is recognised by
its id (the ids handled lately, per bot: ``bot.storage.updates``) and acts once. Updates
the library cannot read are confirmed and skipped (``bot.telegram.updates``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
import warnings
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from telegram import BotCommand, Update
from telegram.constants import ChatMemberStatus, ChatType
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

from bot import languages, outgoing, texts
from bot.engine import Engine
from bot.errors import ConfigError, FlowErrors
from bot.features import Features, Loaded, load_features
from bot.loader import load_bundle
from bot.logs import hash_id
from bot.metrics import Metrics, add_routes, start_ops
from bot.model import DEFAULT_LANGUAGE, Bundle
from bot.progress import pool as progress_pool
from bot.settings import RunSettings, load_dotenv_file, urgent_care
from bot.storage import database_unavailable, open_storage
from bot.storage.sql import SqlStorage
from bot.telegram.request import AiohttpRequest
from bot.telegram.sender import OutboxSender, seconds
from bot.telegram.updates import envelope, parse, parse_batch
from bot.turns import Channel, Done, Inbound, InboundKind, Turns

log = logging.getLogger("hipbot.telegram")
os.environ.setdefault("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as a timedelta, no warning
SYSTEM_COMMANDS = {"start": "Start again", "stop": "No more messages from me"}
TELEGRAM = Channel("telegram", durable=True, reminders=True)
# _fetch_updates asks for getUpdates by name to read the raw batch (see bot.telegram.updates)
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'", category=UserWarning)


class ChatOrder(BaseUpdateProcessor):
    """Updates of one chat one after another, in arrival order; chats in parallel."""

    def __init__(self, max_concurrent_updates: int = 256, metrics: Metrics | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self.metrics = metrics

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update) if isinstance(update, Update) else 0
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                started = time.perf_counter()
                await coroutine
                if self.metrics is not None:
                    self.metrics.observe_turn(time.perf_counter() - started)
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


class HipBot:
    """Turns Telegram updates into inbound actions for the turn service (``bot.turns``)."""

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
        self.turns = Turns(engine, storage, self.features, TELEGRAM, clock)
        self.sender: OutboxSender | None = None
        self._acted: dict[int, deque[int]] = OrderedDict()  # messages whose buttons acted
        self.deferred: set[int] = set()  # update ids whose turn the database could not take

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

    def commands(self, language: str = DEFAULT_LANGUAGE) -> list[BotCommand]:
        """The command menu in ``language``: the flows' route descriptions and the code's
        own (flows/texts_commands.yaml), each falling back to English."""
        found = {**SYSTEM_COMMANDS, **self.features.descriptions}
        for command, key in texts.COMMAND_DESCRIPTIONS.items():
            if command in found:
                with contextlib.suppress(KeyError):  # a flows folder without the texts
                    found[command] = self.engine.text(key).get(language)
        for command, route in self.engine.routes.items():
            found[command] = route.description.get(language) if route.description else command
        order = ["start", "menu", "help", "urgent"]
        names = sorted(found, key=lambda n: (order.index(n) if n in order else 99, n))
        return [BotCommand(name, found[name][:256]) for name in names]

    # ------------------------------------------------------------ handlers

    async def only_private(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Groups and channels: one polite note, then silence."""
        chat = update.effective_chat
        if chat is None or chat.type == ChatType.PRIVATE:
            self._came_back(update)
            return
        if update.my_chat_member is None and not self.storage.get_flag(f"chat:{chat.id}", "noted"):
            self.storage.set_flag(f"chat:{chat.id}", "noted", True)
            said = texts.PRIVATE_ONLY.get(self._language(update))
            self.storage.commit_outbox(outgoing.say(chat.id, said), 0)
            self._wake()
        log.info(
            "ignored a non-private chat", extra={"event": "not_private", "chat": hashed(chat.id)}
        )
        raise ApplicationHandlerStop

    def _came_back(self, update: Update) -> None:
        """Anything the person sends (a message, a press) shows they have not blocked the
        bot: a ``blocked`` mark from an earlier 403 goes, so reminders and broadcasts
        reach them again (they need not press /start)."""
        if update.my_chat_member is not None or update.effective_user is None:
            return
        user = str(chat_key(update))
        if self.storage.get_flag(user, "blocked"):
            self.storage.set_flag(user, "blocked", False)
            log.info("blocked mark cleared by a message", extra={"event": "unblocked"})

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
        payload = context.args[0] if context.args else ""
        self._turn(update, "start", text=payload)

    async def on_stop(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/stop: no proactive messages until /start."""
        self._turn(update, "stop")

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any other command: a feature's, a flow route (/menu, /help, /urgent ...) or a
        friendly 'unknown'."""
        message = update.effective_message
        text = message.text if message and message.text else "/"
        name, _, args = text[1:].partition(" ")
        self._turn(update, "command", text=args[:200], name=name.split("@", 1)[0][:32].casefold())

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Typed text: a wizard's answer, an answer, a button's words, or something to re-ask."""
        message = update.effective_message
        self._turn(update, "text", text=(message.text or "") if message else "")

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: answered at once; acts once even when tapped twice."""
        query = update.callback_query
        if query is None:
            return
        chat_id = chat_key(update)
        message_id = query.message.message_id if query.message else None
        if message_id is not None and message_id in self._acted.get(chat_id, ()):
            language = self.turns.language_of(
                Inbound(chat_id, "note", language=self._language(update))
            )
            await _answer(query, texts.ALREADY_CHOSEN.get(language))
            return
        await _answer(query)
        original = getattr(query.message, "text_html", "") if query.message else ""
        photo = bool(getattr(query.message, "photo", None))  # a picture: its caption is the text
        if photo:
            original = getattr(query.message, "caption_html", "") or ""
        done = self._turn(
            update,
            "button",
            name=query.data or "",
            pressed=message_id,
            pressed_text=original,
            pressed_photo=photo,
        )
        if message_id is None or done.repeated:
            return
        feature_done = done.response is not None and done.response.edit is None
        if feature_done or (done.outcome is not None and done.outcome.chosen is not None):
            self._remember_acted(chat_id, message_id)

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Edits are not read; say so once (per person), kindly."""
        self._turn(update, "note", key=texts.NO_EDITS, flag="edit_noted")

    async def on_other_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, voice, files, locations, contacts, polls: ask again in words."""
        self._turn(update, "other")

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log what went wrong (no message text, no ids), tell the person, keep serving. A
        turn the database could not take (locked, connection lost) is deferred instead: the
        update is not confirmed to Telegram, so it comes again and nothing the person sent is
        lost."""
        error = context.error
        if error is not None and database_unavailable(error) and isinstance(update, Update):
            self.deferred.add(update.update_id)
            log.warning(
                "turn deferred", extra={"event": "turn_deferred", "error": type(error).__name__}
            )
            return
        log.error(
            "handler failed",
            extra={"event": "handler_error", "error": type(error).__name__},
            exc_info=error if not isinstance(error, TelegramError) else None,
        )
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is not None and chat.type == ChatType.PRIVATE:
            with contextlib.suppress(Exception):
                hint = self._language(update) if isinstance(update, Update) else None
                language = self.turns.language_of(Inbound(chat.id, "note", language=hint or "en"))
                self.storage.commit_outbox(outgoing.say(chat.id, texts.TRY_AGAIN.get(language)), 0)
                self._wake()

    # ------------------------------------------------------------ turns

    def _turn(self, update: Update, kind: InboundKind, **fields: Any) -> Done:
        """One update as one turn (``bot.turns``): stored with its id, so a redelivered copy
        acts no more; the sender is woken for what it said."""
        inbound = Inbound(
            chat_key(update),
            kind,
            language=self._language(update),
            seen=(_bot_id(update), update.update_id),
            **fields,
        )
        done = self.turns.handle(inbound)
        self._wake()
        return done

    def _wake(self) -> None:
        if self.sender is not None:
            self.sender.notify()

    def _remember_acted(self, chat_id: int, message_id: int) -> None:
        acted = self._acted.setdefault(chat_id, deque(maxlen=20))
        acted.append(message_id)
        if len(self._acted) > 10_000:
            self._acted.pop(next(iter(self._acted)))

    @staticmethod
    def _language(update: Update) -> str:
        """The person's Telegram language (a hint: a stored session keeps its own)."""
        user = update.effective_user
        return languages.pick(user.language_code if user is not None else None)


async def set_commands(bot: Any, hipbot: HipBot) -> None:
    """The command menu: the default (English) and one per other language, which Telegram
    shows to people whose app is set to it."""
    await bot.set_my_commands(hipbot.commands())
    for language in languages.SUPPORTED:
        if language != DEFAULT_LANGUAGE:
            await bot.set_my_commands(hipbot.commands(language), language_code=language)


def _bot_id(update: Update) -> int:
    """Which bot the update came to (ids are numbered per bot); 0 outside a running bot."""
    try:
        return update.get_bot().id
    except RuntimeError:
        return 0


async def _answer(query: Any, text: str | None = None) -> None:
    with contextlib.suppress(BadRequest, NetworkError):
        await query.answer(text)


# ---------------------------------------------------------------- running


def build_application(
    settings: RunSettings, processor: ChatOrder
) -> Application[Any, Any, Any, Any, Any, Any]:
    return (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.api_base_url)
        .concurrent_updates(processor)
        .request(AiohttpRequest(connections=64))  # see bot/telegram/request.py
        .get_updates_request(AiohttpRequest(connections=1))
        .updater(None)
        .build()
    )


async def serve(settings: RunSettings, stop: asyncio.Event, bundle: Bundle | None = None) -> None:
    """Run the bot until ``stop`` is set: polling or webhook, plus the outbox sender."""
    config = {"emergency_number": settings.emergency_number, "urgent_care": urgent_care()}
    bundle = bundle or load_bundle([settings.flows_dir])
    storage = open_storage(settings.database_url)
    if not isinstance(storage, SqlStorage):
        raise ConfigError("hipbot run needs a database: set DATABASE_URL to sqlite:///path/file.db")
    features = load_features(loaded=Loaded(bundle=bundle, paths=[settings.flows_dir]))
    features.setup(storage)
    features.beat(storage, time.time())  # seen at once: `keys rotate` refuses from here on
    storage.release_claims()
    engine = Engine(bundle, config)
    metrics = Metrics()
    processor = ChatOrder(metrics=metrics)
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
    sender = OutboxSender(storage, application.bot, settings.rate_limit, metrics=metrics)
    hipbot.sender = sender
    sending = asyncio.create_task(supervise("sender", sender.run, sender.stopped, metrics))
    jobs = asyncio.create_task(
        supervise("jobs", lambda: _run_jobs(features, storage, sender, stop), stop, metrics)
    )
    health = health_check(sender, sending, settings.stall_seconds)
    ops: web.AppRunner | None = None
    try:
        if settings.mode != "webhook" and settings.metrics_port is not None:
            ops = await start_ops(
                metrics, storage.db, health, settings.listen, settings.metrics_port
            )
        await set_commands(application.bot, hipbot)
        log.info("started", extra={"event": "started", "mode": settings.mode})
        if settings.mode == "webhook":
            await _serve_webhook(
                settings, application, processor, storage, stop, metrics, health, hipbot
            )
        else:
            await supervise(
                "poller",
                lambda: _poll(application, processor, stop, hipbot),
                stop,
                metrics,
                fatal=(InvalidToken,),
            )
    finally:
        stop.set()  # also after a fatal error: every loop ends at its next check
        sender.stop()
        # a sweep may be in a worker thread: let it finish (cancelling the task would not stop
        # the thread) before the database closes under it
        for task in (jobs, sending):
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, 10)
        if ops is not None:
            await ops.cleanup()
        await application.shutdown()
        await asyncio.to_thread(progress_pool.shutdown)  # the chart and summary drawers
        storage.close()


async def supervise(
    name: str,
    run: Callable[[], Awaitable[None]],
    stop: asyncio.Event,
    metrics: Metrics,
    pause: tuple[float, float] = (1.0, 60.0),
    fatal: tuple[type[BaseException], ...] = (),
) -> None:
    """Run a long-lived task until ``stop`` is set: when it fails (or returns too early) log
    it with its traceback, count it, and start it again after a pause that doubles up to
    ``pause[1]`` while the failures go on. ``fatal`` errors (a refused token) end it."""
    wait = pause[0]
    while not stop.is_set():
        started = time.monotonic()
        try:
            await run()
        except fatal:
            raise
        except Exception:
            log.exception(
                "%s failed; restarting it", name, extra={"event": "task_error", "task": name}
            )
        else:
            if stop.is_set():
                return
            log.error(
                "%s stopped by itself; restarting it",
                name,
                extra={"event": "task_error", "task": name},
            )
        metrics.task_errors.labels(task=name).inc()
        if time.monotonic() - started > pause[1]:
            wait = pause[0]  # it ran well for a while: this is a new failure
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)
        wait = min(wait * 2, pause[1])


def health_check(
    sender: OutboxSender, sending: asyncio.Task[None], stall: float
) -> Callable[[], str | None]:
    """/healthz's verdict, from what the sender last did (no database call): unhealthy
    when the sender task ended, or when due messages waited ``stall`` s with no claim."""

    def check() -> str | None:
        if sending.done():
            return "the outbox sender is not running"
        stalled = sender.stalled(stall)
        if stalled is not None:
            return f"messages are due but none was taken for sending in {stalled:.0f} s"
        return None

    return check


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
        try:  # in a worker thread: a wait for the database never blocks the event loop
            if await asyncio.to_thread(features.run_jobs, storage, time.time()):
                sender.notify()
        except Exception:
            log.exception("a sweep failed", extra={"event": "job_error"})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), JOB_INTERVAL)


async def _poll(
    application: Application[Any, Any, Any, Any, Any, Any],
    processor: ChatOrder,
    stop: asyncio.Event,
    hipbot: HipBot,
) -> None:
    """Long-poll; confirm updates (next offset) only after they were handled and stored."""
    bot = application.bot
    await bot.delete_webhook()
    offset: int | None = None
    tries: dict[int, int] = {}  # deferred update id -> times it was tried
    backoff = 1.0
    while not stop.is_set():
        fetch = asyncio.ensure_future(_fetch_updates(bot, offset))
        stopping = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if fetch not in done:
            fetch.cancel()
            break
        stopping.cancel()
        try:
            updates, confirm = parse_batch(fetch.result(), bot)
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
        retry = _first_deferred(hipbot, updates, tries)
        if retry is not None:  # confirm what came before it; it (and what follows) comes again
            offset = retry
            await asyncio.sleep(min(2.0 ** tries[retry], 30.0))
            continue
        if confirm is not None:
            offset = confirm  # the unreadable updates too: they are skipped, not retried
    if offset is not None:  # confirm the last batch; what came since waits for the next start
        with contextlib.suppress(TelegramError):
            await _fetch_updates(bot, offset, timeout=0)


DEFER_TRIES = 10  # about five minutes of a database that cannot be used, then move on


def _first_deferred(hipbot: HipBot, updates: Sequence[Update], tries: dict[int, int]) -> int | None:
    """The first update of the batch whose turn was deferred and may be tried again."""
    ids = {u.update_id for u in updates}
    deferred = sorted(hipbot.deferred & ids)
    hipbot.deferred -= ids
    for update_id in deferred:
        tries[update_id] = tries.get(update_id, 0) + 1
        if tries[update_id] <= DEFER_TRIES:
            return update_id
        log.error("turn given up", extra={"event": "turn_given_up"})
    for update_id in ids:
        tries.pop(update_id, None)
    return None


async def _fetch_updates(bot: Any, offset: int | None, timeout: int = 20) -> object:
    """One long poll, as raw JSON: the library's ``get_updates`` reads the whole batch at
    once, so one update it cannot read would fail the batch, every time (and its log line
    would quote the batch: names, chat ids, text)."""
    params = {"offset": offset, "timeout": timeout, "allowed_updates": list(Update.ALL_TYPES)}
    return await bot.do_api_request(
        "getUpdates",
        api_kwargs={k: v for k, v in params.items() if v is not None},
        read_timeout=timeout + 30,
    )


async def _serve_webhook(
    settings: RunSettings,
    application: Application[Any, Any, Any, Any, Any, Any],
    processor: ChatOrder,
    storage: SqlStorage,
    stop: asyncio.Event,
    metrics: Metrics,
    health: Callable[[], str | None],
    hipbot: HipBot,
) -> None:
    """Webhook mode: answers 200 only after the update is handled and stored; /healthz and
    /metrics on the same port."""

    async def receive(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != settings.webhook_secret:
            return web.Response(status=403, text="forbidden")
        data = envelope(await request.read())
        if data is None:
            return web.Response(status=400, text="not an update: a JSON object with update_id")
        update = parse(data, application.bot)
        if update is not None:  # unreadable: confirmed (200) and skipped, see bot.telegram.updates
            await processor.process_update(update, application.process_update(update))
            if update.update_id in hipbot.deferred:  # Telegram sends it again later
                hipbot.deferred.discard(update.update_id)
                return web.Response(status=503, text="busy: send again")
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post(settings.webhook_path, receive)
    add_routes(app, metrics, storage.db, health)
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
        urgent_care()  # HIPBOT_URGENT_CARE, beside HIPBOT_EMERGENCY_NUMBER
    except ConfigError as error:
        print(f"hipbot: {error}")
        return 2
    from bot.logs import setup_logging

    setup_logging(settings.log_format)
    try:
        bundle = load_bundle([settings.flows_dir])
    except FlowErrors as errors:
        print(f"{errors}\nThe flows have problems: fix them, then start again.")
        return 1
    return asyncio.run(_main(settings, bundle))


async def _main(settings: RunSettings, bundle: Bundle | None = None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await serve(settings, stop, bundle)
    except InvalidToken:
        print("hipbot: Telegram refused TELEGRAM_BOT_TOKEN: check it with @BotFather")
        return 2
    return 0


__all__ = ["ChatOrder", "HipBot", "main", "serve"]
