"""``hipbot doctor``: one line per check with a verdict, exit 1 on any problem; against a real
SQLite file and (``--online``) the fake Bot API."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import crypto, doctor
from bot.engine import Engine
from bot.features import load_features
from bot.loader import load_bundle
from bot.model import Event
from bot.storage import SqlStorage
from bot.storage.db import Database
from tests.fakes.bot_api import DEFAULT_TOKEN, FakeBotApi
from tests.fakes.postgres import fresh_database

ROOT = Path(__file__).resolve().parent.parent

CHECKS = ["configuration", "database", "migrations", "data key", "flows"]


def run_doctor(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HIPBOT_", "TELEGRAM_")) and k != "DATABASE_URL"
    }
    clean["DATABASE_URL"] = f"sqlite:///{tmp_path / 'bot.db'}"
    return subprocess.run(
        [sys.executable, "-m", "bot", "doctor", *args],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def verdicts(output: str) -> dict[str, str]:
    """check name -> its whole line, for the lines of the checks."""
    found = {}
    for line in output.splitlines():
        state, _, rest = line.partition(" ")
        if state in ("ok", "PROBLEM", "skipped"):
            found[rest.strip().split(":", 1)[0]] = line
    return found


def ready_database(tmp_path: Path) -> Path:
    """A database as ``hipbot run`` leaves it: every migration, a sealed session."""
    path = tmp_path / "bot.db"
    storage = SqlStorage(str(path))
    load_features().setup(storage)
    engine = Engine(load_bundle([str(ROOT / "flows")]))
    storage.commit_turn(engine.handle(None, Event.start(), "1").session, now=0.0)
    storage.close()
    return path


def test_a_ready_installation_passes_every_check(tmp_path: Path) -> None:
    ready_database(tmp_path)
    result = run_doctor(tmp_path)
    assert result.returncode == 0, result.stdout
    lines = verdicts(result.stdout)
    assert list(lines) == CHECKS
    assert all(line.startswith("ok ") for line in lines.values())
    assert "opens the stored data" in lines["data key"]
    assert result.stdout.rstrip().endswith("all good")


def test_pending_migrations_are_named(tmp_path: Path) -> None:
    path = ready_database(tmp_path)
    db = Database(str(path))
    db.execute("DELETE FROM schema_migrations WHERE store = 'privacy' AND version = 2")
    db.execute("DELETE FROM schema_migrations WHERE store = 'reminders'")
    db.close()
    result = run_doctor(tmp_path)
    assert result.returncode == 1
    line = verdicts(result.stdout)["migrations"]
    assert line.startswith("PROBLEM  migrations: 2 pending: privacy #2, reminders #1.")
    assert "Fix: run 'hipbot db upgrade'" in line
    assert result.stdout.rstrip().endswith("1 problem(s)")


def test_a_missing_database_is_a_problem_and_is_not_created(tmp_path: Path) -> None:
    result = run_doctor(tmp_path)
    assert result.returncode == 1
    assert "PROBLEM  database: no database file at" in verdicts(result.stdout)["database"]
    assert not (tmp_path / "bot.db").exists() and not (tmp_path / "bot.db.key").exists()


def test_a_wrong_data_key_is_a_problem(tmp_path: Path) -> None:
    ready_database(tmp_path)
    result = run_doctor(tmp_path, HIPBOT_DATA_KEY=crypto.new_key())
    assert result.returncode == 1
    assert verdicts(result.stdout)["data key"].startswith("PROBLEM  data key: ")
    key_file = tmp_path / "bot.db.key"
    key_file.unlink()
    gone = verdicts(run_doctor(tmp_path).stdout)["data key"]
    assert gone.startswith(f"PROBLEM  data key: {key_file} is missing but data is sealed")


def test_wrong_configuration_is_named_and_the_rest_is_skipped(tmp_path: Path) -> None:
    result = run_doctor(tmp_path, HIPBOT_ALLOW_PAID_BROADCAST="maybe")
    assert result.returncode == 1
    lines = verdicts(result.stdout)
    assert "HIPBOT_ALLOW_PAID_BROADCAST='maybe' is not accepted" in lines["configuration"]
    assert lines["database"].startswith("skipped")
    assert result.stdout.rstrip().endswith("1 problem(s)")


def test_broken_flows_are_a_problem(tmp_path: Path) -> None:
    ready_database(tmp_path)
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "bad.yaml").write_text("flow: bad\nstart: nowhere\nsteps: {}\n")
    result = run_doctor(tmp_path, HIPBOT_FLOWS=str(flows))
    assert result.returncode == 1
    line = verdicts(result.stdout)["flows"]
    assert line.startswith("PROBLEM  flows: ") and "hipbot validate" in line


@pytest.mark.parametrize("token_ok", [True, False], ids=["accepted", "refused"])
def test_online_asks_telegram_about_the_token(
    fake: FakeBotApi, tmp_path: Path, token_ok: bool
) -> None:
    ready_database(tmp_path)
    token = DEFAULT_TOKEN if token_ok else "42:WrongTokenForTheFake"
    result = run_doctor(
        tmp_path, "--online", TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_BASE_URL=fake.base_url
    )
    line = verdicts(result.stdout)["bot token"]
    assert len(fake.calls("getMe")) == 1
    assert token not in result.stdout  # the token is never printed
    if token_ok:
        assert result.returncode == 0 and line.startswith("ok       bot token: Telegram knows it")
    else:
        assert result.returncode == 1 and "refused the token (401)" in line


def test_online_says_when_telegram_cannot_be_reached(tmp_path: Path) -> None:
    ready_database(tmp_path)
    unused = "http://127.0.0.1:9/bot"  # the discard port: nothing listens
    result = run_doctor(
        tmp_path, "--online", TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN, TELEGRAM_API_BASE_URL=unused
    )
    assert result.returncode == 1
    assert "PROBLEM  bot token: cannot reach 127.0.0.1:9" in result.stdout


def test_every_store_migrations_are_checked() -> None:
    from bot.features import load_features

    storage = SqlStorage(":memory:")
    load_features().setup(storage)
    rows = storage.db.all("SELECT store, max(version) FROM schema_migrations GROUP BY store")
    storage.close()
    expected = {store: len(scripts) for store, scripts in doctor.migrations().items()}
    assert dict(rows) == expected


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from fresh_database()


def test_a_postgresql_database_is_checked_with_its_key(tmp_path: Path, postgres_url: str) -> None:
    key = crypto.new_key()
    empty = run_doctor(tmp_path, DATABASE_URL=postgres_url, HIPBOT_DATA_KEY=key)
    assert empty.returncode == 1
    every = sum(len(scripts) for scripts in doctor.migrations().values())
    assert f"PROBLEM  migrations: {every} pending: core #1, core #2, core #3" in empty.stdout
    upgrade = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade", postgres_url],
        env={**os.environ, "HIPBOT_DATA_KEY": key},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    ready = run_doctor(tmp_path, DATABASE_URL=postgres_url, HIPBOT_DATA_KEY=key)
    assert ready.returncode == 0, ready.stdout
    assert "ok       database: reachable (127.0.0.1:" in ready.stdout  # no user or password
    keyless = run_doctor(tmp_path, DATABASE_URL=postgres_url)
    assert "PROBLEM  data key: a database server needs the data key set" in keyless.stdout
