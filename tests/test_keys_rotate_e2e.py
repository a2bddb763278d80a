"""`hipbot keys rotate` beside a running `hipbot run` (fault 4 of issue 11).

A running bot keeps sealing with the key it loaded at start; a rotation that drops that key
made everything the bot wrote afterwards unreadable for good. Rotation now refuses while a
bot's heartbeat row is fresh, naming the process, and works once the bot has stopped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot import crypto
from bot.features import load_features
from bot.storage import SqlStorage
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.bot_process import BotProcess

CHAT = 4_200_001
TIMEOUT = 20.0


def rotate(db_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HIPBOT_", "TELEGRAM_")) and k != "DATABASE_URL"
    }
    env["DATABASE_URL"] = f"sqlite:///{db_path}"
    return subprocess.run(
        [sys.executable, "-m", "bot", "keys", "rotate", *extra],
        cwd=db_path.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_rotate_refuses_while_the_bot_runs_and_no_data_is_lost(
    fake: FakeBotApi, bot: BotProcess
) -> None:
    user = fake.user(CHAT)
    user.send_command("/start")
    fake.wait_for_message_sync(CHAT, "I am not a doctor", timeout=TIMEOUT)
    key_before = crypto.key_file_codec(bot.db_path.with_name("hipbot.db.key")).keys

    refused = rotate(bot.db_path)

    user.click("Open the menu")  # the bot seals this turn with the key it started with
    fake.wait_for_message_sync(CHAT, "What would you like to do?", timeout=TIMEOUT)
    assert bot.stop() == 0, bot.logs()
    storage = SqlStorage(str(bot.db_path))  # the key file as it is now
    try:
        load_features().setup(storage)
        session = storage.load_session(str(CHAT))  # before the fix: DataKeyError, data lost
        crypto.check_all_readable(storage.db, storage.codec)
    finally:
        storage.close()
    assert session is not None and session.step == "menu"

    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "cannot rotate the data key while a bot uses this database" in refused.stderr
    assert f"pid {bot.process.pid if bot.process else '?'}" in refused.stderr
    assert "'hipbot run'" in refused.stderr and "--force" in refused.stderr
    assert crypto.key_file_codec(bot.db_path.with_name("hipbot.db.key")).keys == key_before

    done = rotate(bot.db_path)  # the stopped bot took its row away: no waiting, no --force
    assert done.returncode == 0, done.stderr
    assert "new key in" in done.stdout
    assert crypto.key_file_codec(bot.db_path.with_name("hipbot.db.key")).keys != key_before


def test_rotate_refuses_while_the_bot_is_still_reaching_telegram(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    """The bot has loaded its key but cannot reach the Bot API yet (it retries with backoff):
    a rotation now would strand everything it seals once it is through."""
    import socket
    import sqlite3
    import time
    from contextlib import closing

    from bot.features import heartbeat

    with socket.socket() as probe:  # a port where nothing answers
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    unreachable = BotProcess(fake, tmp_path, TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{closed}/bot")

    def beating() -> bool:
        if not unreachable.db_path.exists():
            return False
        with closing(sqlite3.connect(unreachable.db_path, timeout=30)) as conn:
            try:
                return bool(conn.execute(f"SELECT count(*) FROM {heartbeat.TABLE}").fetchone()[0])
            except sqlite3.OperationalError:  # not made yet
                return False

    with unreachable:
        deadline = time.monotonic() + TIMEOUT
        while not beating():
            assert time.monotonic() < deadline, unreachable.logs()
            time.sleep(0.2)
        assert not fake.commands  # it has not reached Telegram
        refused = rotate(unreachable.db_path)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "cannot rotate the data key while a bot uses this database" in refused.stderr


def test_rotate_shows_plain_progress_and_force_skips_a_stale_row(tmp_path: Path) -> None:
    from bot.features import heartbeat

    storage = SqlStorage(str(tmp_path / "hipbot.db"))
    load_features().setup(storage)
    storage.commit_outbox([(1, "sendMessage", {"chat_id": 1, "text": "hi"})], 5.0)
    storage.db.execute(
        "INSERT INTO bot_processes (id, host, pid, command, started_at, seen_at)"
        " VALUES ('elsewhere:1', 'another-host', 1, 'hipbot run', 1.0, 9e18)"
    )
    assert heartbeat.holders(storage.db, 10.0)
    storage.close()
    assert rotate(tmp_path / "hipbot.db").returncode == 2
    forced = rotate(tmp_path / "hipbot.db", "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stderr.splitlines()[-1].startswith("sealing again: 1/1 done in ")
