"""``hipbot db copy``: move a clinic's data from one database to another, row for row.

Both databases get every store's migrations first, so the tables match; then each table is
copied in one transaction per table on the target, and PostgreSQL identity counters are moved
past the copied ids. The target must be empty: copying never merges or overwrites.

Sealed answers need a key on each side (``plan_keys``):

* the source opens with the key file beside a SQLite source (``<file>.key``, where the bot
  made it), the configured keys (``HIPBOT_DATA_KEY`` / ``HIPBOT_DATA_KEY_FILE``), or a key
  file named on the command line, whichever of them open it;
* the target uses the keys configured for it, as ``hipbot run`` will: sealed values are
  opened with the source's key and sealed again with the target's. A SQLite target with no
  key configured and no key file yet gets the source's key file carried over, and the
  values are copied as they are.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import crypto
from bot.errors import StorageError
from bot.storage.db import Database
from bot.storage.sql import SqlStorage

BATCH = 1000
NOT_COPIED = frozenset({"schema_migrations", "bot_processes"})  # per database, not data


@dataclass(frozen=True)
class KeyPlan:
    """Which keys open the source and seal the target, and what the operator is told."""

    source: crypto.Codec
    target: crypto.Codec
    carry_to: Path | None  # write the source's keys here after the copy (SQLite target)

    @property
    def reseal(self) -> bool:
        return self.source.keys != self.target.keys

    def sentence(self) -> str:
        if self.carry_to is not None:
            return (
                f"carried the data key: wrote {self.carry_to} (the keys of {self.source.origin});"
                " sealed values were copied as they are"
            )
        if not self.reseal:
            return f"the same data key ({self.target.origin}) opens both: values copied as they are"
        return (
            f"sealed every answer again with the target's data key from {self.target.origin}"
            f" (opened with {self.source.origin})"
        )


def _database_path(url: str) -> str:
    from bot.storage import sqlite_path

    return sqlite_path(url) or url


def source_codec(
    url: str, env: Mapping[str, str] | None = None, key_file: Path | None = None
) -> crypto.Codec:
    """Every key that may open the source: a named key file, else the file beside a SQLite
    source, and the configured keys."""
    env = os.environ if env is None else env
    if key_file is not None:
        return crypto.key_file_codec(key_file)
    path = _database_path(url)
    keys: list[bytes] = []
    origins: list[str] = []
    beside = crypto.default_key_file(path)
    if beside is not None and beside.exists():
        found = crypto.key_file_codec(beside)
        keys += found.keys
        origins.append(found.origin)
    if crypto.configured_key(env) or not keys:
        configured = crypto.load_codec(path, env)
        keys += [key for key in configured.keys if key not in keys]
        origins.append(configured.origin)
    return crypto.Codec(keys, " and ".join(origins), beside if len(origins) == 1 else None)


def plan_keys(
    source_url: str,
    target_url: str,
    env: Mapping[str, str] | None = None,
    source_key_file: Path | None = None,
) -> KeyPlan:
    env = os.environ if env is None else env
    source = source_codec(source_url, env, source_key_file)
    target_path = _database_path(target_url)
    beside = crypto.default_key_file(target_path)
    if not crypto.configured_key(env) and beside is not None and not beside.exists():
        return KeyPlan(source, crypto.Codec(source.keys, str(beside), beside), beside)
    return KeyPlan(source, crypto.load_codec(target_path, env), None)


def finish_keys(plan: KeyPlan) -> None:
    """After a copy: write the carried key file (0600)."""
    if plan.carry_to is not None:
        crypto.write_key_file(plan.carry_to, plan.source.keys)


def row_count(db: Database) -> int:
    """Rows ``copy_database`` will copy (for its progress bar)."""
    return sum(
        int(db.one(f"SELECT count(*) FROM {table}")[0])
        for table in db.tables()
        if table not in NOT_COPIED
    )


def copy_database(
    source: SqlStorage,
    target: SqlStorage,
    progress: Callable[[str, int], None] | None = None,
    plan: KeyPlan | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Copy every table of ``source`` into the empty ``target``; return rows per table.

    With a ``plan`` that re-seals, sealed columns are opened with its source keys and sealed
    with its target keys. ``progress`` hears each finished table, ``on_rows`` each batch."""
    tables = [t for t in source.db.tables() if t not in NOT_COPIED]
    missing = sorted(set(tables) - set(target.db.tables()))
    if missing:
        raise StorageError(f"the target has no tables {missing}: run 'hipbot db upgrade' on it")
    for table in tables:
        if target.db.one(f"SELECT count(*) FROM {table}")[0]:
            raise StorageError(
                f"the target's table {table!r} is not empty: copy into a new database"
            )
    counts: dict[str, int] = {}
    for table in tables:
        counts[table] = _copy_table(source.db, target.db, table, plan, on_rows)
        if progress is not None:
            progress(table, counts[table])
    return counts


def _columns(db: Database, table: str) -> list[str]:
    cursor = db.execute(f"SELECT * FROM {table} LIMIT 0")
    return [column[0] for column in cursor.description]


def _resealer(
    table: str, columns: list[str], plan: KeyPlan | None
) -> Callable[[Sequence[Any]], Sequence[Any]] | None:
    """A row transform sealing the table's sealed columns with the target key, or None."""
    if plan is None or not plan.reseal:
        return None
    sealed = [
        columns.index(c.column)
        for c in crypto.SEALED_COLUMNS.values()
        if c.table == table and c.column in columns
    ]
    if not sealed:
        return None
    source, target = plan.source, plan.target

    def reseal(row: Sequence[Any]) -> Sequence[Any]:
        values = list(row)
        for index in sealed:
            if values[index] is not None:
                values[index] = target.seal(source.open(values[index]))
        return values

    return reseal


def _copy_table(
    source: Database,
    target: Database,
    table: str,
    plan: KeyPlan | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> int:
    columns = _columns(source, table)
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    transform = _resealer(table, columns, plan)
    count = 0
    with target.transaction():
        offset = 0
        while True:
            rows = source.all(
                f"SELECT {names} FROM {table} ORDER BY 1 LIMIT ? OFFSET ?",
                (BATCH, offset),
            )
            if not rows:
                break
            if transform is not None:
                rows = [transform(row) for row in rows]
            target.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            count += len(rows)
            offset += len(rows)
            if on_rows is not None:
                on_rows(len(rows))
        if target.dialect == "postgres" and "id" in columns and count:
            target.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
    return count
