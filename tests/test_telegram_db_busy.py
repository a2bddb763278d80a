"""A turn the database cannot take is not lost (review of issue 11, after fault 1).

Another process (a backup tool, a CLI command) holds SQLite's write lock longer than the
bot's busy timeout (30 s) while a person writes. The turn fails with "database is locked";
the bot must not confirm that update to Telegram as if it were handled: it comes again once
the lock is gone, and the person gets their answer, once.
"""

from __future__ import annotations

import sqlite3
import time

from tests.fakes.bot_api import FakeBotApi
from tests.fakes.bot_process import BotProcess

CHAT = 4_300_017
TIMEOUT = 20.0
HELD = 34.0  # longer than the bot's busy timeout


def test_a_message_sent_while_the_database_is_locked_is_answered_after(
    fake: FakeBotApi, bot: BotProcess
) -> None:
    user = fake.user(CHAT)
    user.send_command("/start")
    fake.wait_for_message_sync(CHAT, "I am not a doctor", timeout=TIMEOUT)
    locker = sqlite3.connect(bot.db_path, timeout=30, isolation_level=None)
    try:
        locker.execute("BEGIN IMMEDIATE")  # the write lock, as a long backup would hold it
        user.send_text("menu")
        time.sleep(HELD)
        assert not [
            m for m in fake.messages(CHAT) if "What would you like to do?" in (m.text or "")
        ]
        locker.execute("COMMIT")
    finally:
        locker.close()
    fake.wait_for_message_sync(CHAT, "What would you like to do?", timeout=60)
    time.sleep(3)  # room for a wrong repeat to show up
    menus = [m for m in fake.messages(CHAT) if "What would you like to do?" in (m.text or "")]
    assert len(menus) == 1
    assert not [m for m in fake.messages(CHAT) if "try again" in (m.text or "").casefold()]
