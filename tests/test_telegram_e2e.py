"""End to end over real HTTP: the real ``hipbot run`` process against the fake Bot API."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bot.storage import SqlStorage
from tests.fakes.bot_api import DEFAULT_TOKEN, FakeBotApi, SentMessage
from tests.fakes.bot_process import REPO, BotProcess

CHAT = 4242
TIMEOUT = 15.0


def keyboard_with(fake: FakeBotApi, chat: int, label: str, after: int = 0) -> SentMessage:
    """Wait for a message (newer than message number ``after``) offering ``label``."""

    def find() -> SentMessage | None:
        found = [m for m in fake.messages(chat) if m.message_id > after and label in m.button_texts]
        return found[-1] if found else None

    return fake.wait_for_sync(find, TIMEOUT, f"a message with button {label!r}")


def text_with(fake: FakeBotApi, chat: int, words: str, after: int = 0) -> SentMessage:
    def find() -> SentMessage | None:
        found = [
            m
            for m in fake.messages(chat)
            if m.message_id > after and words.casefold() in (m.text or "").casefold()
        ]
        return found[-1] if found else None

    return fake.wait_for_sync(find, TIMEOUT, f"a message containing {words!r}")


def last_id(fake: FakeBotApi, chat: int) -> int:
    messages = fake.messages(chat)
    return messages[-1].message_id if messages else 0


def storage_of(bot: BotProcess) -> SqlStorage:
    return SqlStorage(str(bot.db_path))


def test_start_registers_commands_and_walks_the_menu(fake: FakeBotApi, bot: BotProcess) -> None:
    names = [command["command"] for command in fake.commands]
    assert {"start", "menu", "help", "urgent", "stop"} <= set(names)
    user = fake.user(CHAT)
    user.send_command("/start")
    welcome = keyboard_with(fake, CHAT, "Open the menu")
    assert "not a diagnosis" in (welcome.text or "")
    assert "112" in (welcome.text or "")  # the configured emergency number, not hard-coded
    user.click("Open the menu")
    menu = keyboard_with(fake, CHAT, "About hip impingement")
    # the pressed message now shows what was picked, and has no live buttons left
    pressed = fake.wait_for_sync(
        lambda: next(
            (m for m in fake.messages(CHAT) if m.message_id == welcome.message_id and m.edits), None
        ),
        TIMEOUT,
        "the pressed message edited",
    )
    assert "✓ Open the menu" in (pressed.text or "")
    assert not pressed.has_inline_keyboard
    assert not fake.unanswered_callback_queries()
    user.click("About hip impingement", message_id=menu.message_id)
    keyboard_with(fake, CHAT, "Next", after=menu.message_id)
    session = storage_of(bot).load_session(str(CHAT))
    assert session is not None and session.step == "learn_joint"


def test_two_fast_taps_on_one_button_act_once(fake: FakeBotApi, bot: BotProcess) -> None:
    user = fake.user(CHAT)
    user.send_command("/start")
    welcome = keyboard_with(fake, CHAT, "Open the menu")
    user.click("Open the menu", message_id=welcome.message_id)
    user.click("Open the menu", message_id=welcome.message_id)
    keyboard_with(fake, CHAT, "About hip impingement")
    fake.wait_for_sync(
        lambda: len(fake.callback_queries()) == 2 and not fake.unanswered_callback_queries(),
        TIMEOUT,
        "both taps answered",
    )
    time.sleep(0.5)  # room for a wrong second reply to show up
    menus = [m for m in fake.messages(CHAT) if "About hip impingement" in m.button_texts]
    assert len(menus) == 1
    assert not any("earlier message" in (m.text or "") for m in fake.messages(CHAT))


def test_bad_input_gets_a_clear_answer_and_nothing_breaks(
    fake: FakeBotApi, bot: BotProcess
) -> None:
    user = fake.user(CHAT)
    user.send_command("/start")
    welcome = keyboard_with(fake, CHAT, "Open the menu")
    for send in (
        user.send_sticker,
        user.send_photo,
        user.send_voice,
        user.send_document,
        user.send_location,
        user.send_contact,
        user.send_poll,
    ):
        before = last_id(fake, CHAT)
        send()
        text_with(fake, CHAT, "only read text", after=before)
        text_with(fake, CHAT, "Type /urgent", after=before)  # a voice note may be a cry for help
        keyboard_with(fake, CHAT, "Open the menu", after=before)
    for text in (
        "x" * 10_000,
        "🦴🦵😣",
        "مرحبا بك",
        "he\u200bllo\u200f",
        "/nosuchcommand",
        "/menu junk args here",
    ):
        before = last_id(fake, CHAT)
        user.send_text(text)
        fake.wait_for_sync(
            lambda b=before: last_id(fake, CHAT) > b, TIMEOUT, f"a reply to {text[:20]!r}"
        )
    keyboard_with(fake, CHAT, "About hip impingement")  # /menu with junk still opened the menu
    assert any("don't know that command" in (m.text or "") for m in fake.messages(CHAT))
    before = last_id(fake, CHAT)
    user.edit_last_text("changed my mind")
    text_with(fake, CHAT, "edited a message", after=before)
    # an old button (the welcome message's) and data that does not parse
    before = last_id(fake, CHAT)
    user.click("Urgent help", message_id=welcome.message_id)
    text_with(fake, CHAT, "earlier message", after=before)
    for data in ("garbage", "1:hip:999:menu:b0", "1:hip:1:nosuchstep:b0", "1:r:nosuchroute"):
        before = last_id(fake, CHAT)
        fake.push_update(
            {
                "callback_query": {
                    "id": f"q-{data}",
                    "from": {"id": CHAT, "is_bot": False, "first_name": "Pat"},
                    "chat_instance": "1",
                    "data": data,
                }
            }
        )
        text_with(fake, CHAT, "earlier message", after=before)
    session = storage_of(bot).load_session(str(CHAT))
    assert session is not None and session.step == "menu"
    assert bot.process is not None and bot.process.poll() is None  # still running
    logs = bot.logs()
    assert "Traceback" not in logs
    assert "مرحبا" not in logs and "changed my mind" not in logs and str(CHAT) not in logs


def test_groups_get_one_note_then_silence(fake: FakeBotApi, bot: BotProcess) -> None:
    group = -100123
    fake.group_message(group, "hello bot")
    text_with(fake, group, "private chats")
    fake.group_message(group, "/start")
    fake.group_message(group, "anyone?")
    time.sleep(1.0)
    assert len(fake.messages(group)) == 1


def test_block_and_unblock_are_remembered(fake: FakeBotApi, bot: BotProcess) -> None:
    user = fake.user(CHAT)
    user.send_command("/start")
    keyboard_with(fake, CHAT, "Open the menu")
    fake.block(CHAT)
    storage = storage_of(bot)
    fake.wait_for_sync(lambda: storage.get_flag(str(CHAT), "blocked"), TIMEOUT, "blocked flag")
    fake.unblock(CHAT)
    fake.wait_for_sync(lambda: not storage.get_flag(str(CHAT), "blocked"), TIMEOUT, "unblocked")


def test_telegram_faults_are_retried_or_parked(fake: FakeBotApi, bot: BotProcess) -> None:
    user = fake.user(CHAT)
    fake.fail_next("sendMessage", 429, retry_after=1)
    fake.fail_next("sendMessage", 502)
    user.send_command("/start")
    keyboard_with(fake, CHAT, "Open the menu")  # delivered after the 429 wait and a retry
    assert fake.rate_limited_count >= 1
    # a 400 parks that one message; the bot keeps serving
    fake.fail_next("sendMessage", 400, "Bad Request: can't parse entities")
    before = last_id(fake, CHAT)
    user.send_command("/menu")
    user.send_command("/help")
    text_with(fake, CHAT, "How I work", after=before)
    storage = storage_of(bot)
    fake.wait_for_sync(lambda: storage.pending_outbox() == 0, TIMEOUT, "outbox drained")
    # a 403 marks the person blocked
    fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    user.send_command("/menu")
    fake.wait_for_sync(lambda: storage.get_flag(str(CHAT), "blocked"), TIMEOUT, "blocked after 403")
    assert "send_400" in bot.logs() and "Traceback" not in bot.logs()


def test_sigkill_mid_conversation_loses_nothing(fake: FakeBotApi, bot: BotProcess) -> None:
    user = fake.user(CHAT)
    user.send_command("/start")
    keyboard_with(fake, CHAT, "Open the menu")
    user.click("Open the menu")
    menu = keyboard_with(fake, CHAT, "About hip impingement")
    bot.kill()
    # the person goes on while the bot is down; nothing is answered yet
    user.click("About hip impingement", message_id=menu.message_id)
    bot.start()
    learn = keyboard_with(fake, CHAT, "Next", after=menu.message_id)
    user.click("Next", message_id=learn.message_id)
    keyboard_with(fake, CHAT, "Back", after=learn.message_id)
    session = storage_of(bot).load_session(str(CHAT))
    assert session is not None and session.step == "learn_what"
    storage = storage_of(bot)
    fake.wait_for_sync(lambda: storage.pending_outbox() == 0, TIMEOUT, "outbox drained")
    joint = [m for m in fake.messages(CHAT) if (m.text or "").startswith("The hip joint")]
    assert len(joint) == 1  # the press made while the bot was down: answered once, not lost


def test_stop_is_answered_and_remembered(fake: FakeBotApi, bot: BotProcess) -> None:
    user = fake.user(CHAT)
    user.send_command("/stop")
    text_with(fake, CHAT, "/start")
    storage = storage_of(bot)
    assert storage.get_flag(str(CHAT), "stopped")
    user.send_command("/start")
    keyboard_with(fake, CHAT, "Open the menu")
    assert not storage.get_flag(str(CHAT), "stopped")


def _post(url: str, body: dict[str, Any], secret: str | None) -> int:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    if secret is not None:
        request.add_header("X-Telegram-Bot-Api-Secret-Token", secret)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_webhook_mode_checks_the_secret_and_serves_health(fake: FakeBotApi, tmp_path: Path) -> None:
    port = _free_port()
    secret = "s3cret_token-1"
    process = BotProcess(
        fake,
        tmp_path,
        HIPBOT_MODE="webhook",
        HIPBOT_WEBHOOK_LISTEN="127.0.0.1",
        HIPBOT_WEBHOOK_PORT=str(port),
        HIPBOT_WEBHOOK_PATH="/tg",
        HIPBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}",
        HIPBOT_WEBHOOK_SECRET=secret,
    )
    with process:
        fake.wait_for_sync(lambda: fake.calls("setWebhook"), TIMEOUT, "setWebhook")
        call = fake.calls("setWebhook")[-1]
        assert call.params["url"] == f"http://127.0.0.1:{port}/tg"
        assert call.params["secret_token"] == secret
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert json.loads(response.read())["ok"] is True
        update = fake.user(CHAT).send_command("/start")
        assert _post(f"http://127.0.0.1:{port}/tg", update, None) == 403
        assert _post(f"http://127.0.0.1:{port}/tg", update, "wrong") == 403
        keyboard_with(fake, CHAT, "Open the menu")  # the fake pushes updates to the webhook
        deliveries = fake.webhook_deliveries()
        assert deliveries and all(d.status == 200 for d in deliveries)


def test_run_without_token_says_how_to_get_one(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HIPBOT_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "@BotFather" in result.stdout and "hipbot chat" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("HIPBOT_MODE", "carrier-pigeon", "use 'polling' or 'webhook'"),
        ("HIPBOT_RATE_LIMIT", "fast", "HIPBOT_RATE_LIMIT"),
        ("TELEGRAM_API_BASE_URL", "ftp://x", "must start with http"),
        ("HIPBOT_WEBHOOK_PORT", "99999", "HIPBOT_WEBHOOK_PORT"),
        ("HIPBOT_RETENTION_DAYS", "0", "HIPBOT_RETENTION_DAYS"),
        ("HIPBOT_URGENT_CARE", "<b>111</b>", "e.g. NHS 111"),
    ],
)
def test_wrong_settings_fail_with_a_sentence(
    tmp_path: Path, variable: str, value: str, says: str
) -> None:
    env = {"PATH": "/usr/bin:/bin", "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN, variable: value}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert says in result.stdout and variable in result.stdout


def test_start_waits_for_the_bot_api_instead_of_crashing(fake: FakeBotApi, tmp_path: Path) -> None:
    fake.fail_next("getMe", 502, times=2)  # Telegram (or the network) down at start
    with BotProcess(fake, tmp_path) as process:
        fake.wait_for_sync(lambda: fake.commands, 20, "setMyCommands once getMe answers")
        assert len(fake.calls("getMe")) >= 3
        assert process.process is not None and process.process.poll() is None
    logs = process.logs()
    assert "start_retry" in logs and "Traceback" not in logs
