"""Storage: where sessions, answers and the outbox live.

``Storage`` is the small interface every backend implements; ``open_storage(url)`` picks one
from a database URL. ``MemoryStorage`` is the in-memory fake for tests; ``SqlStorage`` runs on
SQLite (the embedded default) or PostgreSQL. One contract test suite (tests/test_storage.py)
runs against all three.
"""

from __future__ import annotations

from pathlib import Path

from bot.storage.base import ConflictError, OutboxRow, Storage
from bot.storage.memory import MemoryStorage
from bot.storage.sql import SqlStorage

__all__ = [
    "ConflictError",
    "MemoryStorage",
    "OutboxRow",
    "SqlStorage",
    "Storage",
    "open_storage",
]


def open_storage(url: str) -> Storage:
    """``sqlite:///path/to/file.db``, ``sqlite://:memory:``, ``memory://`` or
    ``postgresql://user:password@host:port/database``."""
    if url.startswith(("postgresql://", "postgres://")):
        from bot.storage.postgres import PostgresDatabase

        return SqlStorage(url, PostgresDatabase(url))
    if url.startswith("memory://"):
        return MemoryStorage()
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://").removeprefix("/")
        if path in ("", ":memory:"):
            return SqlStorage(":memory:")
        if url.startswith("sqlite:////"):
            path = "/" + path.lstrip("/")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqlStorage(path)
    from bot.errors import ConfigError

    raise ConfigError(
        f"DATABASE_URL {url.split('://')[0]!r} is not supported: use sqlite:///path/to/hipbot.db or postgresql://user@host/db"
    )
