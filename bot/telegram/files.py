"""Pictures go up to Telegram once per bot: after that they are sent by the file id it gave.

``render`` names a ``sendPhoto``'s picture (``Call.picture``). Before sending, ``prepare``
puts in the file id stored for this bot and this picture's content, or else the picture's
bytes as an upload; after an upload, ``remember`` stores the file id Telegram answered with
(the largest size of its ``photo`` array). A stored id Telegram refuses (400 "wrong file
identifier") is forgotten and the picture uploaded again, once (the sender). Keyed by the picture's name and a hash of its
bytes, so a changed picture goes up again. Both run in a worker thread (they read files,
render drawings and use the database). A personal picture (a person's progress chart) is
drawn for the row's chat now and always uploaded: no file id of it is kept.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from telegram import Bot, InputFile

from bot import pictures
from bot.storage.db import Database
from bot.telegram.render import Call


def bot_key(bot: Bot) -> int:
    """The bot's id (file ids belong to one bot); 0 before it is known."""
    try:
        return int(bot.id)
    except RuntimeError:
        return 0


def _db(storage: Any) -> Database | None:
    return getattr(storage, "db", None)


def prepare(storage: Any, bot: Bot, call: Call) -> Call:
    """``call`` with its picture as a stored file id or as an upload. Raises ValueError when
    the picture cannot be read (the row can never go out)."""
    try:
        if pictures.is_personal(call.picture):
            user = str(call.params.get("chat_id", ""))
            picture = pictures.load_for(call.picture, storage, user)
            return replace(
                call, params={**call.params, "photo": InputFile(picture.content, picture.name)}
            )
        picture = pictures.load(call.picture)
    except (KeyError, OSError, ValueError) as error:
        raise ValueError(f"picture {call.picture!r}: {error}") from error
    db = _db(storage)
    row = None
    if db is not None:
        row = db.one(
            "SELECT file_id FROM telegram_files WHERE bot = ? AND picture = ? AND digest = ?",
            (bot_key(bot), picture.name, picture.digest),
        )
    photo: str | InputFile = (
        str(row[0]) if row else InputFile(picture.content, filename=picture.name)
    )
    return replace(call, params={**call.params, "photo": photo})


def refused_file_id(call: Call, message: str) -> bool:
    """Whether a 400 answer to ``call`` says Telegram does not know the stored file id it
    sent (the upload then goes again, once: ``forget`` and ``prepare``)."""
    return (
        bool(call.picture)
        and isinstance(call.params.get("photo"), str)
        and ("file" in message.casefold())
    )


def forget(storage: Any, bot: Bot, call: Call) -> None:
    """Drop the stored file id ``call`` sent: Telegram refused it."""
    db = _db(storage)
    photo = call.params.get("photo")
    if db is None or not isinstance(photo, str):
        return
    with db.transaction():
        db.execute(
            "DELETE FROM telegram_files WHERE bot = ? AND file_id = ?", (bot_key(bot), photo)
        )


def remember(storage: Any, bot: Bot, call: Call, result: Any, now: float | None = None) -> None:
    """After an upload: store the file id Telegram gave the picture."""
    db = _db(storage)
    sizes = result.get("photo") if isinstance(result, dict) else None
    if db is None or not isinstance(call.params.get("photo"), InputFile) or not sizes:
        return
    if pictures.is_personal(call.picture):  # drawn for one person: its file id is not kept
        return
    picture = pictures.load(call.picture)
    with db.transaction():
        db.execute(
            "INSERT INTO telegram_files (bot, picture, digest, file_id, saved_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (bot, picture, digest)"
            " DO UPDATE SET file_id = excluded.file_id, saved_at = excluded.saved_at",
            (
                bot_key(bot),
                picture.name,
                picture.digest,
                str(sizes[-1]["file_id"]),
                time.time() if now is None else now,
            ),
        )
