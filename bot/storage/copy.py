"""``hipbot db copy``: move a clinic's data from one database to another, row for row.

Both databases get every store's migrations first, so the tables match; then each table is
copied in one transaction per table on the target, and PostgreSQL identity counters are moved
past the copied ids. The target must be empty: copying never merges or overwrites.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.errors import StorageError
from bot.storage.db import Database
from bot.storage.sql import SqlStorage

BATCH = 1000


def copy_database(
    source: SqlStorage, target: SqlStorage, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copy every table of ``source`` into the empty ``target``; return rows per table."""
    tables = [t for t in source.db.tables() if t != "schema_migrations"]
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
        counts[table] = _copy_table(source.db, target.db, table)
        if progress is not None:
            progress(table, counts[table])
    return counts


def _columns(db: Database, table: str) -> list[str]:
    cursor = db.execute(f"SELECT * FROM {table} LIMIT 0")
    return [column[0] for column in cursor.description]


def _copy_table(source: Database, target: Database, table: str) -> int:
    columns = _columns(source, table)
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
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
            target.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            count += len(rows)
            offset += len(rows)
        if target.dialect == "postgres" and "id" in columns and count:
            target.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
    return count
