"""Channel-neutral outbox rows (``bot.outgoing``) as Bot API calls.

``say`` → ``sendMessage`` (HTML, inline keyboard); ``edit`` → ``editMessageText`` or, for
buttons only, ``editMessageReplyMarkup``; ``document`` → ``sendDocument`` with the file as
an upload; ``photo`` → ``sendPhoto`` naming its picture (``Call.picture``), which
``bot.telegram.files`` turns into the upload or the file id Telegram gave it before. Rows queued by a version before the neutral outbox hold a Bot API method already
and go out as they are, so an upgrade with messages waiting loses none.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from telegram import InputFile

from bot import outgoing
from bot.telegram_html import visible_length

LEGACY_METHODS = frozenset(
    {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument"}
)


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    picture: str = ""  # a picture to send (bot.pictures reference): see bot.telegram.files


def keyboard(buttons: Any) -> dict[str, Any]:
    rows = [[{"text": label, "callback_data": data} for label, data in row] for row in buttons]
    return {"inline_keyboard": rows}


def render(chat_id: int, kind: str, payload: Mapping[str, Any]) -> Call:
    """The Bot API call for one outbox row. Raises ValueError for a kind it does not know."""
    if kind == outgoing.SAY:
        params: dict[str, Any] = {"chat_id": chat_id, "text": payload["text"], "parse_mode": "HTML"}
        if payload.get("buttons"):
            params["reply_markup"] = keyboard(payload["buttons"])
        if payload.get("paid"):  # a clinic's broadcast above the free rate (telegram.md)
            params["allow_paid_broadcast"] = True
        return Call("sendMessage", params)
    if kind == outgoing.EDIT:
        params = {"chat_id": chat_id, "message_id": payload["message_id"]}
        markup = keyboard(payload.get("buttons") or [])
        pictured = bool(payload.get("caption"))  # the message is a picture: edit its caption
        too_long = pictured and visible_length(payload["text"]) > outgoing.MAX_CAPTION
        if payload.get("buttons_only") or too_long:  # a caption too long: just the buttons
            return Call("editMessageReplyMarkup", {**params, "reply_markup": markup})
        field, method = (
            ("caption", "editMessageCaption") if pictured else ("text", "editMessageText")
        )
        params.update({field: payload["text"], "parse_mode": "HTML"})
        if markup["inline_keyboard"]:
            params["reply_markup"] = markup
        return Call(method, params)
    if kind == outgoing.PHOTO:
        return _photo(chat_id, payload)
    if kind == outgoing.DOCUMENT:
        filename, content, caption = outgoing.document_of(payload)
        params = {"chat_id": chat_id, "document": InputFile(content, filename=filename)}
        if caption:
            params["caption"] = caption
        return Call("sendDocument", params)
    if kind in LEGACY_METHODS:
        return _legacy(kind, payload)
    raise ValueError(f"an outbox row of kind {kind!r}: expected one of {sorted(outgoing.KINDS)}")


def _photo(chat_id: int, payload: Mapping[str, Any]) -> Call:
    picture, _alt, caption = outgoing.photo_of(payload)
    params: dict[str, Any] = {"chat_id": chat_id, "photo": picture}
    if caption.text:
        params.update(caption=caption.text, parse_mode="HTML")
    if payload.get("buttons"):
        params["reply_markup"] = keyboard(payload["buttons"])
    return Call("sendPhoto", params, picture=picture)


def _legacy(method: str, payload: Mapping[str, Any]) -> Call:
    params = {k: v for k, v in payload.items() if not k.startswith("_")}
    document = payload.get("_document")
    if document is not None:
        content = base64.b64decode(document["content"])
        params["document"] = InputFile(content, filename=document["filename"])
    return Call(method, params)
