"""Storage: where sessions, answers and the outbox live.

``Storage`` is the small interface every backend implements; ``open_storage(url)`` picks one
from a database URL. ``MemoryStorage`` is the in-memory fake for tests; ``SqlStorage`` runs on
SQLite (the embedded default) or PostgreSQL. One contract test suite (tests/test_storage.py)
runs against all three.
"""

from __future__ import annotations

from pathlib import Path

from bot.crypto import Codec, use_codec
from bot.storage.base import ConflictError, OutboxRow, Storage
from bot.storage.db import Database
from bot.storage.memory import MemoryStorage
from bot.storage.sql import SqlStorage

__all__ = [
    "ConflictError",
    "MemoryStorage",
    "OutboxRow",
    "SqlStorage",
    "Storage",
    "database_unavailable",
    "open_storage",
]


def database_unavailable(error: BaseException) -> bool:
    """An error that says the database could not be used just now (SQLite's write lock held
    past the busy timeout, a PostgreSQL connection lost): the same work may succeed later."""
    import sqlite3

    if isinstance(error, sqlite3.OperationalError):
        text = str(error).casefold()
        return "locked" in text or "busy" in text
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(error, psycopg.OperationalError)


def sqlite_path(url: str) -> str | None:
    """The file (or ``:memory:``) of a ``sqlite://`` URL; None for any other URL."""
    if not url.startswith("sqlite://"):
        return None
    path = url.removeprefix("sqlite://").removeprefix("/")
    if path in ("", ":memory:"):
        return ":memory:"
    if url.startswith("sqlite:////"):
        path = "/" + path.lstrip("/")
    return path


def open_storage(url: str, codec: Codec | None = None) -> Storage:
    """``sqlite:///path/to/file.db``, ``sqlite://:memory:``, ``memory://`` or
    ``postgresql://user:password@host:port/database``. ``codec``: open with these data keys
    instead of the configured ones (``hipbot db copy``, ``hipbot restore``)."""
    if url.startswith(("postgresql://", "postgres://")):
        from bot.storage.postgres import PostgresDatabase

        return _sql(url, PostgresDatabase(url), codec)
    if url.startswith("memory://"):
        return MemoryStorage()
    path = sqlite_path(url)
    if path is not None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return _sql(path, Database(path), codec)
    from bot.errors import ConfigError

    raise ConfigError(
        f"DATABASE_URL {url.split('://')[0]!r} is not supported: use sqlite:///path/to/hipbot.db or postgresql://user@host/db"
    )


def _sql(path: str, db: Database, codec: Codec | None) -> SqlStorage:
    if codec is not None:
        use_codec(db, codec)
    return SqlStorage(path, db)
