"""The real ``hipbot run`` as a subprocess, pointed at a FakeBotApi, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.fakes.bot_api import DEFAULT_TOKEN, FakeBotApi

REPO = Path(__file__).resolve().parents[2]


class BotProcess:
    def __init__(self, fake: FakeBotApi, data_dir: Path, **env: str) -> None:
        self.fake = fake
        self.data_dir = data_dir
        self.db_path = data_dir / "hipbot.db"
        self.env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_URL": f"sqlite:///{self.db_path}",
            "HIPBOT_FLOWS": str(REPO / "flows"),
            "HIPBOT_RATE_LIMIT": "1000",
            "HIPBOT_LOG_FORMAT": "json",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> BotProcess:
        self.starts += 1
        with open(self.data_dir / f"bot-{self.starts}.log", "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], env=self.env, cwd=REPO, stderr=log, stdout=log
            )
        return self

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as in a crash or a pulled plug."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> int:
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(self.data_dir.glob("bot-*.log"))
        )

    def __enter__(self) -> BotProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
