"""What the bot says, in words every channel understands: the outbox's rows.

A row is ``(chat_id, kind, payload)``; the payload is JSON and never names a channel's API:

* ``say``: a new message: ``text`` (the bot's markup subset, ``bot.telegram_html``) and
  ``buttons`` (rows of ``[label, data]``);
* ``edit``: change a message the person already has (``message_id``, the channel's own id):
  its ``text`` and buttons, or with ``buttons_only`` just its buttons;
* ``document``: a file: ``filename``, ``content`` (base64) and a ``caption``; with ``made``
  (a maker's name, ``register_maker``) the content is the maker's data and the file is made
  from it when the row is delivered (``document_of``: slow, so in a worker thread), never
  stored;
* ``photo``: a picture (``bot.pictures``): ``picture`` (a drawing's name or a file's path,
  never the bytes), ``alt`` (the picture in words), ``caption`` (markup, at most 1024
  characters) and ``buttons``.

Keys starting with ``_`` are notes for the stores and metrics (``_step`` for logs,
``_reminder``, ``_delivery``, ``_kind``; ``_choice`` marks the edit that shows a pressed
button's choice in place of the buttons, which a channel may draw its own way): never shown. Each channel renders rows its own way:
Telegram (``bot.telegram.render``), the terminal (``bot.console``) and the web chat.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.model import Reply, ReplyButton
from bot.telegram_html import split_html, visible_length

SAY = "say"
EDIT = "edit"
DOCUMENT = "document"
PHOTO = "photo"
KINDS = frozenset({SAY, EDIT, DOCUMENT, PHOTO})
MAX_CAPTION = 1024  # Telegram's caption limit (visible characters)
Row = tuple[int, str, dict[str, Any]]
Maker = Callable[[bytes], bytes]  # a made document's data -> the file's bytes
_makers: dict[str, Maker] = {}


def register_maker(name: str, maker: Maker) -> None:
    """How a made document (``document(..., made=name)``) is made when it is delivered."""
    _makers[name] = maker


def _buttons(buttons: Sequence[Sequence[ReplyButton]]) -> list[list[list[str]]]:
    return [[[b.label, b.data] for b in row] for row in buttons]


def say(chat_id: int, reply: Reply | str, **notes: Any) -> list[Row]:
    """One reply as ``say`` rows: split cleanly when too long for one message, the buttons on
    the last part. ``notes`` become ``_``-keys (``say(c, r, reminder=3)`` → ``_reminder``)."""
    if isinstance(reply, str):
        reply = Reply(reply)
    parts = split_html(reply.text)
    extra = {f"_{key}": value for key, value in notes.items()}
    if reply.step:
        extra["_step"] = reply.step
    rows: list[Row] = []
    if reply.image:
        rows.append(_photo(chat_id, reply, extra))
        if rows[0][2]["caption"] or not reply.text:
            return rows
    for index, part in enumerate(parts):
        payload: dict[str, Any] = {"text": part, **extra}
        if reply.buttons and index == len(parts) - 1:
            payload["buttons"] = _buttons(reply.buttons)
        rows.append((chat_id, SAY, payload))
    return rows


def _photo(chat_id: int, reply: Reply, extra: dict[str, Any]) -> Row:
    """A reply's picture, its text as the caption when that fits (else the text follows)."""
    payload: dict[str, Any] = {"picture": reply.image, "alt": reply.alt, "caption": "", **extra}
    if visible_length(reply.text) <= MAX_CAPTION:
        payload["caption"] = reply.text
        if reply.buttons:
            payload["buttons"] = _buttons(reply.buttons)
    return (chat_id, PHOTO, payload)


def edit(
    chat_id: int,
    message_id: int,
    reply: Reply,
    buttons_only: bool = False,
    caption: bool = False,
    **notes: Any,
) -> Row:
    """Change an earlier message: its text and buttons, or (``buttons_only``) its buttons;
    the text is kept for channels that redraw a whole message."""
    payload: dict[str, Any] = {
        "message_id": message_id,
        "text": reply.text,
        "buttons": _buttons(reply.buttons),
        **{f"_{key}": value for key, value in notes.items()},
    }
    if buttons_only:
        payload["buttons_only"] = True
    if caption:  # the message is a picture: the text is its caption
        payload["caption"] = True
    if reply.step:
        payload["_step"] = reply.step
    return (chat_id, EDIT, payload)


def document(chat_id: int, filename: str, content: bytes, caption: str = "", made: str = "") -> Row:
    encoded = base64.b64encode(content).decode()
    payload = {"filename": filename, "content": encoded, "caption": caption}
    if made:
        payload["made"] = made
    return (chat_id, DOCUMENT, payload)


def reply_of(payload: Mapping[str, Any]) -> Reply:
    """A ``say`` or ``edit`` payload as a ``Reply`` (for channels that draw replies)."""
    rows = payload.get("buttons") or []
    buttons = tuple(tuple(ReplyButton(str(b[0]), str(b[1])) for b in row) for row in rows)
    return Reply(
        str(payload.get("text", "")),
        buttons,
        step=str(payload.get("_step", "")),
        edit=bool(payload.get("buttons_only")),
    )


def document_of(payload: Mapping[str, Any]) -> tuple[str, bytes, str]:
    """A ``document`` payload as (filename, content, caption); a made document is made now.
    Raises ValueError for a made document no maker is registered for."""
    content = base64.b64decode(str(payload.get("content", "")))
    made = str(payload.get("made", ""))
    if made:
        maker = _makers.get(made)
        if maker is None:
            raise ValueError(f"no maker for the made document {made!r}: is its feature loaded?")
        content = maker(content)
    return str(payload.get("filename", "file")), content, str(payload.get("caption", ""))


def photo_of(payload: Mapping[str, Any]) -> tuple[str, str, Reply]:
    """A ``photo`` payload as (picture reference, alt text, the caption as a ``Reply``)."""
    rows = payload.get("buttons") or []
    buttons = tuple(tuple(ReplyButton(str(b[0]), str(b[1])) for b in row) for row in rows)
    caption = Reply(str(payload.get("caption", "")), buttons, step=str(payload.get("_step", "")))
    return str(payload["picture"]), str(payload.get("alt", "")), caption
