"""Data moves an operator can trust: ``db copy`` with the data key, ``db upgrade`` reading
.env, ``backup`` / ``restore`` of the SQLite default, and progress on stderr."""

from __future__ import annotations

import io
import os
import re
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import backup, crypto
from bot.conversation import Conversation
from bot.engine import Engine
from bot.features import heartbeat, load_features
from bot.loader import load_bundle
from bot.progress_bar import Progress, duration
from bot.storage import SqlStorage, open_storage
from tests.fakes.postgres import fresh_database

REPO = Path(__file__).resolve().parents[1]
PEOPLE = [str(2000 + n) for n in range(6)]
README_EXAMPLE_URL = "postgresql://hipbot:secret@db.example/hipbot"


# ---------------------------------------------------------------- helpers


def _converse(storage: SqlStorage, people: list[str]) -> None:
    """Each person answers the first symptom question (an answer that is sealed)."""
    engine = Engine(load_bundle([REPO / "flows"]))
    for person in people:
        chat = Conversation(engine, storage, person)
        chat.send("/start")
        for label in ("Open the menu", "Check my symptoms", "Start", "No"):
            chat.click(label)


def _fill(path: Path, people: list[str] = PEOPLE) -> None:
    """A database as the bot leaves it: people who answered a question, the key beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    storage = SqlStorage(str(path))
    load_features().setup(storage)
    _converse(storage, people)
    storage.close()


def _records(storage: Any, people: list[str] = PEOPLE) -> dict[str, dict[str, Any]]:
    return {person: storage.session_record(person) for person in people}


def _sqlite_records(path: Path, people: list[str] = PEOPLE) -> dict[str, dict[str, Any]]:
    storage = SqlStorage(str(path))
    try:
        return _records(storage, people)
    finally:
        storage.close()


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HIPBOT_", "TELEGRAM_")) and k != "DATABASE_URL"
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def hipbot(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=_clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from fresh_database()


# ---------------------------------------------------------------- db copy


def _readme_blocks(heading: str) -> list[str]:
    """The ``sh`` code blocks of one README section, in order."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert blocks, f"no sh block under '## {heading}' in README.md"
    return blocks


def test_readme_postgres_recipe_runs_as_written(tmp_path: Path, postgres_url: str) -> None:
    """The README's move from SQLite to PostgreSQL, run by bash as it is written (only the
    example server address is replaced by the test server's), then the copy opened the way
    a replica opens it."""
    _fill(tmp_path / "data" / "hipbot.db")
    before = _sqlite_records(tmp_path / "data" / "hipbot.db")
    recipe = _readme_blocks("PostgreSQL and several replicas")[0]
    assert recipe.count(README_EXAMPLE_URL) == 1, recipe
    script = recipe.replace(README_EXAMPLE_URL, postgres_url)
    script += '\nprintf "%s" "$HIPBOT_DATA_KEY" > the-key\n'
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sealed every answer again with the target's data key" in result.stdout
    key = (tmp_path / "the-key").read_text()
    codec = crypto.Codec([key.encode()], "HIPBOT_DATA_KEY")
    target = open_storage(postgres_url, codec)
    try:
        after = _records(target)
        sealed = target.db.one("SELECT data FROM sessions LIMIT 1")[0]
    finally:
        target.close()
    assert after == before
    assert all(record["answers"] == {"rf_fall": False} for record in after.values())
    assert crypto.is_sealed(sealed)


def test_sqlite_to_sqlite_copy_carries_the_key(tmp_path: Path) -> None:
    _fill(tmp_path / "old.db")
    result = hipbot(tmp_path, "db", "copy", "sqlite:///old.db", "sqlite:///new/hipbot.db")
    assert result.returncode == 0, result.stderr
    assert "carried the data key: wrote new/hipbot.db.key" in result.stdout
    key_file = tmp_path / "new" / "hipbot.db.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert _sqlite_records(tmp_path / "new" / "hipbot.db") == _sqlite_records(tmp_path / "old.db")


def test_copy_into_a_database_with_its_own_key_reseals(tmp_path: Path) -> None:
    _fill(tmp_path / "old.db")
    assert hipbot(tmp_path, "db", "upgrade", "sqlite:///new.db").returncode == 0
    own = crypto.key_file_codec(tmp_path / "new.db.key").keys
    result = hipbot(tmp_path, "db", "copy", "sqlite:///old.db", "sqlite:///new.db")
    assert result.returncode == 0, result.stderr
    assert "sealed every answer again with the target's data key from" in result.stdout
    assert crypto.key_file_codec(tmp_path / "new.db.key").keys == own
    assert _sqlite_records(tmp_path / "new.db") == _sqlite_records(tmp_path / "old.db")


def test_copy_shows_plain_progress_lines_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    _fill(tmp_path / "old.db")
    result = hipbot(tmp_path, "db", "copy", "sqlite:///old.db", "sqlite:///new.db")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("copying rows: ") and " done in " in lines[-1]
    assert "\r" not in result.stderr
    assert any("(100%)" in line for line in lines)


def test_copy_is_refused_while_a_bot_uses_the_source(tmp_path: Path) -> None:
    import time

    _fill(tmp_path / "old.db")
    storage = SqlStorage(str(tmp_path / "old.db"))
    load_features().setup(storage)
    heartbeat.Heartbeat()(storage, time.time())  # this test process: alive, on this host
    storage.close()
    result = hipbot(tmp_path, "db", "copy", "sqlite:///old.db", "sqlite:///new.db")
    assert result.returncode == 2
    assert "cannot copy it while a bot uses this database: '" in result.stderr
    assert f"(pid {os.getpid()} on " in result.stderr
    assert not (tmp_path / "new.db").exists()


def test_purge_shows_plain_progress_lines(tmp_path: Path) -> None:
    _fill(tmp_path / "data" / "hipbot.db", PEOPLE[:3])
    with sqlite3.connect(tmp_path / "data" / "hipbot.db") as db:  # two went quiet long ago
        db.execute("UPDATE sessions SET updated_at = 1.0 WHERE user_id IN (?, ?)", PEOPLE[:2])
    result = hipbot(tmp_path, "purge", "--days", "30")
    assert result.returncode == 0, result.stderr
    assert "erased 2 person(s) inactive for more than 30 days" in result.stdout
    lines = result.stderr.splitlines()
    assert lines[0].startswith("erasing people: 1/2 (50%)")
    assert lines[1] == "erasing people: 2/2 (100%)"
    assert lines[2].startswith("erasing people: 2/2 done in ")


def test_db_upgrade_reads_the_env_file_like_run(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite:///elsewhere/bot.db\n")
    result = hipbot(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "sqlite:///elsewhere/bot.db up to date" in result.stdout
    assert (tmp_path / "elsewhere" / "bot.db").exists()
    assert not (tmp_path / "data").exists()


# ---------------------------------------------------------------- backup and restore


def _writer(path: Path, stop: threading.Event, written: list[int]) -> None:
    """Another connection writing pairs of rows, one transaction a pair, until ``stop``."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        number = 0
        while not stop.is_set():
            connection.execute("BEGIN IMMEDIATE")
            for name in ("a", "b"):
                connection.execute(
                    "INSERT INTO flags (user_id, name, value) VALUES (?, ?, 1)",
                    (f"w{number}", name),
                )
            connection.execute("COMMIT")
            number += 1
            written.append(number)
    finally:
        connection.close()


def test_backup_while_another_connection_writes_is_consistent(tmp_path: Path) -> None:
    db = tmp_path / "hipbot.db"
    _fill(db)
    with sqlite3.connect(db) as padding:  # a few MB, so the copy takes a while
        padding.executemany(
            "INSERT INTO flags (user_id, name, value) VALUES (?, 'pad', 0)",
            [(f"p{n:06d}-" + "x" * 200,) for n in range(20_000)],
        )
    stop, written = threading.Event(), []
    thread = threading.Thread(target=_writer, args=(db, stop, written))
    thread.start()
    try:
        while not written:  # the writer is going before the backup starts
            stop.wait(0.01)
        done = backup.backup(f"sqlite:///{db}", tmp_path / "b" / "copy.db", env={})
        seen = len(written)
        while len(written) == seen:  # and still going after it ended
            stop.wait(0.01)
    finally:
        stop.set()
        thread.join()
    copy = sqlite3.connect(tmp_path / "b" / "copy.db")
    try:
        pairs = dict(
            copy.execute(
                "SELECT name, count(*) FROM flags WHERE user_id LIKE 'w%' GROUP BY name"
            ).fetchall()
        )
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        copy.close()
    assert pairs.get("a") == pairs.get("b")  # never half a transaction
    assert len(written) > pairs.get("a", 0)
    assert done.people == len(PEOPLE)
    assert done.key_file == tmp_path / "b" / "copy.db.key"
    for made in (done.file, done.key_file):
        assert stat.S_IMODE(made.stat().st_mode) == 0o600
    assert crypto.key_file_codec(done.key_file).keys == crypto.load_codec(str(db), {}).keys
    assert _sqlite_records(tmp_path / "b" / "copy.db") == _sqlite_records(db)


def test_backup_and_restore_on_the_command_line(tmp_path: Path) -> None:
    _fill(tmp_path / "data" / "hipbot.db")
    saved = _sqlite_records(tmp_path / "data" / "hipbot.db")
    made = hipbot(tmp_path, "backup", "backups/monday.db")
    assert made.returncode == 0, made.stderr
    assert f"backed up {len(PEOPLE)} people into backups/monday.db" in made.stdout
    assert "backups/monday.db.key (0600)" in made.stdout
    storage = SqlStorage(str(tmp_path / "data" / "hipbot.db"))
    storage.delete_user(PEOPLE[0])  # a change after the backup
    storage.close()

    refused = hipbot(tmp_path, "restore", "backups/monday.db")
    assert refused.returncode == 2
    assert "already holds a database (5 people)" in refused.stderr
    assert "--force" in refused.stderr

    restored = hipbot(tmp_path, "restore", "backups/monday.db", "--force")
    assert restored.returncode == 0, restored.stderr
    assert f"({len(PEOPLE)} people)" in restored.stdout
    assert _sqlite_records(tmp_path / "data" / "hipbot.db") == saved


def test_restore_with_the_wrong_key_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    _fill(tmp_path / "data" / "hipbot.db")
    assert hipbot(tmp_path, "backup", "monday.db").returncode == 0
    crypto.write_key_file(tmp_path / "other.key", [crypto.new_key().encode()])
    live = _sqlite_records(tmp_path / "data" / "hipbot.db", PEOPLE[:1])
    result = hipbot(tmp_path, "restore", "monday.db", "--key", "other.key", "--force")
    assert result.returncode == 2
    assert (
        "the key from other.key cannot open the data in monday.db: it is not the key that "
        "was saved with this backup" in result.stderr
    )
    assert "nothing was changed" in result.stderr
    assert _sqlite_records(tmp_path / "data" / "hipbot.db", PEOPLE[:1]) == live


def test_restore_into_an_empty_place_carries_the_backups_key(tmp_path: Path) -> None:
    _fill(tmp_path / "old" / "hipbot.db")
    done = backup.backup(f"sqlite:///{tmp_path / 'old' / 'hipbot.db'}", tmp_path / "b.db", env={})
    sentence = backup.restore(f"sqlite:///{tmp_path / 'new.db'}", tmp_path / "b.db", env={})
    assert f"its key is now first in {tmp_path / 'new.db.key'}" in sentence
    assert done.key_file is not None
    assert crypto.key_file_codec(tmp_path / "new.db.key").keys == (
        crypto.key_file_codec(done.key_file).keys
    )
    assert _sqlite_records(tmp_path / "new.db") == _sqlite_records(tmp_path / "old" / "hipbot.db")


def test_restore_is_refused_while_a_bot_uses_the_database(tmp_path: Path) -> None:
    _fill(tmp_path / "hipbot.db")
    backup.backup(f"sqlite:///{tmp_path / 'hipbot.db'}", tmp_path / "b.db", env={})
    storage = SqlStorage(str(tmp_path / "hipbot.db"))
    load_features().setup(storage)
    heartbeat.Heartbeat()(storage, 1000.0)  # this process, alive
    storage.close()
    with pytest.raises(heartbeat.BotRunning, match=r"pid \d+ on .*last seen 5 s ago"):
        backup.restore(
            f"sqlite:///{tmp_path / 'hipbot.db'}", tmp_path / "b.db", force=True, now=1005.0
        )
    # the same row, not refreshed for longer than STALE_AFTER: that bot is gone
    later = 1000.0 + heartbeat.STALE_AFTER + 1
    backup.restore(
        f"sqlite:///{tmp_path / 'hipbot.db'}", tmp_path / "b.db", force=True, now=later, env={}
    )


def test_backup_of_postgresql_points_to_pg_dump(tmp_path: Path) -> None:
    result = hipbot(tmp_path, "backup", "x.db", DATABASE_URL="postgresql://h@db/x")
    assert result.returncode == 2
    assert "pg_dump" in result.stderr and not (tmp_path / "x.db").exists()


def _run_line(line: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", line],
        cwd=cwd,
        env=_clean_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{line}\n{result.stdout}{result.stderr}"
    return result


def test_readme_sqlite_backup_recipe_runs_as_written(tmp_path: Path) -> None:
    """The README's backup line, a change, then its restore line: the change is undone."""
    backup_line, restore_line = _readme_blocks("Backup")[0].strip().splitlines()
    db = tmp_path / "data" / "hipbot.db"
    _fill(db)
    saved = _sqlite_records(db)
    _run_line(backup_line, tmp_path)
    storage = SqlStorage(str(db))
    storage.delete_user(PEOPLE[0])
    storage.close()
    _run_line(restore_line, tmp_path)
    assert _sqlite_records(db) == saved


def _postgres_tools() -> str | None:
    """A PATH with pg_dump on it (Debian keeps it in /usr/lib/postgresql/N/bin), or None."""
    path = os.environ.get("PATH", "")
    for folder in [
        *path.split(os.pathsep),
        *sorted(map(str, Path("/usr/lib/postgresql").glob("*/bin"))),
    ]:
        if (Path(folder) / "pg_dump").exists() and (Path(folder) / "pg_restore").exists():
            return f"{folder}{os.pathsep}{path}"
    return None


def test_readme_postgres_backup_recipe_runs_as_written(tmp_path: Path, postgres_url: str) -> None:
    tools = _postgres_tools()
    if tools is None:
        pytest.skip("pg_dump and pg_restore are not installed")
    dump_line, restore_line = _readme_blocks("Backup")[1].strip().splitlines()
    key = crypto.new_key()
    codec = crypto.Codec([key.encode()], "HIPBOT_DATA_KEY")
    storage = open_storage(postgres_url, codec)
    assert isinstance(storage, SqlStorage)
    load_features().setup(storage)
    _converse(storage, PEOPLE[:2])
    saved = _records(storage, PEOPLE[:2])
    environment = {"DATABASE_URL": postgres_url, "HIPBOT_DATA_KEY": key, "PATH": tools}
    _run_line(dump_line, tmp_path, **environment)
    storage.delete_user(PEOPLE[0])
    storage.close()
    _run_line(restore_line, tmp_path, **environment)
    storage = open_storage(postgres_url, codec)
    try:
        assert _records(storage, PEOPLE[:2]) == saved
    finally:
        storage.close()


# ---------------------------------------------------------------- progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_progress_lines_each_tenth_with_time_left() -> None:
    out, clock = io.StringIO(), Clock()
    bar = Progress("sealing again", 200, out, clock, tty=False)
    for _ in range(200):
        clock.now += 0.5
        bar.advance()
    bar.finish()
    lines = out.getvalue().splitlines()
    assert lines[0] == "sealing again: 20/200 (10%), 1:30 left"
    assert lines[4] == "sealing again: 100/200 (50%), 0:50 left"
    assert lines[9] == "sealing again: 200/200 (100%)"
    assert lines[10] == "sealing again: 200/200 done in 1:40"
    assert len(lines) == 11


def test_terminal_progress_is_one_redrawn_bar() -> None:
    out, clock = io.StringIO(), Clock()
    bar = Progress("copying rows", 1000, out, clock, tty=True)
    clock.now += 10
    bar.update(250)
    text = out.getvalue()
    assert text == "\rcopying rows  [######..................]  250/1,000   25%  0:30 left"
    bar.update(1000)
    bar.finish("ok")
    last = out.getvalue().split("\r")[-1]
    assert last.endswith("\n") and last.rstrip() == "copying rows: 1,000/1,000 done in 0:10; ok"


def test_durations() -> None:
    assert [duration(s) for s in (0, 59.4, 61, 3600, 7325)] == [
        "0:00",
        "0:59",
        "1:01",
        "1:00:00",
        "2:02:05",
    ]


# ---------------------------------------------------------------- broadcast status --follow


def test_broadcast_status_follow_shows_progress_until_done(tmp_path: Path) -> None:
    import asyncio

    from bot.features.clinics.cli import follow_broadcast
    from tests.fakes.clinics import FakeBot, World
    from tests.test_broadcast import queue, sender_for, setup_clinic

    world = World(str(tmp_path / "bot.db"))
    clinic_id, users = setup_clinic(world, 40)
    draft = queue(world, clinic_id)
    fake = FakeBot()
    rounds: list[int] = []

    def sleep(seconds: float) -> None:  # the running bot's work between two looks
        from bot.features.clinics import broadcast as bc

        rounds.append(bc.sweep(world.storage, world.now, rate=2))
        asyncio.run(sender_for(world, fake).send_due())  # a sender per event loop

    out, clock = io.StringIO(), Clock()
    state = follow_broadcast(world.storage, draft, sleep, out, clock, tty=False)
    assert state == "done"
    assert len(rounds) > 2  # it followed several rounds, not one look
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"broadcast #{draft}: ") and "(" in lines[0]
    assert lines[-1] == (
        f"broadcast #{draft}: 40/40 done in 0:00; done: queued 0, sent 40, failed 0, "
        "blocked 0, skipped 0"
    )
    assert len(fake.received) == len(users)
    world.storage.close()

    # on the command line, following a finished broadcast ends at once with its status
    result = hipbot(
        tmp_path, "broadcast", "status", str(draft), "--follow", "--db", "sqlite:///bot.db"
    )
    assert result.returncode == 0, result.stderr
    assert f"broadcast #{draft}: done" in result.stdout
    assert result.stderr.splitlines()[-1].startswith(f"broadcast #{draft}: 40/40 done in ")


def test_progress_that_fails_says_nothing_is_done() -> None:
    out = io.StringIO()
    with pytest.raises(RuntimeError), Progress("copying rows", 10, out, Clock(), tty=False) as bar:
        bar.advance(3)
        raise RuntimeError("the target is not empty")
    assert "done" not in out.getvalue()
