"""``python -m bench replicas``: updates a second through 1 and 3 ``hipbot run`` replicas
(webhook mode) on PostgreSQL, and through 1 on SQLite.

The driver plays a load balancer in front of one webhook URL: it POSTs Telegram updates
round-robin to the replicas, many chats at once, each chat's updates one after another (a
webhook answer means the update is handled and stored). Replies go to the fake Bot API
server through the replicas' one elected sender. PostgreSQL comes from
``HIPBOT_TEST_POSTGRES_URL`` or a throw-away server started with
``scripts/postgres-test-server``.

- ``ratio_pg_sqlite``: one PostgreSQL replica's rate over the SQLite one's (target >= 0.5);
- ``pg_round_trips_per_turn``: round trips to PostgreSQL per "menu" turn, counted on the
  wire by a proxy (``bench.round_trips``; target <= 3).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from bench import report

REPO = Path(__file__).resolve().parents[1]
CHATS = 200
SCRIPT = ["/start", "/menu", "/learn", "/help", "/menu", "/physio"]
SECRET = "bench_secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _postgres_server() -> str:
    url = os.environ.get("HIPBOT_TEST_POSTGRES_URL")
    if url:
        return url
    output = subprocess.run(
        [str(REPO / "scripts/postgres-test-server")], capture_output=True, text=True, check=True
    ).stdout
    for line in output.splitlines():
        if line.startswith("export HIPBOT_TEST_POSTGRES_URL="):
            return line.split("=", 1)[1]
    raise RuntimeError("could not start PostgreSQL: " + output)


def _new_database(server: str) -> str:
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.rsplit("/", 1)[0] + f"/{name}"


def _update(update_id: int, chat: int, text: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": chat, "type": "private", "first_name": "Pat"},
        "from": {"id": chat, "is_bot": False, "first_name": "Pat"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


async def _drive(urls: list[str]) -> tuple[float, int]:
    """Every chat plays the script; returns (seconds, updates)."""
    counter = iter(range(1, 10**9))
    turn = iter(range(10**9))
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    async def chat(session: aiohttp.ClientSession, chat_id: int) -> None:
        for text in SCRIPT:
            url = urls[next(turn) % len(urls)]
            for _ in range(50):  # a replica answering 5xx gets the update again, like Telegram
                async with session.post(
                    url, json=_update(next(counter), chat_id, text), headers=headers
                ) as r:
                    if r.status == 200:
                        break
                await asyncio.sleep(0.05)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:
        start = time.perf_counter()
        await asyncio.gather(*(chat(session, 80_000 + c) for c in range(CHATS)))
        return time.perf_counter() - start, CHATS * len(SCRIPT)


def _measure(database_url: str, replicas: int, extra_env: dict[str, str]) -> float:
    sys.path.insert(0, str(REPO))
    from tests.fakes.bot_api import FakeBotApi
    from tests.fakes.bot_process import BotProcess

    with FakeBotApi.in_thread() as fake, tempfile.TemporaryDirectory() as folder:
        processes, urls = [], []
        for index in range(replicas):
            port = _free_port()
            data = Path(folder) / f"r{index}"
            data.mkdir()
            processes.append(
                BotProcess(
                    fake,
                    data,
                    DATABASE_URL=database_url,
                    HIPBOT_MODE="webhook",
                    HIPBOT_WEBHOOK_LISTEN="127.0.0.1",
                    HIPBOT_WEBHOOK_PORT=str(port),
                    HIPBOT_WEBHOOK_PATH="/tg",
                    HIPBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}",
                    HIPBOT_WEBHOOK_SECRET=SECRET,
                    HIPBOT_LOG_FORMAT="json",
                    **extra_env,
                )
            )
            urls.append(f"http://127.0.0.1:{port}/tg")
        try:
            for number, process in enumerate(processes, start=1):
                process.start()
                fake.wait_for_sync(
                    lambda n=number: len(fake.calls("setWebhook")) >= n, 60, "replica up"
                )
            fake.disable_webhook()  # the driver posts the updates itself
            seconds, updates = asyncio.run(_drive(urls))
        finally:
            for process in processes:
                process.stop()
    return updates / seconds


def run(json: bool = False) -> int:
    from bot.crypto import new_key

    key = new_key()
    env = {"HIPBOT_DATA_KEY": key, "HIPBOT_RATE_LIMIT": "1000"}
    with tempfile.TemporaryDirectory() as folder:
        sqlite = _measure(f"sqlite:///{folder}/bench.db", 1, env)
    server = _postgres_server()
    one = _measure(_new_database(server), 1, env)
    three = _measure(_new_database(server), 3, env)
    os.environ.setdefault("HIPBOT_DATA_KEY", key)
    from bench.round_trips import measure as round_trips

    trips = round_trips(_new_database(server))
    result = {
        "updates_per_s_sqlite": round(sqlite, 1),
        "updates_per_s_1": round(one, 1),
        "updates_per_s_3": round(three, 1),
        "ratio_pg_sqlite": round(one / sqlite, 3),
        "pg_round_trips_per_turn": round(trips, 2),
        "chats": CHATS,
        "updates": CHATS * len(SCRIPT),
    }
    rows = [
        ("updates_per_s_sqlite", f"{sqlite:.1f}", "1 replica, SQLite file"),
        ("updates_per_s_1", f"{one:.1f}", "1 replica, PostgreSQL"),
        ("updates_per_s_3", f"{three:.1f}", "3 replicas, PostgreSQL, round-robin"),
        ("ratio_pg_sqlite", f"{one / sqlite:.2f}", "1 PostgreSQL replica / SQLite (>= 0.5)"),
        ("pg_round_trips_per_turn", f"{trips:.2f}", "on the wire, per 'menu' turn (<= 3)"),
        ("updates", str(CHATS * len(SCRIPT)), f"{CHATS} chats x {len(SCRIPT)} commands"),
    ]
    report("hipbot replicas: webhook updates handled and stored per second", rows, result, json)
    return 0
