"""`hipbot chat`: /stop and /start work in the terminal as they do on Telegram."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.console import console_chat_id
from bot.storage import SqlStorage

REPO = Path(__file__).resolve().parents[1]


def _chat(db: Path, typed: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--db", f"sqlite:///{db}", "--user", "pat"],
        input=typed,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_stop_pauses_proactive_messages_and_start_allows_them(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    out = _chat(db, "/stop\n")
    assert "I will not send you any messages on my own" in out
    user = str(console_chat_id("pat"))
    storage = SqlStorage(str(db))
    assert storage.get_flag(user, "stopped")
    storage.close()
    out = _chat(db, "/start\n")
    assert "not a diagnosis" in out
    storage = SqlStorage(str(db))
    assert not storage.get_flag(user, "stopped")
    storage.close()
