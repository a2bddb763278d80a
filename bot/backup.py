"""``hipbot backup FILE`` and ``hipbot restore FILE`` for the SQLite default.

A backup is one self-contained SQLite file made with SQLite's online backup API in a single
step: one read transaction, so the copy is the database as it was at one moment, while the
bot goes on writing (WAL mode lets writers carry on beside a reader). The copy's integrity is
checked and its data key is tried on it before it is put in place (0600).

Its data key is handled explicitly: the keys that open it are written to ``FILE.key``
(0600), or to ``--key-out``; with ``--no-key`` none is written and the operator is told which
key it needs. ``FILE.key`` is the name the bot itself looks for beside a database, so
``DATABASE_URL=sqlite:///FILE hipbot chat`` opens a backup as it is.

A restore checks the backup (integrity, and that its key opens its data: a wrong key is
refused with a sentence), refuses to replace a database that holds data unless ``--force``,
and refuses while a bot uses it (``bot.features.heartbeat``). It writes the data through SQLite's
backup API into the live file (so a stale write-ahead log cannot win) and puts the backup's
keys first in the database's key file, keeping the old ones after them.

PostgreSQL is backed up with its own tools (``pg_dump`` / ``pg_restore``): see the README.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot import crypto
from bot.errors import ConfigError
from bot.features import heartbeat
from bot.storage.db import Database

PG_HINT = (
    "hipbot backup and restore copy the SQLite default; back up PostgreSQL with pg_dump and "
    "pg_restore (see 'Backup' in the README), and keep HIPBOT_DATA_KEY with the dump"
)


@dataclass(frozen=True)
class BackupResult:
    file: Path
    key_file: Path | None
    key_origin: str
    people: int


def _sqlite_file(url: str) -> Path:
    from bot.storage import sqlite_path

    path = sqlite_path(url)
    if path is None:
        raise ConfigError(f"DATABASE_URL is {url.split('://')[0]}://...: {PG_HINT}")
    if path == ":memory:":
        raise ConfigError("DATABASE_URL is an in-memory database: there is nothing to back up")
    return Path(path)


def _people(db: Database) -> int:
    return int(db.one("SELECT count(*) FROM sessions")[0]) if "sessions" in db.tables() else 0


def _copy(source: Path, target: Path, read_only: bool = False) -> None:
    """SQLite's backup API, in one step (one consistent read of the source)."""
    uri = f"file:{source}?mode=ro" if read_only else f"file:{source}"
    src = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _settle(path: Path, codec: crypto.Codec) -> int:
    """Check a copied file: the key opens it, no process rows, one file (no WAL), intact."""
    db = Database(str(path))
    try:
        crypto.check_all_readable(db, codec)
        if heartbeat.TABLE in db.tables():
            db.execute(f"DELETE FROM {heartbeat.TABLE}")
        people = _people(db)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode = DELETE")
        verdict = db.one("PRAGMA integrity_check")[0]
    finally:
        db.close()
    if verdict != "ok":
        raise ConfigError(f"the copy in {path} failed SQLite's integrity check: {verdict}")
    return int(people)


def _temp_beside(path: Path) -> Path:
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(handle)
    os.chmod(name, 0o600)
    return Path(name)


def _discard(path: Path) -> None:
    for extra in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{extra}").unlink()


def backup(
    url: str,
    out: Path,
    key_out: Path | None = None,
    write_key: bool = True,
    force: bool = False,
    env: Mapping[str, str] | None = None,
) -> BackupResult:
    """Copy the SQLite database of ``url`` into ``out`` while the bot may be running."""
    source = _sqlite_file(url)
    if not source.exists():
        raise ConfigError(f"there is no database at {source} (from DATABASE_URL) to back up")
    key_file = (key_out or crypto.default_key_file(str(out))) if write_key else None
    for existing in (out, key_file):
        if existing is not None and existing.exists() and not force:
            raise ConfigError(f"{existing} exists already: choose a new name or add --force")
    codec = crypto.load_codec(str(source), env)
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_beside(out)
    try:
        _copy(source, temp)
        people = _settle(temp, codec)
        os.replace(temp, out)
    except BaseException:
        _discard(temp)
        raise
    if key_file is not None:
        crypto.write_key_file(key_file, codec.keys)
    return BackupResult(out, key_file, codec.origin, people)


def backup_key(file: Path, key: Path | None, env: Mapping[str, str] | None = None) -> crypto.Codec:
    """The keys to open a backup: ``--key``, else ``FILE.key``, else the configured ones."""
    if key is not None:
        return crypto.key_file_codec(key)
    beside = crypto.default_key_file(str(file))
    if beside is not None and beside.exists():
        return crypto.key_file_codec(beside)
    if crypto.configured_key(env):
        return crypto.load_codec(str(file), env)
    raise crypto.DataKeyError(
        f"there is no key for {file}: give the key file saved with it (--key FILE; "
        f"'hipbot backup' wrote it as {beside})"
    )


def restore(
    url: str,
    file: Path,
    key: Path | None = None,
    force: bool = False,
    now: float = 0.0,
    env: Mapping[str, str] | None = None,
) -> str:
    """Put the backup ``file`` in place of the SQLite database of ``url``; a sentence."""
    target = _sqlite_file(url)
    if not file.is_file():
        raise ConfigError(f"there is no backup file {file}")
    codec = backup_key(file, key, env)
    if target.exists():
        _check_replaceable(target, now, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_beside(target)
    try:
        try:
            _copy(file, temp, read_only=True)
        except sqlite3.DatabaseError as error:
            raise ConfigError(f"{file} is not a SQLite backup: {error}") from error
        try:
            people = _settle(temp, codec)
        except crypto.DataKeyError as error:
            raise crypto.DataKeyError(
                f"the key from {codec.origin} cannot open the data in {file}: it is not the "
                "key that was saved with this backup. Give that one with --key FILE; "
                "nothing was changed"
            ) from error
        key_note = _install_key(target, temp, codec, env)
        _copy(temp, target)
    finally:
        _discard(temp)
    return f"restored {file} into {target} ({people} people); {key_note}"


def _check_replaceable(target: Path, now: float, force: bool) -> None:
    db = Database(str(target))
    try:
        heartbeat.refuse_while_running(db, now, f"restore over {target}", forceable=False)
        people = _people(db)
        tables = db.tables()
    finally:
        db.close()
    if tables and not force:
        raise ConfigError(
            f"{target} already holds a database ({people} people): restoring replaces all of "
            f"it. Back it up first ('hipbot backup FILE'), then add --force"
        )


def _install_key(
    target: Path, copy: Path, codec: crypto.Codec, env: Mapping[str, str] | None
) -> str:
    """Make the database's key settings open the restored data, or refuse."""
    if crypto.configured_key(env):
        configured = crypto.load_codec(str(target), env)
        db = Database(str(copy))
        try:
            crypto.check_all_readable(db, configured)
        except crypto.DataKeyError as error:
            raise crypto.DataKeyError(
                f"the backup opens with the key from {codec.origin}, but the bot is set to use "
                f"{configured.origin}, which does not open it: put the backup's key first in "
                f"{configured.origin} (keep the old one after it), then restore again"
            ) from error
        finally:
            db.close()
        return f"it opens with the configured key ({configured.origin})"
    key_file = crypto.default_key_file(str(target))
    assert key_file is not None  # a file database
    old: tuple[bytes, ...] = ()
    if key_file.exists():
        old = crypto.key_file_codec(key_file).keys
    crypto.write_key_file(key_file, [*codec.keys, *(k for k in old if k not in codec.keys)])
    return f"its key is now first in {key_file}"
