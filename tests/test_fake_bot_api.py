"""The Telegram Bot API fake, driven by real python-telegram-bot objects over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.request import HTTPXRequest

from tests.fakes.bot_api import DEFAULT_TOKEN, FakeBotApi, RateLimits
from tests.fakes.bot_process import REPO

CHAT = 4242
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22.8 warns (PTBDeprecationWarning) when it builds RetryAfter unless this is set,
    # and the project turns warnings into errors.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(DEFAULT_TOKEN, base_url=fake.base_url) as telegram_bot:
        yield telegram_bot


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


async def raw_post(fake: FakeBotApi, method: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(fake.method_url(method), **kwargs) as response,
    ):
        return response.status, await response.json()


# ------------------------------------------------------------------ basics


async def test_send_message_returns_realistic_message(fake: FakeBotApi, bot: Bot) -> None:
    fake.user(CHAT, "Ada")
    assert bot.username == "hipbot_test_bot"  # getMe ran during initialize
    first = await bot.send_message(CHAT, "Hello", reply_markup=keyboard(("Go", "go")))
    second = await bot.send_message(CHAT, "Again")
    assert (first.message_id, second.message_id) == (1, 2)
    assert first.chat.type == "private" and first.chat.first_name == "Ada"
    assert first.from_user is not None and first.from_user.is_bot
    assert first.reply_markup == keyboard(("Go", "go"))
    assert fake.texts(CHAT) == ["Hello", "Again"]
    assert fake.messages(CHAT)[0].button_texts == ["Go"]
    call = fake.calls("sendMessage")[0]
    assert call.status == 200 and call.params["chat_id"] == CHAT
    assert isinstance(call.params["reply_markup"], dict)  # JSON inside the form field, decoded


async def test_text_limit_counts_visible_characters(fake: FakeBotApi, bot: Bot) -> None:
    await bot.send_message(CHAT, "a" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "a" * 4097)
    # Tags do not count, entities count as one character.
    await bot.send_message(CHAT, "<b>" + "a" * 4095 + "</b>&amp;", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "<b>" + "a" * 4096 + "</b>&amp;", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(CHAT, "<b> </b>", parse_mode="HTML")
    assert len(fake.messages(CHAT)) == 2
    assert fake.messages(CHAT)[1].text == "a" * 4095 + "&"


async def test_html_is_checked(fake: FakeBotApi, bot: Bot) -> None:
    for broken in ("<b>unclosed", "<div>x</div>", "1 < 2", "Q&A", "<b><i>x</b></i>"):
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(CHAT, broken, parse_mode="HTML")
    sent = await bot.send_message(
        CHAT, '<b>bold</b> &amp; <a href="https://example.org">link</a>', parse_mode="HTML"
    )
    assert sent.text == "bold & link"
    assert fake.messages(CHAT)[0].raw_text.startswith("<b>bold</b>")  # type: ignore[union-attr]
    # Without parse_mode the same characters are plain text.
    await bot.send_message(CHAT, "1 < 2 & <div>")
    assert fake.texts(CHAT)[-1] == "1 < 2 & <div>"


async def test_callback_data_limit_is_64_bytes(fake: FakeBotApi, bot: Bot) -> None:
    await bot.send_message(CHAT, "ok", reply_markup=keyboard(("A", "x" * 64), ("B", "é" * 32)))
    for data in ("x" * 65, "é" * 33):  # 33 characters but 66 bytes
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(CHAT, "no", reply_markup=keyboard(("A", data)))
    status, body = await raw_post(
        fake,
        "sendMessage",
        data={
            "chat_id": "1",
            "text": "x",
            "reply_markup": json.dumps({"inline_keyboard": [[{"text": "A", "callback_data": ""}]]}),
        },
    )
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")
    assert fake.texts(CHAT) == ["ok"]


# ------------------------------------------------------------------ request validation


async def test_unknown_field_is_rejected_unless_relaxed(fake: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r'(?i)unknown parameter "colour"'):
        await bot.send_message(CHAT, "hi", api_kwargs={"colour": "red"})
    assert fake.messages(CHAT) == []
    async with (
        FakeBotApi(strict=False) as lenient,
        Bot(DEFAULT_TOKEN, base_url=lenient.base_url) as lenient_bot,
    ):
        await lenient_bot.send_message(CHAT, "hi", api_kwargs={"colour": "red"})
        assert lenient.texts(CHAT) == ["hi"]


async def test_missing_field_and_bad_types(fake: FakeBotApi) -> None:
    status, body = await raw_post(fake, "sendMessage", data={"chat_id": "5"})
    assert status == 400
    assert body == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message text is empty",
    }
    status, body = await raw_post(fake, "sendMessage", data={"text": "hi"})
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")
    status, body = await raw_post(fake, "answerCallbackQuery", data={})
    assert (status, body["description"]) == (
        400,
        'Bad Request: parameter "callback_query_id" is required',
    )
    status, body = await raw_post(fake, "getUpdates", data={"limit": "ten"})
    assert status == 400 and "Integer" in body["description"]
    status, body = await raw_post(
        fake, "sendMessage", data={"chat_id": "5", "text": "x", "disable_notification": "maybe"}
    )
    assert status == 400 and "Boolean" in body["description"]
    # JSON bodies and GET query strings work, method names are case-insensitive.
    status, body = await raw_post(fake, "SENDMESSAGE", json={"chat_id": 5, "text": "json"})
    assert status == 200 and body["ok"] is True and body["result"]["text"] == "json"
    async with (
        aiohttp.ClientSession() as session,
        session.get(fake.method_url("getMe")) as response,
    ):
        me = await response.json()
    assert me["ok"] and me["result"]["is_bot"] is True


async def test_unknown_method_404_and_wrong_token_401(fake: FakeBotApi, bot: Bot) -> None:
    status, body = await raw_post(fake, "sendTelepathy", data={"chat_id": "1"})
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("send_telepathy", api_kwargs={"chat_id": 1})
    request = HTTPXRequest()
    try:
        with pytest.raises(InvalidToken):
            await Bot("999:wrong", base_url=fake.base_url, request=request).get_me()
    finally:
        await request.shutdown()
    assert [c.status for c in fake.calls()][-1] == 401
    assert fake.error_count == 3


# ------------------------------------------------------------------ errors and faults


async def test_injected_429_surfaces_as_retry_after(fake: FakeBotApi, bot: Bot) -> None:
    fake.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT, "hi")
    assert caught.value.retry_after.total_seconds() == 7  # type: ignore[union-attr]
    await bot.send_message(CHAT, "hi")  # only the next call failed
    assert fake.rate_limited_count == 1
    assert fake.texts(CHAT) == ["hi"]


async def test_fault_injection_5xx_drop_and_delay(fake: FakeBotApi) -> None:
    request = HTTPXRequest(read_timeout=0.3)
    async with Bot(DEFAULT_TOKEN, base_url=fake.base_url, request=request) as bot:
        fake.fail_next("sendMessage", 502, chat_id=CHAT)
        await bot.send_message(CHAT + 1, "other chat is fine")
        with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
            await bot.send_message(CHAT, "x")
        fake.drop_connection_next("sendmessage")
        with pytest.raises(NetworkError):
            await bot.send_message(CHAT, "dropped")
        fake.delay_next("sendMessage", 0.6)
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "slow")
        # The slow request still went through, as it may with the real Telegram.
        await fake.wait_for_message(CHAT, contains="slow", timeout=2)
    assert fake.texts(CHAT) == ["slow"]


async def test_blocked_user_gives_forbidden_and_my_chat_member(fake: FakeBotApi, bot: Bot) -> None:
    fake.user(CHAT, "Ada")
    fake.block(CHAT)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(CHAT, "hi")
    updates = await bot.get_updates(timeout=0)
    assert updates[0].my_chat_member is not None
    assert updates[0].my_chat_member.new_chat_member.status == "kicked"
    fake.unblock(CHAT)
    await bot.send_message(CHAT, "welcome back")
    assert fake.texts(CHAT) == ["welcome back"]


# ------------------------------------------------------------------ updates


async def test_get_updates_long_polls_and_confirms_by_offset(fake: FakeBotApi, bot: Bot) -> None:
    user = fake.user(CHAT, "Ada")
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()  # it is really waiting
    user.send_text("hello")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates if u.message] == ["hello"]
    # Not confirmed yet: delivered again.
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [updates[0].update_id]
    empty = await bot.get_updates(offset=updates[0].update_id + 1, timeout=0)
    assert empty == () and fake.pending_updates() == []
    # limit and an empty long poll that times out
    for text in ("a", "b", "c"):
        user.send_text(text)
    assert len(await bot.get_updates(limit=2, timeout=0)) == 2
    started = time.monotonic()
    assert await bot.get_updates(offset=10**9, timeout=1) == ()
    assert time.monotonic() - started >= 0.9


async def test_competing_get_updates_conflict(fake: FakeBotApi) -> None:
    async with (
        Bot(DEFAULT_TOKEN, base_url=fake.base_url) as one,
        Bot(DEFAULT_TOKEN, base_url=fake.base_url) as two,
    ):
        first = asyncio.create_task(one.get_updates(timeout=3))
        await asyncio.sleep(0.1)
        second = asyncio.create_task(two.get_updates(timeout=3))
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
            await asyncio.wait_for(first, 2)
        fake.user(CHAT).send_text("x")
        assert len(await asyncio.wait_for(second, 2)) == 1


async def test_click_makes_a_callback_query_ptb_parses(fake: FakeBotApi, bot: Bot) -> None:
    user = fake.user(CHAT, "Ada")
    sent = await bot.send_message(CHAT, "Which hip?", reply_markup=keyboard(("Left", "hip:l")))
    pushed = user.click("Left")
    (update,) = await bot.get_updates(timeout=0)
    query = update.callback_query
    assert query is not None and query.data == "hip:l" and query.from_user.id == CHAT
    assert query.message is not None and query.message.message_id == sent.message_id
    assert query.id == pushed["callback_query"]["id"]
    with pytest.raises(BadRequest, match=r"(?i)MESSAGE_TOO_LONG"):
        await query.answer("x" * 201)
    assert fake.unanswered_callback_queries() != []
    assert await query.answer("Saved")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer()
    with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
        await bot.answer_callback_query("12345")
    assert fake.unanswered_callback_queries() == []
    with pytest.raises(LookupError, match=r"(?i)no button"):
        user.click("Right")


async def test_edits_follow_telegram_rules(fake: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "Pick", reply_markup=keyboard(("A", "a")))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "Pick", CHAT, sent.message_id, reply_markup=keyboard(("A", "a"))
        )
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("Picked", CHAT, 999)
    # Editing the text without reply_markup removes the keyboard, as Telegram does.
    edited = await bot.edit_message_text("Picked: A", CHAT, sent.message_id)
    assert isinstance(edited, Message) and edited.text == "Picked: A"
    assert edited.reply_markup is None and fake.messages(CHAT)[0].reply_markup is None
    await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=keyboard(("B", "b")))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(
            CHAT, sent.message_id, reply_markup=keyboard(("B", "b"))
        )
    (message,) = fake.messages(CHAT)
    assert (message.text, message.button_texts, message.edits) == ("Picked: A", ["B"], 2)
    assert message.history[0] == ("Pick", keyboard(("A", "a")).to_dict())
    await bot.delete_message(CHAT, sent.message_id)
    assert fake.messages(CHAT) == []


async def test_simulated_updates_are_valid_telegram_json(fake: FakeBotApi, bot: Bot) -> None:
    user = fake.user(CHAT, "Ada", username="ada")
    await bot.send_message(CHAT, "menu", reply_markup=keyboard(("Go", "go")))
    pushed = [
        user.send_text("hi there"),
        user.send_command("/start", "ref_42"),
        user.click("go"),
        user.send_sticker(),
        user.send_photo("my x-ray"),
        user.send_voice(),
        user.send_document(),
        user.send_location(),
        user.send_contact(),
        user.send_poll(),
        user.edit_last_text("hi there, edited"),
        user.group_message(-100123, "/help@hipbot_test_bot"),
        fake.channel_post(-1001234567890, "news"),
    ]
    for raw in pushed:
        assert fake.spec.missing_required("Update", raw) == [], raw
    parsed = [Update.de_json(raw, bot) for raw in pushed]
    assert [u.update_id for u in parsed] == sorted({u.update_id for u in parsed})
    start = parsed[1].message
    assert start is not None and start.text == "/start ref_42"
    assert start.parse_entities() and next(iter(start.parse_entities().values())) == "/start"
    assert parsed[3].message and parsed[3].message.sticker
    assert parsed[4].message and parsed[4].message.photo and parsed[4].message.caption
    assert parsed[5].message and parsed[5].message.voice
    assert parsed[6].message and parsed[6].message.document
    assert parsed[7].message and parsed[7].message.location
    assert parsed[8].message and parsed[8].message.contact
    assert parsed[9].message and parsed[9].message.poll
    assert parsed[10].edited_message and parsed[10].edited_message.text == "hi there, edited"
    group = parsed[11].message
    assert group is not None and group.chat.type == "group" and group.from_user
    channel = parsed[12].channel_post
    assert channel is not None and channel.chat.type == "channel"
    # The same updates arrive through getUpdates.
    assert len(await bot.get_updates(timeout=0)) == len(pushed)
    # Results of the fake are valid too.
    assert fake.spec.missing_required("Message", fake.calls("sendMessage")[0].result) == []


async def test_files_commands_and_chat(fake: FakeBotApi, bot: Bot) -> None:
    fake.user(CHAT, "Ada")
    doc = await bot.send_document(CHAT, b"%PDF-1.4 hello", filename="plan.pdf", caption="Plan")
    assert doc.document is not None and doc.document.file_name == "plan.pdf"
    photo = await bot.send_photo(CHAT, PNG, caption="c" * 1024)
    assert photo.photo and photo.caption == "c" * 1024
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(CHAT, PNG, caption="c" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(CHAT, b"not an image")
    assert [m.kind for m in fake.messages(CHAT)] == ["document", "photo"]
    # a photo sent again by the file id Telegram gave it: the same file, no upload
    again = await bot.send_photo(CHAT, photo.photo[-1].file_id)
    assert again.photo[-1].file_id == photo.photo[-1].file_id
    assert again.photo[-1].file_unique_id == photo.photo[-1].file_unique_id
    assert isinstance(fake.calls("sendPhoto")[-1].params["photo"], str)
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(CHAT, "AgACnotAFileIdTheFakeGave")
    assert fake.messages(CHAT)[-1].file == photo.photo[-1].file_id
    upload = fake.messages(CHAT)[0].file
    assert upload is not None and not isinstance(upload, str) and upload.content.startswith(b"%PDF")

    commands = [BotCommand("start", "Start"), BotCommand("help_me", "Help")]
    assert await bot.set_my_commands(commands)
    assert [c["command"] for c in fake.commands] == ["start", "help_me"]
    assert await bot.get_my_commands() == tuple(commands)
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start", "Start")])
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMANDS_TOO_MUCH"):
        await bot.set_my_commands([BotCommand(f"c{i}", "x") for i in range(101)])
    await bot.set_my_commands([BotCommand("hilfe", "Hilfe")], language_code="de")
    assert fake.commands_for(language_code="de") == [{"command": "hilfe", "description": "Hilfe"}]

    assert await bot.send_chat_action(CHAT, "typing")
    chat = await bot.get_chat(CHAT)
    assert chat.first_name == "Ada" and chat.type == "private"
    assert await bot.set_chat_menu_button()  # not modelled: ok + recorded
    assert fake.calls("setChatMenuButton")[0].status == 200


# ------------------------------------------------------------------ flood limits


async def test_flood_limits_produce_real_429s() -> None:
    limits = RateLimits(global_per_second=5, global_burst=5, chat_per_second=1, chat_burst=2)
    async with (
        FakeBotApi(rate_limits=limits) as fake,
        Bot(DEFAULT_TOKEN, base_url=fake.base_url) as bot,
    ):
        await bot.send_message(1, "a")
        await bot.send_message(1, "b")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(1, "c")
        assert caught.value.retry_after.total_seconds() >= 1  # type: ignore[union-attr]
        assert await bot.send_chat_action(1, "typing")  # not counted
        for chat_id in (2, 3, 4):  # global burst of 5: 2 used by chat 1
            await bot.send_message(chat_id, "x")
        with pytest.raises(RetryAfter):
            await bot.send_message(5, "x")
        assert fake.rate_limited_count == 2
        body = next(c for c in fake.calls() if c.status == 429).description
        assert body is not None and body.startswith("Too Many Requests: retry after ")
        fake.set_rate_limits(None)
        for _ in range(10):
            await bot.send_message(1, "unlimited")


# ------------------------------------------------------------------ webhook


async def test_webhook_push_with_secret_retry_and_round_robin(fake: FakeBotApi, bot: Bot) -> None:
    received: list[tuple[str, str | None, dict[str, Any]]] = []
    failures = {"first": 1}

    def receiver(name: str) -> web.Application:
        async def handle(request: web.Request) -> web.Response:
            if name == "first" and failures["first"] > 0:
                failures["first"] -= 1
                return web.Response(status=500)
            header = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
            received.append((name, header, await request.json()))
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_post("/hook", handle)
        return app

    runners: list[web.AppRunner] = []
    urls: list[str] = []
    try:
        for name in ("first", "second"):
            runner = web.AppRunner(receiver(name), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            runners.append(runner)
            urls.append(f"http://127.0.0.1:{runner.addresses[0][1]}/hook")

        assert await bot.set_webhook(urls[0], secret_token="s3cr3t")
        info = await bot.get_webhook_info()
        assert info.url == urls[0]
        with pytest.raises(Conflict, match=r"(?i)webhook is active"):
            await bot.get_updates(timeout=0)
        user = fake.user(CHAT)
        user.send_text("one")
        await fake.wait_for(lambda: len(received) == 1, timeout=3)
        assert received[0][0] == "first" and received[0][1] == "s3cr3t"
        assert received[0][2]["message"]["text"] == "one"
        attempts = [d.status for d in fake.webhook_deliveries()]
        assert attempts == [500, 200]  # retried after the error
        assert Update.de_json(received[0][2], bot).message is not None

        fake.use_webhook(urls, secret="other")
        for text in ("a", "b", "c", "d"):
            user.send_text(text)
        await fake.wait_for(lambda: len(received) == 5, timeout=3)
        assert {r[0] for r in received[1:]} == {"first", "second"}
        assert [r[2]["message"]["text"] for r in received[1:]] == ["a", "b", "c", "d"]
        assert all(r[1] == "other" for r in received[1:])
        assert fake.pending_updates() == []

        assert await bot.delete_webhook()
        user.send_text("polled")
        assert [u.message.text for u in await bot.get_updates(timeout=0) if u.message] == ["polled"]
    finally:
        for runner in runners:
            await runner.cleanup()


# ------------------------------------------------------------------ synchronous use


def test_in_thread_for_synchronous_callers() -> None:
    with FakeBotApi.in_thread() as fake:
        fake.user(7, "Sync")
        payload = json.dumps({"chat_id": 7, "text": "from a thread"}).encode()
        request = urllib.request.Request(
            fake.method_url("sendMessage"),
            data=payload,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.load(response)["result"]["chat"]["first_name"] == "Sync"
        message = fake.wait_for_message_sync(7, contains="thread", timeout=2)
        assert message.message_id == 1
        with pytest.raises(TimeoutError, match=r"(?i)from a thread"):
            fake.wait_for_message_sync(7, contains="never", timeout=0.2)


def test_a_wait_sees_state_outside_the_fake_without_a_change_in_the_fake() -> None:
    """A wait on the bot's database or log (nothing the fake sees change) re-checks on its own;
    it once slept until its timeout and only then found the condition true."""
    calls: list[int] = []

    def third_check() -> bool:
        calls.append(1)
        return len(calls) >= 3

    with FakeBotApi.in_thread() as fake:
        assert fake.wait_for_sync(third_check, timeout=5)
        calls.clear()

        async def wait_async() -> bool:
            return await fake.wait_for(third_check, timeout=5)

        assert asyncio.run(wait_async())


UNDER_FAKETIME = """
from tests.fakes.bot_api import FakeBotApi

calls = []
def third_check():
    calls.append(1)
    return len(calls) >= 3

with FakeBotApi.in_thread() as fake:
    assert fake.wait_for_sync(third_check, timeout=5)
    try:
        fake.wait_for_sync(lambda: False, timeout=0.3, what="never")
    except TimeoutError as error:
        print(error)
"""


@pytest.mark.skipif(shutil.which("faketime") is None, reason="needs faketime (libfaketime)")
def test_waits_recheck_and_time_out_under_faketime() -> None:
    """libfaketime fakes CLOCK_MONOTONIC but not sem_clockwait, so a timed Condition.wait
    never woke there: a wait on the bot's database slept until the fake changed."""
    with subprocess.Popen(
        ["faketime", "2026-12-02 23:30:00", sys.executable, "-c", UNDER_FAKETIME],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # faketime's child too is ended below
    ) as waiting:
        try:
            out, _ = waiting.communicate(timeout=60)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(waiting.pid, signal.SIGKILL)
    assert waiting.returncode == 0
    assert "timed out after 0.3s waiting for never" in out
