"""Three ``hipbot run`` replicas in webhook mode on one PostgreSQL database.

The fake Bot API posts updates to the replicas round-robin (as a load balancer in front of
one webhook URL would), with Telegram-like flood limits that answer real 429s. 300 patients
are scripted through a conversation; midway every one of them also has a reminder come due
and is sent a clinic broadcast (queued with ``hipbot broadcast`` on the command line), and
one replica is SIGKILLed while the replicas are answering, sweeping reminders and handing
the broadcast to the outbox. Afterwards every person is at the right step, every reply,
reminder and broadcast message arrived exactly once, the staff member got one report, and
the fake saw no 429: the replicas share one elected sender, so together they stay under the
rate limit.

The replica killed is one that is not the sender (PostgreSQL says which replica holds the
sender's advisory lock). A message the sender had handed to Telegram but not yet marked sent
when killed may go twice, by design of the outbox (at least once; tests/test_broadcast.py
bounds that and shows another replica taking over the sending); that is not what this test
is about.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.crypto import new_key
from bot.features.clinics.store import ClinicStore
from bot.features.reminders.rules import QuietHours, Rule
from bot.features.reminders.store import ReminderStore
from bot.storage import SqlStorage, open_storage
from tests.fakes.bot_api import FakeBotApi, RateLimits
from tests.fakes.bot_process import REPO, BotProcess
from tests.fakes.postgres import fresh_database

PATIENTS = 300
FIRST_CHAT = 70_000
STAFF = 69_999
CLINIC = "Replica Clinic"
SECRET = "replica_secret"
TIP = "Daily hip tip"  # the title of the reminder each patient gets once
NEWS = "The clinic is closed on Friday."
# (what the patient does, text that only the reply to it contains)
SCRIPT = [
    ("/start", "not a diagnosis"),
    ("Open the menu", "What would you like to do?"),
    ("About hip impingement", "The hip joint"),
    ("Next", "What is hip impingement"),
]
KILL_ROUND = 2  # reminders and the broadcast come due as this round starts


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from fresh_database()


def _act(fake: FakeBotApi, chat: int, action: str) -> None:
    user = fake.user(chat)
    if action.startswith("/"):
        user.send_command(action)
        return
    # on the latest message with that button: a reminder or the broadcast may have come after
    offering = [m for m in fake.messages(chat) if action in m.button_texts]
    user.click(action, message_id=offering[-1].message_id)


def _count(fake: FakeBotApi, chat: int, words: str) -> int:
    return sum(1 for m in fake.messages(chat) if words.casefold() in (m.text or "").casefold())


def _seed(url: str, chats: range) -> None:
    """A clinic with every patient linked, and a daily tip for each, due in many hours."""
    storage = open_storage(url)
    assert isinstance(storage, SqlStorage)
    try:
        clinics = ClinicStore(storage.db)
        clinics.migrate()
        reminders = ReminderStore(storage.db)
        now = time.time()
        clinic = clinics.add_clinic(CLINIC, now)
        clinics.add_staff(clinic.id, str(STAFF), "admin", now)
        later = (int(now // 60) + 12 * 60) % (24 * 60)  # minutes past midnight, 12 h from now
        with storage.db.transaction():
            for chat in chats:
                clinics.link(clinic.id, str(chat), None, now)
                reminders.save_settings(str(chat), now, quiet=QuietHours(0, 0))
                reminders.set_reminder(str(chat), chat, "tip", Rule.daily(later), now)
    finally:
        storage.close()


def _make_reminders_due(storage: SqlStorage) -> None:
    """What the passing of time does to the rows: every reminder is due now."""
    with storage.db.transaction() as db:
        db.execute("UPDATE reminders SET next_due_utc = ?", (time.time() - 1,))


def _broadcast(url: str, key: str, folder: Path) -> None:
    """Staff send the clinic's news to everyone, from the command line."""
    text = folder / "news.txt"
    text.write_text(NEWS, encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": url, "HIPBOT_DATA_KEY": key}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "broadcast", "--clinic", CLINIC, "--text-file", str(text),
         "--report-to", str(STAFF), "--flows", str(REPO / "flows")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"queued for {PATIENTS} recipients" in result.stdout


def _sender(storage: SqlStorage) -> str:
    """The application_name of the replica holding the sender's advisory lock."""
    key = zlib.crc32(b"leader:outbox-sender") & 0x7FFFFFFF
    row = storage.db.one(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
        " AND l.objid::bigint = ?",
        (key,),
    )
    return str(row[0]) if row else ""


def test_three_replicas_one_killed_lose_and_double_nothing(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_key()
    monkeypatch.setenv("HIPBOT_DATA_KEY", key)
    chats = range(FIRST_CHAT, FIRST_CHAT + PATIENTS)
    _seed(postgres_url, chats)
    limits = RateLimits(global_per_second=200, global_burst=200, chat_per_second=3, chat_burst=6)
    with FakeBotApi.in_thread(rate_limits=limits) as fake:
        replicas: dict[str, tuple[BotProcess, str]] = {}
        for index in range(3):
            port = _free_port()
            folder = tmp_path / f"replica{index}"
            folder.mkdir()
            name = f"replica{index}"
            replica = BotProcess(
                fake,
                folder,
                DATABASE_URL=f"{postgres_url}?application_name={name}",
                HIPBOT_DATA_KEY=key,
                HIPBOT_RATE_LIMIT="150",
                HIPBOT_MODE="webhook",
                HIPBOT_WEBHOOK_LISTEN="127.0.0.1",
                HIPBOT_WEBHOOK_PORT=str(port),
                HIPBOT_WEBHOOK_PATH="/tg",
                HIPBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}",
                HIPBOT_WEBHOOK_SECRET=SECRET,
            )
            replicas[name] = (replica, f"http://127.0.0.1:{port}/tg")
        storage = open_storage(postgres_url)
        assert isinstance(storage, SqlStorage)
        try:
            for number, (replica, _) in enumerate(replicas.values(), start=1):
                replica.start()
                fake.wait_for_sync(
                    lambda n=number: len(fake.calls("setWebhook")) >= n, 30, "replicas up"
                )
            fake.use_webhook([url for _, url in replicas.values()], SECRET)
            sender = _sender(storage)
            assert sender in replicas
            victim = next(name for name in replicas if name != sender)
            for round_number, (action, reply) in enumerate(SCRIPT):
                if round_number == KILL_ROUND:
                    _make_reminders_due(storage)
                    _broadcast(postgres_url, key, tmp_path)
                for chat in chats:
                    _act(fake, chat, action)
                if round_number == KILL_ROUND:  # mid-round: answering, sweeping, handing over
                    fake.wait_for_sync(
                        lambda r=reply: sum(_count(fake, c, r) for c in chats) >= PATIENTS // 3,
                        60,
                        "a third of the replies",
                    )
                    replicas[victim][0].kill()
                fake.wait_for_sync(
                    lambda r=reply: all(_count(fake, c, r) >= 1 for c in chats),
                    120,
                    f"every patient's reply to {action!r}",
                )
            fake.wait_for_sync(
                lambda: all(_count(fake, c, NEWS) and _count(fake, c, TIP) for c in chats),
                60,
                "every reminder and broadcast message",
            )
            fake.wait_for_sync(lambda: storage.pending_outbox() == 0, 60, "outbox drained")
            assert _sender(storage) == sender  # the sending never moved: nothing was in flight
            for chat in chats:
                session = storage.load_session(str(chat))
                assert session is not None and session.step == "learn_what", chat
                for _, reply in SCRIPT:
                    assert _count(fake, chat, reply) == 1, (chat, reply)
                assert _count(fake, chat, TIP) == 1, chat
                assert _count(fake, chat, NEWS) == 1, chat
            assert storage.db.all("SELECT DISTINCT sent_count FROM reminders") == [(1,)]
            deliveries = storage.db.all(
                "SELECT state, count(*) FROM clinic_deliveries GROUP BY state"
            )
            assert deliveries == [("sent", PATIENTS)]
            assert storage.db.all("SELECT state FROM clinic_broadcasts") == [("done",)]
            assert _count(fake, STAFF, "Broadcast #1 is done") == 1
            assert fake.rate_limited_count == 0
        finally:
            storage.close()
            for replica, _ in replicas.values():
                replica.stop()
