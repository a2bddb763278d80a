"""Logging: structured, and never message text, answers or raw ids.

Handlers log an ``event`` type, step and flow ids and a hashed user id (``extra=``).
``json`` format prints one JSON object a line (production); ``text`` is for people. Both
start with the time (UTC, ISO 8601) and carry an exception's traceback: its frames and
class, not its message, which may quote what a person typed (``int("²")``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from types import TracebackType

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
    "kind",
    "update",
    "channel",
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


def timestamp(record: logging.LogRecord) -> str:
    """When the record was made, in UTC: ``2026-03-01T09:30:00.250Z``."""
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def exception_lines(record: logging.LogRecord) -> str:
    """The traceback of the record's exception, with the exception's class but not its
    message; empty when there is none."""
    if not record.exc_info or record.exc_info[0] is None:
        return ""
    kind, _, trace = record.exc_info
    return "".join(_frames(trace)) + f"{kind.__module__}.{kind.__qualname__} (message not logged)"


def _frames(trace: TracebackType | None) -> list[str]:
    return ["Traceback (most recent call last):\n", *traceback.format_tb(trace)] if trace else []


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        data.update({key: getattr(record, key) for key in _FIELDS if hasattr(record, key)})
        if record.exc_info and record.exc_info[0] is not None:
            data["exception"] = record.exc_info[0].__name__
            data["traceback"] = exception_lines(record)
        return json.dumps(data, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={getattr(record, k)}" for k in _FIELDS if hasattr(record, k))
        line = f"{timestamp(record)} {record.levelname:7} {record.name}: {record.getMessage()}"
        trace = exception_lines(record)
        return f"{line} {fields}".rstrip() + (f"\n{trace}" if trace else "")


def setup_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # libraries log request URLs, which contain the bot token: keep them quiet
    for noisy in ("httpx", "httpcore", "telegram", "aiohttp.access", "transitions"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
