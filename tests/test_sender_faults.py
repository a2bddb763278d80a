"""The outbox sender under faults (issue 11, faults 1 and 5).

* A database error (another connection holding the SQLite write lock longer than the busy
  timeout) does not kill the sender: it is logged, counted, and the loop goes on with
  backoff; a wait for the lock never blocks the event loop; while due messages cannot be
  claimed the health check says so.
* After 60 s or 180 s of ``sendMessage`` 500s, each chat's replies arrive in the order they
  were written, and the backlog drains promptly once Telegram answers again.

The real ``OutboxSender`` sends through python-telegram-bot to the fake Bot API; the clock
(and with it every backoff) is injected, so nothing waits for minutes.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from telegram import Bot

from bot import outgoing
from bot.metrics import Metrics
from bot.storage import SqlStorage
from bot.telegram.app import health_check, supervise
from bot.telegram.request import AiohttpRequest
from bot.telegram.sender import MAX_BACKOFF, OutboxSender
from tests.fakes.bot_api import DEFAULT_TOKEN, FakeBotApi

# the sender sends raw Bot API calls on purpose (bot/sender.py silences this in the bot)
pytestmark = pytest.mark.filterwarnings("ignore:Please use 'Bot.:UserWarning")
FAST = 10_000.0  # a rate whose limiter never makes a test wait
CHAT_A, CHAT_B = 501, 502
PROMPT = 60.0  # simulated seconds the backlog may take to drain once Telegram is back
WAIT = 30.0  # seconds a test waits for something that happens at once when all is well


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def telegram() -> AsyncIterator[tuple[FakeBotApi, Bot]]:
    async with FakeBotApi() as fake:
        bot = Bot(DEFAULT_TOKEN, base_url=fake.base_url, request=AiohttpRequest(connections=8))
        async with bot:
            for chat in (CHAT_A, CHAT_B):
                fake.user(chat)
            yield fake, bot


def reply(chat: int, text: str) -> tuple[int, str, dict[str, object]]:
    return (chat, "sendMessage", {"chat_id": chat, "text": text})


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait (on the event loop) until ``condition()``, at most ``WAIT`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not condition():
        assert loop.time() < deadline, f"still waiting for {what}"
        await asyncio.sleep(0.01)


# ------------------------------------------------------------------ fault 5: order


@pytest.mark.parametrize("outage", [60, 180])
async def test_replies_keep_their_order_through_an_outage_and_drain_on_recovery(
    tmp_path: Path, outage: int
) -> None:
    storage = SqlStorage(str(tmp_path / "bot.db"))
    clock = Clock()
    start = clock.now
    written: dict[int, list[str]] = {CHAT_A: [], CHAT_B: []}
    async with telegram() as (fake, bot):
        sender = OutboxSender(storage, bot, FAST, clock=clock)
        fake.fail_next("sendMessage", 500, times=10**6)
        second = 0
        while storage.pending_outbox() or second <= outage:
            if second == outage:
                fake.clear_faults()  # Telegram answers again
            if second % 7 == 0 and second <= outage:  # people keep writing meanwhile
                for chat in (CHAT_A, CHAT_B):
                    written[chat].append(f"reply {len(written[chat]) + 1} at {second} s")
                    storage.commit_outbox([reply(chat, written[chat][-1])], clock.now)
            while await sender.send_due():
                pass
            clock.now += 1.0
            second += 1
            assert second < outage + 1000, "the backlog never drained"
        drained = clock.now - start - outage
    storage.close()
    for chat in (CHAT_A, CHAT_B):
        assert fake.texts(chat) == written[chat], f"chat {chat} got its replies out of order"
    assert drained <= PROMPT, f"the backlog took {drained} s to drain after the outage"


async def test_a_reply_written_after_a_failed_one_waits_for_it(tmp_path: Path) -> None:
    storage = SqlStorage(str(tmp_path / "bot.db"))
    clock = Clock()
    async with telegram() as (fake, bot):
        sender = OutboxSender(storage, bot, FAST, clock=clock)
        storage.commit_outbox([reply(CHAT_A, "first")], clock.now)
        fake.fail_next("sendMessage", 502, chat_id=CHAT_A)
        assert await sender.send_due()  # fails; waits 1 s
        storage.commit_outbox([reply(CHAT_A, "second"), reply(CHAT_B, "other chat")], clock.now)
        await sender.send_due()
        assert fake.texts(CHAT_A) == []  # "second" may not overtake "first"
        assert fake.texts(CHAT_B) == ["other chat"]  # other chats are not held up
        clock.now += MAX_BACKOFF
        while await sender.send_due():
            pass
        assert fake.texts(CHAT_A) == ["first", "second"]
    storage.close()


async def test_a_file_that_cannot_be_made_is_parked_and_the_chat_goes_on(
    tmp_path: Path,
) -> None:
    """A chart or summary is made when sent: if making it fails (odd stored data, a key
    that no longer opens it), the row is parked and logged, never retried for ever in front
    of the person's later messages."""

    def broken(data: bytes) -> bytes:
        raise RuntimeError("cannot draw this")

    outgoing.register_maker("broken-for-test", broken)
    storage = SqlStorage(str(tmp_path / "bot.db"))
    clock = Clock()
    async with telegram() as (fake, bot):
        sender = OutboxSender(storage, bot, FAST, clock=clock)
        made = outgoing.document(
            CHAT_A, "summary.pdf", b"{}", "Your summary", made="broken-for-test"
        )
        storage.commit_outbox([made, reply(CHAT_A, "after the file")], clock.now)
        while await sender.send_due():
            pass
        assert fake.texts(CHAT_A) == ["after the file"]
    states = storage.db.all("SELECT state, error FROM outbox ORDER BY id")
    assert [state for state, _ in states] == ["parked", "sent"]
    assert "cannot draw this" in states[0][1]
    storage.close()


# ------------------------------------------------------------------ fault 1: database errors


class WriteLock:
    """Another connection (a backup tool, a CLI command) holding the SQLite write lock."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def __enter__(self) -> WriteLock:
        self.connection.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc: object) -> None:
        self.connection.execute("COMMIT")
        self.connection.close()


async def test_sender_survives_a_held_write_lock_and_health_tells(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    storage = SqlStorage(str(path))
    storage.db.execute("PRAGMA busy_timeout = 20")  # give up on the lock quickly
    clock = Clock()
    metrics = Metrics()
    async with telegram() as (fake, bot):
        sender = OutboxSender(
            storage, bot, FAST, clock=clock, metrics=metrics, error_backoff=(0.01, 0.05)
        )
        storage.commit_outbox([reply(CHAT_A, "queued before the lock")], clock.now)
        sender.notify()
        with WriteLock(path):
            task = asyncio.create_task(sender.run(idle_poll=0.05))
            health = health_check(sender, task, stall=120)
            await until(lambda: sender.errors >= 3 or task.done(), "three database errors")
            assert not task.done(), f"the sender died: {task.exception()!r}"
            assert metrics.task_errors.labels(task="sender")._value.get() == sender.errors
            assert health() is None  # not long enough to call it stuck
            clock.now += 121
            reason = health()
            assert reason is not None and "due" in reason
        await until(lambda: fake.texts(CHAT_A) == ["queued before the lock"], "the message")
        await until(lambda: health() is None, "healthy again")
        sender.stop()
        await asyncio.wait_for(task, WAIT)
    storage.close()


async def test_a_send_is_recorded_once_the_lock_is_free_and_not_sent_twice(
    tmp_path: Path,
) -> None:
    """The lock is taken while Telegram is answering: the sender cannot mark the row sent.
    It must record it when the database is free again, not send it a second time when the
    claim expires."""
    path = tmp_path / "bot.db"
    storage = SqlStorage(str(path))
    storage.db.execute("PRAGMA busy_timeout = 20")
    clock = Clock()
    async with telegram() as (fake, bot):
        sender = OutboxSender(storage, bot, FAST, clock=clock, error_backoff=(0.01, 0.05))
        storage.commit_outbox([reply(CHAT_A, "once"), reply(CHAT_A, "then this")], clock.now)
        fake.delay_next("sendMessage", 0.5)  # answered after the lock is taken
        task = asyncio.create_task(sender.run(idle_poll=0.05))
        await until(lambda: bool(fake.calls("sendMessage")), "the send")
        with WriteLock(path):
            await until(lambda: sender.errors >= 3, "failed attempts to record the send")
        await until(lambda: fake.texts(CHAT_A) == ["once", "then this"], "both messages")
        clock.now += 3600  # every claim long expired
        sender.notify()
        await until(lambda: storage.pending_outbox() == 0, "nothing left to send")
        await sender.send_due()
        sender.stop()
        await asyncio.wait_for(task, WAIT)
    storage.close()
    assert fake.texts(CHAT_A) == ["once", "then this"]


async def test_a_long_wait_for_the_write_lock_does_not_block_the_event_loop(
    tmp_path: Path,
) -> None:
    """The lock holder lets go only when the event loop tells it to (or after ``WAIT`` s):
    if the sender's wait for the lock froze the loop, only the timeout would free it."""
    path = tmp_path / "bot.db"
    storage = SqlStorage(str(path))
    storage.db.execute("PRAGMA busy_timeout = 120000")  # the sender waits up to two minutes
    clock = Clock()
    loop_ran = threading.Event()
    released_by_loop: list[bool] = []

    def holder(locked: threading.Event) -> None:
        with WriteLock(path):
            locked.set()
            released_by_loop.append(loop_ran.wait(WAIT))

    async with telegram() as (fake, bot):
        sender = OutboxSender(storage, bot, FAST, clock=clock)
        storage.commit_outbox([reply(CHAT_A, "hello")], clock.now)
        locked = threading.Event()
        holding = asyncio.create_task(asyncio.to_thread(holder, locked))
        await asyncio.to_thread(locked.wait, WAIT)
        task = asyncio.create_task(sender.run(idle_poll=0.05))
        for _ in range(5):  # the sender is waiting for the lock by now
            await asyncio.sleep(0.05)
        loop_ran.set()
        await holding
        await until(lambda: fake.texts(CHAT_A) == ["hello"], "the message")
        sender.stop()
        await asyncio.wait_for(task, WAIT)
    storage.close()
    assert released_by_loop == [True], "the event loop was blocked while the sender waited"


# ------------------------------------------------------------------ supervision


async def test_supervise_restarts_a_failing_task_logs_and_counts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = Metrics()
    runs: list[int] = []

    async def flaky() -> None:
        runs.append(1)
        if len(runs) <= 2:
            raise sqlite3.OperationalError("database is locked")
        if len(runs) == 4:
            stop.set()

    stop = asyncio.Event()

    with caplog.at_level(logging.ERROR, logger="hipbot.telegram"):
        await asyncio.wait_for(supervise("jobs", flaky, stop, metrics, pause=(0.001, 0.01)), WAIT)
    assert len(runs) == 4  # failed twice, ran twice more (returning early restarts it too)
    assert metrics.task_errors.labels(task="jobs")._value.get() == 3
    failures = [r for r in caplog.records if getattr(r, "event", "") == "task_error"]
    assert len(failures) == 3
    assert all(r.exc_info for r in failures[:2]), "the traceback must be logged"


async def test_supervise_stops_at_once_when_told_during_a_pause() -> None:
    stop = asyncio.Event()

    async def failing() -> None:
        asyncio.get_running_loop().call_soon(stop.set)
        raise RuntimeError("boom")

    # a pause of an hour: only stop can end it
    await asyncio.wait_for(supervise("poller", failing, stop, Metrics(), pause=(3600, 3600)), WAIT)


async def test_supervise_lets_a_fatal_error_through() -> None:
    class Fatal(Exception):
        pass

    async def refused() -> None:
        raise Fatal

    run: Callable[[], Awaitable[None]] = refused
    with pytest.raises(Fatal):
        await supervise("poller", run, asyncio.Event(), Metrics(), fatal=(Fatal,))
