"""Logging: structured, and never message text, answers or raw ids.

Handlers log an ``event`` type, step and flow ids and a hashed user id (``extra=``).
``json`` format prints one JSON object a line (production); ``text`` is for people.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sys

_FIELDS = (
    "event",
    "user",
    "chat",
    "step",
    "flow",
    "mode",
    "replies",
    "error",
    "method",
    "wait",
    "retry_after",
    "count",
)


_pepper = b"hipbot: no data key yet"


def set_pepper(secret: bytes) -> None:
    """The secret that keys hashed ids (derived from the data key, see bot.crypto). Without
    one, a hash of a Telegram id could be undone by hashing every possible id."""
    global _pepper
    _pepper = secret


def hash_id(value: object) -> str:
    """A stable id for logs that cannot be turned back into the raw id without the key."""
    return hmac.new(_pepper, str(value).encode(), hashlib.sha256).hexdigest()[:16]


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"level": record.levelname, "logger": record.name, "msg": record.getMessage()}
        data.update({key: getattr(record, key) for key in _FIELDS if hasattr(record, key)})
        if record.exc_info and record.exc_info[0] is not None:
            data["exception"] = record.exc_info[0].__name__
        return json.dumps(data, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={getattr(record, k)}" for k in _FIELDS if hasattr(record, k))
        return f"{record.levelname:7} {record.name}: {record.getMessage()} {fields}".rstrip()


def setup_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # libraries log request URLs, which contain the bot token: keep them quiet
    for noisy in ("httpx", "httpcore", "telegram", "aiohttp.access", "transitions"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
