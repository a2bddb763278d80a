"""Raw Telegram updates in, ``telegram.Update`` objects out, without ever failing the batch.

* A webhook body is checked before anything else (``envelope``): a JSON object whose
  ``update_id`` is a whole number. Anything else (``null``, ``[]``, ``123``, nesting too deep
  to read, ``"update_id": "abc"``) is refused with 400 and nothing is stored.
* An update the library cannot read (a poll whose options lack ``persistent_id``, as older
  Bot API servers send it) is confirmed and skipped, counted in ``UNREADABLE``, and logged by
  its type and hashed id only: never its content (chat ids, names, text). The rest of the
  batch is handled as usual.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any

from telegram import Bot, Update

from bot.logs import hash_id

log = logging.getLogger("hipbot.telegram")
MAX_UPDATE_ID = 2**63 - 1  # a BIGINT column holds it
UNREADABLE: Counter[str] = Counter()  # update type -> how many were skipped (for metrics)


def envelope(body: bytes) -> dict[str, Any] | None:
    """The update a webhook body holds, or None when it is not a Telegram update at all."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than can be read
        return None
    return data if is_update(data) else None


def is_update(data: object) -> bool:
    """A JSON object with a whole-number ``update_id`` (not a string, not true/false)."""
    if not isinstance(data, dict):
        return False
    update_id = data.get("update_id")
    return type(update_id) is int and 0 <= update_id <= MAX_UPDATE_ID


def kind_of(data: dict[str, Any]) -> str:
    """The update's type (``message``, ``poll`` ...): its one field besides ``update_id``."""
    return next((str(key)[:40] for key in data if key != "update_id"), "none")


def parse(data: object, bot: Bot) -> Update | None:
    """One update as the library's object; None (counted and logged without its content)
    when it cannot be read."""
    if not is_update(data):
        _skipped(data, "not_an_update")
        return None
    assert isinstance(data, dict)
    try:
        update = Update.de_json(data, bot)
    except Exception as error:  # the library's parsing raises TypeError, KeyError, ValueError ...
        _skipped(data, type(error).__name__)
        return None
    if update is None:  # pragma: no cover - de_json gives None only for an empty dict
        _skipped(data, "empty")
    return update


def parse_batch(raw: object, bot: Bot) -> tuple[list[Update], int | None]:
    """A getUpdates result: the updates that could be read, and the offset that confirms
    the whole batch, the unreadable ones too (None when the batch had no ids)."""
    items = raw if isinstance(raw, list) else []
    ids = [item["update_id"] for item in items if is_update(item)]
    updates = [update for update in (parse(item, bot) for item in items) if update is not None]
    return updates, (max(ids) + 1 if ids else None)


def _skipped(data: object, error: str) -> None:
    kind = kind_of(data) if isinstance(data, dict) else type(data).__name__
    UNREADABLE[kind] += 1
    update_id = data.get("update_id") if isinstance(data, dict) else None
    log.warning(
        "skipped an update that cannot be read",
        extra={
            "event": "update_unreadable",
            "kind": kind,
            "update": hash_id(update_id),
            "error": error,
            "count": UNREADABLE[kind],
        },
    )
