"""PostgreSQL for clinics that run several bot replicas on one database.

The same stores and statements as SQLite run here: ``PostgresDatabase`` speaks the
``Database`` interface (``?`` placeholders become ``%s``; ``{id}``, ``{real}`` and
``{skip_locked}`` become their PostgreSQL words). psycopg 3, one connection per process.
"""

from __future__ import annotations

import contextlib
import threading
import zlib
from collections.abc import Sequence
from typing import Any

import psycopg

from bot.storage.db import DIALECT_WORDS, Database


class PostgresDatabase(Database):
    dialect = "postgres"
    begin = "BEGIN"

    def __init__(self, url: str) -> None:
        self.path = url
        self.connection = self._connect()
        self.lock = threading.RLock()
        self._depth = 0
        self._statements: dict[str, str] = {}

    def sql(self, statement: str) -> str:
        cached = self._statements.get(statement)
        if cached is None:
            text = statement.format(**DIALECT_WORDS["postgres"]) if "{" in statement else statement
            cached = text.replace("%", "%%").replace("?", "%s")
            self._statements[statement] = cached
        return cached

    def _connect(self) -> Any:
        return psycopg.connect(self.path, autocommit=True)

    def _start(self) -> None:
        """BEGIN, on a new connection if the old one was lost (a server restart, a network
        blip): only between transactions, so no half-done work is ever replayed."""
        try:
            self.connection.execute(self.begin)
        except psycopg.OperationalError:
            with contextlib.suppress(psycopg.Error):
                self.connection.close()
            self.connection = self._connect()
            self.connection.execute(self.begin)

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        with self.lock:
            if self._depth == 0 and getattr(self.connection, "closed", False):
                self.connection = self._connect()
            try:
                return self.connection.execute(self.sql(statement), tuple(params))
            except psycopg.OperationalError:
                if self._depth:  # inside a transaction: it is lost, the caller must see that
                    raise
                with contextlib.suppress(psycopg.Error):
                    self.connection.close()
                self.connection = self._connect()
                return self.connection.execute(self.sql(statement), tuple(params))

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self.lock, self.connection.cursor() as cursor:  # type: ignore[attr-defined]
                cursor.executemany(self.sql(statement), [tuple(r) for r in rows])

    def one(self, statement: str, params: Sequence[Any] = ()) -> Any:
        return self.execute(statement, params).fetchone()

    def all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(self.execute(statement, params).fetchall())

    def tables(self) -> list[str]:
        rows = self.all(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return sorted(r[0] for r in rows)

    def lock_key(self, name: str, value: int = 0) -> None:
        """Hold a transaction-scoped advisory lock (e.g. one chat's turn across replicas)."""
        self.execute(
            "SELECT pg_advisory_xact_lock(?, ?)",
            (zlib.crc32(name.encode()) & 0x7FFFFFFF, value & 0x7FFFFFFF),
        )

    def try_leader(self, name: str) -> bool:
        """One replica at a time holds this session-level advisory lock; when it dies, its
        connection closes, the lock is freed and another replica takes over."""
        key = zlib.crc32(f"leader:{name}".encode()) & 0x7FFFFFFF
        return bool(self.one("SELECT pg_try_advisory_lock(?)", (key,))[0])

    def migrate(self, store: str, scripts: Sequence[str]) -> int:
        with self.transaction():
            self.lock_key("migrate")  # replicas starting together migrate one at a time
            return super().migrate(store, scripts)

    def close(self) -> None:
        with self.lock:
            self.connection.close()
