"""PostgreSQL for clinics that run several bot replicas on one database.

The same stores and statements as SQLite run here: ``PostgresDatabase`` speaks the
``Database`` interface (``?`` placeholders become ``%s``; ``{id}``, ``{real}`` and
``{skip_locked}`` become their PostgreSQL words). psycopg 3, one connection per process.

Round trips: inside a transaction, BEGIN, locks and writes nobody reads a result of
(``defer``, ``write_one``) wait and go to the server in one pipeline with the next statement
that needs an answer, or with COMMIT. A turn that reads the update's id and the session and
writes what it did takes three: BEGIN + lock + seen?, the session, the writes + COMMIT. A
``write_one`` that changes no row fails on the server (division by zero in its guard) and
raises its conflict when the batch is sent.
"""

from __future__ import annotations

import contextlib
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from bot.storage.db import DIALECT_WORDS, Database


@dataclass(frozen=True)
class Queued:
    """A statement waiting to be sent; ``conflict``: what to raise when its guard fails."""

    sql: str
    params: tuple[Any, ...]
    conflict: Exception | None
    prefetch: bool = False  # a read whose answer is kept for the same read later


class PostgresDatabase(Database):
    dialect = "postgres"
    begin = "BEGIN"

    def __init__(self, url: str) -> None:
        self.path = url
        self.connection = self._connect()
        self.lock = threading.RLock()
        self._depth = 0
        self._statements: dict[str, str] = {}
        self._queue: list[Queued] = []  # waiting to go with the next statement (see top)
        self._prefetched: dict[tuple[str, tuple[Any, ...]], Any] = {}  # read ahead, unused

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
        """BEGIN waits to go with the transaction's first statement. If that first round
        trip finds the connection lost (a server restart, a network blip), it is made again
        on a new connection: nothing of the transaction had run, so nothing is replayed."""
        self._queue = [Queued(self.begin, (), None)]
        self._prefetched = {}

    def _end(self, statement: str) -> None:
        queue, self._queue = self._queue, []
        unsent = bool(queue) and queue[0].sql == self.begin  # the server knows of nothing
        if statement == "COMMIT":
            if unsent and len(queue) == 1:
                return
            try:
                if unsent:  # only writes: sent first, so a lost connection can be tried
                    # again; a BEGIN ... COMMIT batch may have committed before its answer
                    # was lost, and sending it again would repeat it (a message twice)
                    self._send(queue, None)
                    queue = []
                self._send(queue, (statement, ()))
            except BaseException:  # a deferred write failed (a conflict): nothing is kept
                with contextlib.suppress(psycopg.Error):
                    self.connection.execute("ROLLBACK")
                raise
        elif not unsent:  # the deferred writes are dropped with the rest
            self.connection.execute(statement)

    def defer(self, statement: str, params: Sequence[Any] = ()) -> None:
        with self.lock:
            if self._depth == 0:
                self.execute(statement, params)
            else:
                self._forget_reads(statement)
                self._queue.append(Queued(self.sql(statement), tuple(params), None))

    def prefetch(self, statement: str, params: Sequence[Any] = ()) -> None:
        """Send a read with the next round trip and keep its answer for when the same read
        comes (once); any write in between drops it."""
        with self.lock:
            if self._depth:
                self._queue.append(Queued(self.sql(statement), tuple(params), None, True))

    def _forget_reads(self, statement: str) -> None:
        if self._prefetched and statement.lstrip()[:6].upper() != "SELECT":
            self._prefetched.clear()

    def defer_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        for row in rows:
            self.defer(statement, row)

    def write_one(self, statement: str, params: Sequence[Any], conflict: Exception) -> None:
        with self.lock:
            if self._depth == 0:
                super().write_one(statement, params, conflict)
                return
            guard = (
                f"WITH written AS ({self.sql(statement)} RETURNING 1)"
                " SELECT 1 / count(*)::int FROM written"
            )
            self._prefetched.clear()
            self._queue.append(Queued(guard, tuple(params), conflict))

    def _send(self, queue: list[Queued], final: tuple[str, tuple[Any, ...]] | None) -> Any:
        """The queued statements and ``final`` in one pipeline: one round trip. Returns
        ``final``'s cursor, its results in."""
        first = bool(queue) and queue[0].sql == self.begin
        try:
            return self._pipeline(queue, final)
        except psycopg.OperationalError:
            if not first:  # inside a transaction: it is lost, the caller must see that
                raise
            with contextlib.suppress(psycopg.Error):
                self.connection.close()
            self.connection = self._connect()
            return self._pipeline(queue, final)

    def _pipeline(self, queue: list[Queued], final: tuple[str, tuple[Any, ...]] | None) -> Any:
        cursor = None
        try:
            with self.connection.pipeline():  # type: ignore[attr-defined]
                for item in queue:
                    read = self.connection.execute(item.sql, item.params)
                    if item.prefetch:
                        self._prefetched[(item.sql, item.params)] = read
                if final is not None:
                    cursor = self.connection.execute(*final)
        except psycopg.errors.DivisionByZero as error:  # a write_one's guard: no row written
            conflict = next((item.conflict for item in queue if item.conflict), None)
            if conflict is None:
                raise
            raise conflict from error
        return cursor

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        with self.lock:
            if self._prefetched:
                read = self._prefetched.pop((self.sql(statement), tuple(params)), None)
                if read is not None:
                    return read
                self._forget_reads(statement)
            if self._queue:
                queue, self._queue = self._queue, []
                return self._send(queue, (self.sql(statement), tuple(params)))
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
            with self.lock:
                self._forget_reads(statement)
                if self._queue:
                    queue, self._queue = self._queue, []
                    self._send(queue, None)
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
        """Hold a transaction-scoped advisory lock (e.g. one chat's turn across replicas);
        sent with the next statement, which runs once the lock is held."""
        self.defer(
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
