"""Which bot processes are using a database now: a row each, kept fresh while they run.

``hipbot run`` (and ``hipbot chat``) write a row in ``bot_processes`` through a feature job
every ``BEAT_EVERY`` seconds and delete it when they stop. Commands that must not run beside
a bot (``hipbot keys rotate``: a running bot keeps sealing with the key it loaded at start,
which rotation then drops; ``hipbot restore``) call ``refuse_while_running``: it names each
live process (host, pid, command, when last seen) and how to stop it. A row is stale when it
was not refreshed for ``STALE_AFTER`` seconds, or when its process is gone from this host;
``--force`` skips the check for a row that only looks alive.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.features import Feature, Ports
    from bot.storage.db import Database
    from bot.storage.sql import SqlStorage

BEAT_EVERY = 10.0  # seconds between refreshes of a running bot's row
STALE_AFTER = 60.0  # a row not refreshed for this long is a process that is gone
TABLE = "bot_processes"
MIGRATIONS = [
    f"""
    CREATE TABLE {TABLE} (
        id         TEXT PRIMARY KEY,
        host       TEXT NOT NULL,
        pid        INTEGER NOT NULL,
        command    TEXT NOT NULL,
        started_at {{real}} NOT NULL,
        seen_at    {{real}} NOT NULL
    )
    """,
]


class BotRunning(ConfigError):
    """A bot process is using the database, so this command must wait."""


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    command: str
    started_at: float
    seen_at: float

    def describe(self, now: float) -> str:
        return (
            f"'{self.command}' (pid {self.pid} on {self.host}, last seen "
            f"{max(0, round(now - self.seen_at))} s ago)"
        )


def migrate(db: Database) -> None:
    db.migrate("heartbeat", MIGRATIONS)


def _command() -> str:
    """How this process was started, for messages: 'hipbot run', 'hipbot chat', ..."""
    first = sys.argv[0] if sys.argv else "python"
    name = "hipbot" if first.endswith(("bot/__main__.py", "hipbot")) else os.path.basename(first)
    return " ".join([name, *sys.argv[1:]])[:200]


class Heartbeat:
    """A feature job: keeps this process's row fresh (at most every ``BEAT_EVERY`` seconds)."""

    __name__ = "heartbeat"

    def __init__(self) -> None:
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.id = f"{self.host}:{self.pid}:{time.time():.6f}"
        self.command = _command()
        self.started_at = 0.0
        self.last = 0.0
        self._forget: Callable[[], None] | None = None

    def __call__(self, storage: SqlStorage, now: float) -> int:
        if self.last and 0 <= now - self.last < BEAT_EVERY:
            return 0
        if not self.started_at:
            self.started_at = now
        with storage.db.transaction() as db:
            db.execute(
                f"INSERT INTO {TABLE} (id, host, pid, command, started_at, seen_at)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
                (self.id, self.host, self.pid, self.command, self.started_at, now),
            )
        self.last = now
        if self._forget is None:
            self._forget = lambda: forget(storage.db.path, self.id)
            atexit.register(self._forget)
        return 0


def forget(url_or_path: str, row_id: str) -> None:
    """Delete this process's row as it exits (its own connection: the bot's is closed)."""
    from bot.storage.db import Database

    with contextlib.suppress(Exception):
        if "://" in url_or_path:
            from bot.storage.postgres import PostgresDatabase

            db: Database = PostgresDatabase(url_or_path)
        else:
            db = Database(url_or_path)
        try:
            db.execute(f"DELETE FROM {TABLE} WHERE id = ?", (row_id,))
        finally:
            db.close()


def _gone(holder: Holder) -> bool:
    """True when the process is known not to run: same host and no such pid."""
    if holder.host != socket.gethostname():
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def holders(db: Database, now: float) -> list[Holder]:
    """The processes that use the database now (fresh rows of processes not known gone)."""
    if TABLE not in db.tables():
        return []
    rows = db.all(
        f"SELECT host, pid, command, started_at, seen_at FROM {TABLE}"
        " WHERE seen_at > ? ORDER BY started_at",
        (now - STALE_AFTER,),
    )
    found = [Holder(str(h), int(p), str(c), float(s), float(seen)) for h, p, c, s, seen in rows]
    return [holder for holder in found if not _gone(holder)]


def refuse_while_running(
    db: Database, now: float, doing: str, force: bool = False, forceable: bool = True
) -> None:
    """Raise ``BotRunning`` naming every live bot process, unless ``force``. ``forceable``:
    whether the command has a --force that skips this check (the message says so)."""
    if force:
        return
    live = holders(db, now)
    if not live:
        return
    names = "; ".join(holder.describe(now) for holder in live)
    pids = " ".join(str(holder.pid) for holder in live)
    raise BotRunning(
        f"cannot {doing} while a bot uses this database: {names}. Stop it first (Ctrl-C, "
        f"'kill {pids}', or 'docker stop' / 'systemctl stop' for a service), then run this "
        f"again. If that process is already gone (a crash on another machine), wait "
        f"{STALE_AFTER:.0f} s" + (" or add --force" if forceable else "")
    )


def feature() -> Feature:
    """The heartbeat as a feature: its table, and a job that runs with the sweeps."""
    from bot.features import Feature

    beat = Heartbeat()

    def heartbeat(ports: Ports, now: float) -> int:
        return beat(ports.storage, now)

    return Feature(
        name="heartbeat", setup=lambda ports: migrate(ports.storage.db), jobs=[heartbeat]
    )
