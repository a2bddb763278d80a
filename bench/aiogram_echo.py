"""A bare aiogram echo bot for ``python -m bench telegram``: every text answered with
``message.answer`` (one sendMessage), long polling, against ``ECHO_BASE_URL`` (the fake Bot
API, ``http://127.0.0.1:PORT/bot``) with ``ECHO_TOKEN``.

It imports nothing of hipbot and runs under its own interpreter (``.venv-aiogram``, made by
the benchmark from ``bench/aiogram-requirements.txt``): aiogram 3.31 requires
pydantic < 2.14 and hipbot pins pydantic 2.14.3, so the two cannot share one environment.
"""

from __future__ import annotations

import asyncio
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

CONNECTION_POOL = 64  # as the PTB echo bot and hipbot


async def main() -> None:
    base = os.environ["ECHO_BASE_URL"]
    server = TelegramAPIServer(
        base=base + "{token}/{method}",
        file=base.removesuffix("/bot") + "/file/bot{token}/{path}",
    )
    bot = Bot(os.environ["ECHO_TOKEN"], session=AiohttpSession(api=server, limit=CONNECTION_POOL))
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    await dispatcher.start_polling(bot, handle_as_tasks=True)


if __name__ == "__main__":
    asyncio.run(main())
