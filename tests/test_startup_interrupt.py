"""Ctrl-C while ``hipbot run`` is still waiting for the Bot API closes cleanly."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.fakes.bot_api import FakeBotApi
from tests.fakes.bot_process import BotProcess

PATIENCE = 60.0  # seconds to wait for the process to get somewhere (not a measured timing)


def wait_for_log(process: BotProcess, words: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while words not in process.logs():
        assert process.process is not None and process.process.poll() is None, process.logs()
        assert time.monotonic() < deadline, f"no {words!r} in the log:\n{process.logs()}"
        time.sleep(0.1)


def test_ctrl_c_during_the_start_up_retry_closes_cleanly(fake: FakeBotApi, tmp_path: Path) -> None:
    fake.fail_next("getMe", 502, times=10_000)  # Telegram unreachable for the whole test
    process = BotProcess(fake, tmp_path, HIPBOT_LOG_FORMAT="text").start()
    try:
        wait_for_log(process, "event=start_retry")
        assert process.process is not None
        process.process.send_signal(signal.SIGINT)
        code = process.process.wait(PATIENCE)
    finally:
        process.stop()
    logs = process.logs()
    assert code == 0, logs
    assert "Unclosed" not in logs and "Traceback" not in logs and "ERROR" not in logs
    assert not fake.calls("getUpdates")  # it never started


def test_a_refused_token_at_start_stops_with_a_sentence_and_closes_cleanly(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    process = BotProcess(
        fake, tmp_path, HIPBOT_LOG_FORMAT="text", TELEGRAM_BOT_TOKEN="42:RefusedByTheFake"
    ).start()
    assert process.process is not None
    code = process.process.wait(PATIENCE)
    logs = process.logs()
    assert code == 2, logs
    assert "Telegram refused TELEGRAM_BOT_TOKEN" in logs
    assert "Unclosed" not in logs and "Traceback" not in logs
