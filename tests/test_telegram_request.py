"""``AiohttpRequest``: PTB over aiohttp behaves as PTB over httpx against the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.telegram.request import AiohttpRequest
from tests.fakes.bot_api import DEFAULT_TOKEN, FakeBotApi, UploadedFile

CHAT = 31337


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        api.user(CHAT)
        yield api


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    request = AiohttpRequest(connections=4, read_timeout=1.0)
    async with Bot(DEFAULT_TOKEN, base_url=fake.base_url, request=request) as bot:
        yield bot


async def test_calls_with_nested_fields_and_files_arrive_as_sent(
    fake: FakeBotApi, bot: Bot
) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data="1:hip:1:a:b0")]])
    await bot.send_message(CHAT, "<b>Hi</b> ✓", parse_mode="HTML", reply_markup=markup)
    await bot.send_document(CHAT, InputFile(b"a,b\n1,2\n", filename="data.csv"), caption="yours")
    sent, document = fake.messages(CHAT)
    assert (sent.text, sent.button_texts) == ("Hi ✓", ["Next"])
    upload = fake.calls("sendDocument")[0].params["document"]
    assert isinstance(upload, UploadedFile)
    assert (upload.filename, upload.content) == ("data.csv", b"a,b\n1,2\n")
    assert document.text == "yours"
    assert (await bot.get_me()).id == fake.bot_id


async def test_telegram_errors_map_to_ptb_exceptions(
    fake: FakeBotApi, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as hipbot runs: retry_after a timedelta
    fake.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(RetryAfter):
        await bot.send_message(CHAT, "x")
    fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(Forbidden):
        await bot.send_message(CHAT, "x")
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(CHAT, "x" * 5000)


async def test_transport_failures_are_network_errors(fake: FakeBotApi, bot: Bot) -> None:
    fake.drop_connection_next("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(CHAT, "x")
    fake.delay_next("sendMessage", 2.0)
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "x")
    await bot.send_message(CHAT, "after the faults")
    assert "after the faults" in fake.texts(CHAT)


async def test_unused_request_cannot_send() -> None:
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:9/x", "POST")
    await request.shutdown()  # harmless before initialize
