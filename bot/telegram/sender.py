"""The outbox sender: delivers the stored messages to Telegram and records what happened.

Replies, reminders and broadcasts are rows in the outbox, written in the same transaction as
the state that produced them. This loop claims due rows, sends them in order per chat and in
parallel across chats, within a global rate limit, and marks each one:

* sent: done;
* 429 Too Many Requests: everything pauses for ``retry_after``, then the row is retried;
* network error, timeout or 5xx: retried with exponential backoff (1 s, 2 s, ... 30 s);
* 403 Forbidden: the person blocked the bot; they are marked blocked, their rows parked;
* 400 Bad Request: the row can never succeed; it is parked and logged with its step id.

A chat's rows go out in order (priority, then id): a row waits while an earlier row of its
chat is backing off (``claim_outbox``), so a reply never overtakes one that failed.

Database calls run in a worker thread, so a long wait for the SQLite write lock (a backup, a
CLI command) never freezes the event loop; ``run`` survives such errors with backoff, what Telegram
answered is recorded as soon as the database takes it again (so a sent message is not sent
twice), and ``stalled`` tells /healthz whether due messages are stuck.

A row is marked sent only after Telegram answered, so a crash between sending and marking
can repeat that one message after restart (at most the rows in flight at the kill), never
lose it. Marks are group-committed: the rows answered while one transaction of marks runs
are marked together in the next one (``_mark_sent``); a chat's next row goes out only once
its row before is marked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import warnings
from collections.abc import Callable
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import Bot
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBUserWarning

from bot.metrics import Metrics
from bot.storage import OutboxRow, Storage, database_unavailable
from bot.telegram import files
from bot.telegram.render import render

log = logging.getLogger("hipbot.sender")
# Rows are rendered to Bot API calls by name (bot.telegram.render): do_api_request fits.
warnings.filterwarnings("ignore", message="Please use 'Bot.", category=PTBUserWarning)
MAX_BACKOFF = 30.0  # a failed row (and the rest of its chat) waits at most this long
ERROR_BACKOFF = (1.0, 30.0)  # first and longest pause after a database error in the loop
BLOCKED = -1.0  # _send's answer when the person blocked the bot
BATCH = 200


class OutboxSender:
    def __init__(
        self,
        storage: Storage,
        bot: Bot,
        rate: float = 30.0,
        clock: Callable[[], float] = time.time,
        user_of: Callable[[int], str] = str,
        metrics: Metrics | None = None,
        max_backoff: float = MAX_BACKOFF,
        error_backoff: tuple[float, float] = ERROR_BACKOFF,
    ) -> None:
        self.storage = storage
        self.bot = bot
        self.clock = clock
        self.user_of = user_of
        self.metrics = metrics or Metrics()
        self.max_backoff = max_backoff
        self.error_backoff = error_backoff
        # A leaky bucket a tenth of a second deep (not a whole second): it absorbs the short
        # pauses between claims, yet never lets a burst run ahead of Telegram's own bucket,
        # so network jitter cannot earn 429s at full rate.
        burst = max(1.0, rate / 10)
        self.limiter = AsyncLimiter(max_rate=burst, time_period=burst / rate)
        # About a quarter of a second of sending per claim: a reply that comes in during a
        # long broadcast waits for that much bulk at most, not for a whole batch.
        self.batch = max(1, min(BATCH, math.ceil(rate / 4)))
        self.wake = asyncio.Event()
        self.paused_until = 0.0
        self.sent = 0
        self.errors = 0  # database errors the loop survived
        self.progress = clock()  # the last claim that worked (or the start)
        self.waiting_since: float | None = None  # rows were known to be due from then on
        self._stopping = False
        self.stopped = asyncio.Event()
        self._was_leader = False
        self._unmarked: list[OutboxRow] = []  # answered, waiting for the next group of marks
        self._marking = asyncio.Lock()  # one transaction of marks at a time

    async def _db(self, call: Callable[..., Any], *args: Any) -> Any:
        """A storage call in a worker thread: waiting for a lock never blocks the loop."""
        return await asyncio.to_thread(call, *args)

    def _leader(self) -> bool:
        """Only one process sends (so the rate limit holds for all replicas together). A
        process that just became the sender releases the claims of the one that died.
        (Runs in a worker thread.)"""
        db = getattr(self.storage, "db", None)
        leader = db is None or bool(db.try_leader("outbox-sender"))
        if leader and not self._was_leader:
            self.storage.release_claims()
        self._was_leader = leader
        return leader

    def notify(self) -> None:
        """New rows are waiting: send them now rather than at the next poll."""
        if self.waiting_since is None:
            self.waiting_since = self.clock()
        self.wake.set()

    def stalled(self, limit: float) -> float | None:
        """Seconds without a working claim while rows were due, if more than ``limit``."""
        if self.waiting_since is None:
            return None
        now = self.clock()
        idle = now - max(self.progress, self.waiting_since)
        return idle if idle > limit else None

    async def run(self, idle_poll: float = 1.0) -> None:
        """Send until ``stop()``; sleeps on ``wake`` (or ``idle_poll`` s) when idle. A
        database error (the write lock held too long, a lost connection) is logged and
        counted, and the loop goes on after a pause that grows while the errors last."""
        pause = self.error_backoff[0]
        while not self._stopping:
            try:
                sent_any = await self._round(idle_poll)
            except Exception:  # the next round may well work: never let the sender die
                self._failed("the outbox sender failed; retrying")
                await self._pause(pause)
                pause = min(pause * 2, self.error_backoff[1])
                continue
            pause = self.error_backoff[0]
            if not sent_any:
                await self._sleep(idle_poll)
                self.wake.clear()

    async def _round(self, idle_poll: float) -> bool:
        if not await self._db(self._leader):
            await asyncio.sleep(idle_poll)  # another replica sends; take over if it dies
            self.progress = self.clock()
            return True
        return await self.send_due()

    def _failed(self, message: str) -> None:
        self.errors += 1
        self.metrics.task_errors.labels(task="sender").inc()
        log.exception(message, extra={"event": "sender_error"})

    async def _pause(self, seconds: float) -> None:
        """Wait after an error (new rows do not cut it short; ``stop()`` does)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopped.wait(), seconds)

    async def _store(self, call: Callable[..., Any], *args: Any) -> None:
        """Record what Telegram answered, retrying until the database takes it: a row sent
        but left unmarked would go out a second time when its claim expires."""
        pause = self.error_backoff[0]
        while True:
            try:
                await self._db(call, *args)
                return
            except Exception:
                if self._stopping:
                    raise
                self._failed("could not record a send; retrying")
                await self._pause(pause)
                pause = min(pause * 2, self.error_backoff[1])

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake early for new rows or ``stop()``."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), seconds)

    def stop(self) -> None:
        self._stopping = True
        self.stopped.set()
        self.wake.set()

    async def send_due(self) -> bool:
        """Claim one batch of due rows and send it; True if there was anything to send."""
        wait = self.paused_until - self.clock()
        if wait > 0:
            await asyncio.sleep(wait)
        rows = await self._db(self.storage.claim_outbox, self.batch, self.clock())
        self.progress = self.clock()
        if not rows:
            self.waiting_since = None
            return False
        if self.waiting_since is None:
            self.waiting_since = self.progress
        by_chat: dict[int, list[OutboxRow]] = {}
        for row in rows:
            by_chat.setdefault(row.chat_id, []).append(row)
        results = await asyncio.gather(
            *(self._send_chat(chat_rows) for chat_rows in by_chat.values()),
            return_exceptions=True,  # every chat finishes (and records) before run() hears
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return True

    async def _send_chat(self, rows: list[OutboxRow]) -> None:
        """Send one chat's rows in order; stop at the first that must wait, keeping order."""
        for index, row in enumerate(rows):
            delay = await self._send(row)
            if delay == BLOCKED:  # nothing more can reach this chat
                for later in rows[index + 1 :]:
                    await self._store(
                        self.storage.park, later.id, "403 blocked earlier in this batch"
                    )
                return
            if delay is not None:  # the rest wait behind the failed row (claim_outbox)
                for later in rows[index + 1 :]:
                    await self._store(
                        self.storage.retry_later, later.id, self.clock(), "after an earlier one"
                    )
                return

    async def _send(self, row: OutboxRow) -> float | None:
        """Send one row. None when the chat may go on; else seconds the chat must wait."""
        step = row.params.get("_step", "")
        try:
            if row.params.get("made"):  # a file made now (a summary PDF): not on the loop
                call = await self._db(render, row.chat_id, row.method, row.params)
            else:
                call = render(row.chat_id, row.method, row.params)
            if call.picture:  # its stored file id, or the upload (bot.telegram.files)
                call = await self._db(files.prepare, self.storage, self.bot, call)
        except Exception as error:
            if database_unavailable(error):  # drawing a chart read the database: try later
                wait = min(self.max_backoff, 2.0 ** min(row.attempts, 30))
                await self._store(
                    self.storage.retry_later, row.id, self.clock() + wait, type(error).__name__
                )
                return wait
            # a row no version of the bot would write, or a file that cannot be made from
            # it (a chart, a summary): parked and logged, so the chat's next rows still go
            self._count(row, "400")
            await self._store(self.storage.park, row.id, f"unreadable row: {error!r}"[:500])
            log.error(
                "an outbox row could not be read or made",
                extra={"event": "send_400", "step": step, "error": type(error).__name__},
                exc_info=error,
            )
            return None
        try:
            try:
                async with self.limiter:
                    result = await self.bot.do_api_request(call.method, api_kwargs=call.params)
            except BadRequest as error:
                if not files.refused_file_id(call, error.message):
                    raise
                # Telegram no longer knows the stored file id: forget it, upload once more
                log.warning(
                    "a stored file id was refused; uploading the picture again",
                    extra={"event": "file_id_refused", "step": step, "error": error.message},
                )
                await self._store(files.forget, self.storage, self.bot, call)
                call = await self._db(files.prepare, self.storage, self.bot, call)
                async with self.limiter:
                    result = await self.bot.do_api_request(call.method, api_kwargs=call.params)
        except RetryAfter as error:
            self._count(row, "429")
            wait = seconds(error.retry_after)
            self.paused_until = max(self.paused_until, self.clock() + wait)
            await self._store(
                self.storage.retry_later, row.id, self.clock() + wait, f"429 retry after {wait}"
            )
            log.warning("rate limited", extra={"event": "send_429", "retry_after": wait})
            return wait
        except Forbidden as error:
            self._count(row, "403")
            await self._store(self.storage.set_flag, self.user_of(row.chat_id), "blocked", True)
            await self._store(self.storage.park, row.id, f"403 {error.message}")
            log.info("chat blocked the bot", extra={"event": "send_403", "step": step})
            return BLOCKED
        except BadRequest as error:
            if "not modified" in error.message:
                self._count(row, "ok")
                await self._mark_sent(row)
                return None
            self._count(row, "400")
            await self._store(self.storage.park, row.id, f"400 {error.message}")
            log.error(
                "Telegram refused a message",
                extra={
                    "event": "send_400",
                    "step": step,
                    "method": call.method,
                    "error": error.message,
                },
            )
            return None
        except (NetworkError, TelegramError) as error:
            self._count(row, failure_kind(error))
            wait = min(self.max_backoff, 2.0 ** min(row.attempts, 30))
            await self._store(
                self.storage.retry_later, row.id, self.clock() + wait, type(error).__name__
            )
            log.warning("send failed, will retry", extra={"event": "send_retry", "wait": wait})
            return wait
        if call.picture:  # an upload's file id, for next time (bot.telegram.files)
            await self._store(files.remember, self.storage, self.bot, call, result, self.clock())
        self._count(row, "ok")
        await self._mark_sent(row)
        self.sent += 1
        return None

    async def _mark_sent(self, row: OutboxRow) -> None:
        """Mark a row sent, with every other row answered meanwhile, in one transaction
        (group commit); returns once this row's mark is stored."""
        self._unmarked.append(row)
        async with self._marking:
            if not self._unmarked:  # the group before took this row along and stored it
                return
            rows, self._unmarked = self._unmarked, []
            await self._store(self.storage.mark_sent_many, rows, self.clock())

    def _count(self, row: OutboxRow, result: str) -> None:
        self.metrics.sends.labels(result=result).inc()
        if result == "ok" and row.params.get("_reminder") is not None:
            self.metrics.reminders_sent.inc()


def failure_kind(error: TelegramError) -> str:
    """``network`` for no answer (timeout, connection), ``5xx`` for a server error."""
    if isinstance(error, TimedOut) or str(error).startswith("Unknown error in HTTP"):
        return "network"
    return "5xx" if isinstance(error, NetworkError) else "other"


def seconds(value: Any) -> float:
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)
