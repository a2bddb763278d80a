"""Clinics end to end: the real ``hipbot run`` and ``hipbot`` CLI against the fake Bot API,
whose flood limits answer real 429s.

A clinic is created on the command line, a patient joins by its link (and one by a personal
link), staff broadcast from Telegram (the /broadcast wizard) and from the command line, and
the report arrives. With the bot set to send faster than the fake allows, 429s come back,
everyone still gets the broadcast exactly once, and a patient chatting meanwhile gets their
replies before the broadcast is through.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from bot.features import load_features
from bot.features.clinics.store import ClinicStore
from bot.features.reminders.rules import QuietHours
from bot.features.reminders.store import ReminderStore
from bot.storage import SqlStorage
from tests.fakes.bot_api import FakeBotApi, RateLimits, SentMessage
from tests.fakes.bot_process import REPO, BotProcess

TIMEOUT = 30.0
STAFF = 5_550_001
PATIENT, PERSONAL, CHATTY, STRANGER = 5_550_101, 5_550_102, 5_550_103, 5_550_104
BOT_NAME = "hipbot_test_bot"


def cli(bot: BotProcess, *args: str) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{bot.db_path}",
        "HIPBOT_FLOWS": str(REPO / "flows"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=bot.data_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"hipbot {' '.join(args)}: {result.stderr}"
    return result.stdout


def message_with(fake: FakeBotApi, chat: int, words: str, button: str | None = None) -> SentMessage:
    def find() -> SentMessage | None:
        for message in reversed(fake.messages(chat)):
            if words.casefold() in (message.text or "").casefold() and (
                button is None or button in message.button_texts
            ):
                return message
        return None

    return fake.wait_for_sync(find, TIMEOUT, f"a message to {chat} with {words!r}")


def link_patients(bot: BotProcess, clinic_id: int, users: range) -> None:
    """Patients who joined earlier (seeded straight into the bot's database)."""
    storage = SqlStorage(str(bot.db_path))
    try:
        store = ClinicStore(storage.db)
        for user in users:
            store.link(clinic_id, str(user), None, 1.0e9)
    finally:
        storage.close()
    awake(bot, users)


def awake(bot: BotProcess, users: Iterable[int]) -> None:
    """No quiet hours for these people, so "send now" reaches them whatever the time of day
    the test runs (quiet hours themselves are tested in test_broadcast.py)."""
    storage = SqlStorage(str(bot.db_path))
    try:
        load_features().setup(storage)
        people = ReminderStore(storage.db)
        for user in users:
            people.save_settings(str(user), time.time(), quiet=QuietHours(0, 0))
    finally:
        storage.close()


def broadcast_texts(fake: FakeBotApi, chat: int, words: str) -> int:
    return sum(words in (m.text or "") for m in fake.messages(chat))


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi.in_thread(rate_limits=RateLimits(global_per_second=30, global_burst=30)) as api:
        yield api


def start_bot(fake: FakeBotApi, tmp_path: Path, rate: str) -> BotProcess:
    bot = BotProcess(fake, tmp_path, HIPBOT_RATE_LIMIT=rate).start()
    fake.wait_for_sync(lambda: fake.commands, TIMEOUT, "setMyCommands at start")
    return bot


def test_a_clinic_a_patient_joining_and_broadcasts_from_telegram_and_the_cli(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    bot = start_bot(fake, tmp_path, "30")
    try:
        created = cli(bot, "clinic", "add", "Hip Clinic Nord")
        clinic_id = int(re.search(r"clinic (\d+):", created).group(1))  # type: ignore[union-attr]
        link = cli(bot, "clinic", "link", str(clinic_id), "--bot", BOT_NAME, "--out", "qr.png")
        code = re.search(rf"https://t\.me/{BOT_NAME}\?start=(c_\w+)", link).group(1)  # type: ignore[union-attr]
        assert (tmp_path / "qr.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        cli(bot, "staff", "add", str(clinic_id), str(STAFF), "--role", "admin")
        assert f"{STAFF}\tadmin" in cli(bot, "staff", "list", str(clinic_id))

        # a patient opens the waiting-room link and joins
        patient = fake.user(PATIENT)
        patient.send_command("/start", code)
        message_with(fake, PATIENT, "Do you want messages from Hip Clinic Nord?")
        patient.click("Yes, send me messages")
        message_with(fake, PATIENT, "You will get messages from Hip Clinic Nord")
        # another one through a personal link carrying the clinic's own reference
        personal = cli(
            bot, "clinic", "link", str(clinic_id), "--patient", "P-1042", "--bot", BOT_NAME
        )
        personal_code = re.search(r"start=(p_\w+)", personal).group(1)  # type: ignore[union-attr]
        fake.user(PERSONAL).send_command("/start", personal_code)
        message_with(fake, PERSONAL, "Do you want messages", button="Yes, send me messages")
        fake.user(PERSONAL).click("Yes, send me messages")
        message_with(fake, PERSONAL, "You will get messages")
        link_patients(bot, clinic_id, range(5_551_000, 5_551_004))
        storage = SqlStorage(str(bot.db_path))
        refs = {
            link.user_id: link.patient_ref for link in ClinicStore(storage.db).patients(clinic_id)
        }
        storage.close()
        assert refs[str(PERSONAL)] == "P-1042" and refs[str(PATIENT)] is None

        # staff-only commands are unknown commands for a patient
        patient.send_command("/broadcast")
        message_with(fake, PATIENT, "I don't know that command")

        # staff broadcast in Telegram: text, audience, preview and count, now, confirm
        staff = fake.user(STAFF)
        staff.send_command("/broadcast")
        message_with(fake, STAFF, "Send me the message")
        staff.send_text("<b>Closed</b> on Friday. See you next week!")
        message_with(fake, STAFF, "Who should get it?")
        staff.click("All patients")
        preview = message_with(fake, STAFF, "Closed on Friday", button="Stop these messages")
        awake(bot, [PATIENT, PERSONAL])
        message_with(fake, STAFF, "It goes to 6 patients", button="Send now")
        staff.click("Send now")
        message_with(
            fake, STAFF, "Send it to 6 patients (All patients) now?", button="Yes, send it"
        )
        staff.click("Yes, send it")
        message_with(fake, STAFF, "goes out now to 6 patients")
        for chat in (PATIENT, PERSONAL, *range(5_551_000, 5_551_004)):
            got = message_with(fake, chat, "Closed on Friday")
            assert got.raw_text == preview.raw_text  # exactly the preview
        report = message_with(fake, STAFF, "Broadcast #1 is done")
        assert "Sent: 6" in (report.text or "")

        # the same from the command line, to a named audience, with the report
        text_file = tmp_path / "news.txt"
        text_file.write_text("New <i>exercise</i> videos are online.", encoding="utf-8")
        dry = cli(bot, "broadcast", "--clinic", "Hip Clinic Nord", "--audience", "three_months_in",
                  "--text-file", str(text_file), "--dry-run")  # fmt: skip
        assert "dry run: 4 recipients" in dry  # the seeded patients joined long ago
        queued = cli(bot, "broadcast", "--clinic", str(clinic_id), "--audience", "three_months_in",
                     "--text-file", str(text_file), "--report-to", str(STAFF))  # fmt: skip
        assert "broadcast #2 queued for 4 recipients" in queued
        for chat in range(5_551_000, 5_551_004):
            message_with(fake, chat, "New exercise videos")
        message_with(fake, STAFF, "Broadcast #2 is done")
        assert broadcast_texts(fake, PATIENT, "New exercise videos") == 0  # not in that audience
        status = cli(bot, "broadcast", "status", "2")
        assert "broadcast #2: done" in status and "sent 4," in status

        # /broadcasts shows both; /leave stops them
        staff.send_command("/broadcasts")
        message_with(fake, STAFF, "#2 done, three_months_in")
        patient.send_command("/leave")
        message_with(fake, PATIENT, "will not get messages from Hip Clinic Nord any more")
    finally:
        bot.stop()


def test_429s_are_waited_out_and_a_chatting_patient_is_not_stuck_behind_a_broadcast(
    tmp_path: Path,
) -> None:
    limits = RateLimits(global_per_second=20, global_burst=20)
    with FakeBotApi.in_thread(rate_limits=limits) as fake:
        bot = start_bot(fake, tmp_path, "40")  # twice what the fake allows: real 429s
        try:
            cli(bot, "clinic", "add", "Busy Clinic")
            cli(bot, "staff", "add", "1", str(STAFF), "--role", "editor")
            recipients = range(5_560_000, 5_560_150)
            link_patients(bot, 1, recipients)
            text_file = tmp_path / "news.txt"
            text_file.write_text("Flu shots start on Monday.", encoding="utf-8")
            cli(bot, "broadcast", "--clinic", "1", "--text-file", str(text_file),
                "--report-to", str(STAFF))  # fmt: skip
            fake.wait_for_sync(
                lambda: any(broadcast_texts(fake, chat, "Flu shots") for chat in recipients),
                TIMEOUT,
                "the broadcast under way",
            )
            chatty = fake.user(CHATTY)
            chatty.send_command("/start")
            message_with(fake, CHATTY, "not a diagnosis", button="Open the menu")
            chatty.click("Open the menu")
            message_with(fake, CHATTY, "", button="About hip impingement")
            replied = [c.time for c in fake.calls("sendMessage") if c.params["chat_id"] == CHATTY]
            fake.wait_for_sync(
                lambda: all(broadcast_texts(fake, chat, "Flu shots") for chat in recipients),
                90.0,
                "the broadcast to everyone",
            )
            message_with(fake, STAFF, "Broadcast #1 is done")
            delivered = [
                c.time
                for c in fake.calls("sendMessage")
                if c.status == 200 and "Flu shots" in str(c.params.get("text", ""))
            ]
            assert max(replied) < max(delivered)  # the replies did not wait for the broadcast
            got = Counter(
                chat for chat in recipients for _ in range(broadcast_texts(fake, chat, "Flu shots"))
            )
            assert set(got.values()) == {1}  # everyone exactly once, 429s or not
            assert fake.rate_limited_count > 0
            # a newcomer's unknown command opens the chat; /stats is no different for them
            fake.user(STRANGER).send_command("/stats")
            message_with(fake, STRANGER, "not a diagnosis", button="Open the menu")
            assert not any("Linked patients" in text for text in fake.texts(STRANGER))
        finally:
            bot.stop()


def test_the_broadcast_bench_reports_its_figures(tmp_path: Path) -> None:
    """The output contract of `python -m bench broadcast --json` on a tiny scale (figures
    are the bench's business; here only their presence and the correctness ones)."""
    result = subprocess.run(
        [sys.executable, "-m", "bench", "broadcast", "--json"],
        cwd=REPO,
        env={**os.environ, "HIPBOT_BENCH_SCALE": "0.005"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("sent_per_s", "cap_utilization", "reply_p99_ms_during_broadcast"):
        assert isinstance(figures[key], float) and figures[key] > 0, key
    assert isinstance(figures["http_429"], int)
    assert figures["missed"] == 0 and figures["cap30"]["missed"] == 0
    assert figures["cap1000"]["missed"] == 0 and figures["cap1000"]["duplicates"] == 0
    assert figures["crash"]["duplicates"] <= figures["crash"]["duplicate_bound"]
