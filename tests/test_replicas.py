"""Three ``hipbot run`` replicas in webhook mode on one PostgreSQL database.

The fake Bot API posts updates to the replicas round-robin (as a load balancer in front of
one webhook URL would), with Telegram-like flood limits that answer real 429s. Patients
are scripted; one replica is SIGKILLed midway. Afterwards every person is at the right
step, every reply arrived exactly once, and the fake saw no 429: the replicas share one
elected sender, so together they stay under the rate limit.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.crypto import new_key
from bot.storage import SqliteStorage, open_storage
from tests.fakes.bot_api import FakeBotApi, RateLimits
from tests.fakes.bot_process import BotProcess
from tests.fakes.postgres import fresh_database

PATIENTS = 300
FIRST_CHAT = 70_000
SECRET = "replica_secret"
# (what the patient does, text that only the reply to it contains)
SCRIPT = [
    ("/start", "not a diagnosis"),
    ("Open the menu", "What would you like to do?"),
    ("Learn about hip impingement", "The hip joint"),
    ("Next", "What is hip impingement"),
]


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
    else:
        user.click(action)


def _count(fake: FakeBotApi, chat: int, words: str) -> int:
    return sum(1 for m in fake.messages(chat) if words.casefold() in (m.text or "").casefold())


def test_three_replicas_one_killed_lose_and_double_nothing(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_key()
    monkeypatch.setenv("HIPBOT_DATA_KEY", key)
    limits = RateLimits(global_per_second=200, global_burst=200, chat_per_second=3, chat_burst=6)
    with FakeBotApi.in_thread(rate_limits=limits) as fake:
        replicas = []
        for index in range(3):
            port = _free_port()
            folder = tmp_path / f"replica{index}"
            folder.mkdir()
            replica = BotProcess(
                fake,
                folder,
                DATABASE_URL=postgres_url,
                HIPBOT_DATA_KEY=key,
                HIPBOT_RATE_LIMIT="150",
                HIPBOT_MODE="webhook",
                HIPBOT_WEBHOOK_LISTEN="127.0.0.1",
                HIPBOT_WEBHOOK_PORT=str(port),
                HIPBOT_WEBHOOK_PATH="/tg",
                HIPBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}",
                HIPBOT_WEBHOOK_SECRET=SECRET,
            )
            replicas.append((replica, f"http://127.0.0.1:{port}/tg"))
        try:
            for number, (replica, _) in enumerate(replicas, start=1):
                replica.start()
                fake.wait_for_sync(
                    lambda n=number: len(fake.calls("setWebhook")) >= n, 30, "replicas up"
                )
            fake.use_webhook([url for _, url in replicas], SECRET)
            chats = range(FIRST_CHAT, FIRST_CHAT + PATIENTS)
            for round_number, (action, reply) in enumerate(SCRIPT):
                if round_number == 2:
                    replicas[0][0].kill()  # mid-conversation, with work in flight
                for chat in chats:
                    _act(fake, chat, action)
                fake.wait_for_sync(
                    lambda r=reply: all(_count(fake, c, r) >= 1 for c in chats),
                    120,
                    f"every patient's reply to {action!r}",
                )
            storage = open_storage(postgres_url)
            assert isinstance(storage, SqliteStorage)
            fake.wait_for_sync(lambda: storage.pending_outbox() == 0, 60, "outbox drained")
            for chat in chats:
                session = storage.load_session(str(chat))
                assert session is not None and session.step == "learn_what", chat
                for _, reply in SCRIPT:
                    assert _count(fake, chat, reply) == 1, (chat, reply)
            storage.close()
            assert fake.rate_limited_count == 0
        finally:
            for replica, _ in replicas:
                replica.stop()
