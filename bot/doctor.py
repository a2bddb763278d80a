"""``hipbot doctor``: is this installation ready to run? One line per check, with a verdict.

Checks, in order: the configuration (every variable, bot.settings), the database (reachable,
every migration applied: pending ones are named), the data key (there, and it opens what is
stored), the flows (they validate) and, with ``--online``, the bot token (Telegram says whose it is).
A check that needs an earlier one that failed is skipped and says why. Nothing is changed:
no database file, key file or table is made.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.errors import ConfigError, FlowErrors
from bot.settings import Settings, load_settings
from bot.storage.db import Database
from bot.telegram.token import who_am_i_url

GET_ME_TIMEOUT = 10.0


@dataclass(frozen=True)
class Verdict:
    check: str
    ok: bool
    detail: str
    fix: str = ""
    skipped: bool = False  # not run: an earlier check it needs failed (not a problem itself)

    def line(self) -> str:
        if self.skipped:
            return f"skipped  {self.check}: {self.detail}"
        if self.ok:
            return f"ok       {self.check}: {self.detail}"
        return f"PROBLEM  {self.check}: {self.detail}" + (f". Fix: {self.fix}" if self.fix else "")


def migrations() -> dict[str, Sequence[str]]:
    """Every store's migrations, as ``hipbot db upgrade`` applies them."""
    from bot.features import heartbeat
    from bot.features.clinics import store as clinics
    from bot.features.privacy import chat as privacy_feature
    from bot.features.progress import store as progress
    from bot.features.reminders import store as reminders
    from bot.storage.migrations import CORE

    return {
        "core": CORE,
        clinics.STORE: clinics.MIGRATIONS,
        privacy_feature.STORE: privacy_feature.MIGRATIONS,
        "reminders": reminders.MIGRATIONS,
        "heartbeat": heartbeat.MIGRATIONS,
        progress.STORE: progress.MIGRATIONS,
    }


def check_configuration() -> tuple[Verdict, Settings | None]:
    try:
        settings = load_settings()
    except ConfigError as error:
        text = " ".join(str(error).split())
        fix = "correct the variable(s) named, in the environment or in .env"
        return Verdict("configuration", False, text, fix), None
    where = "this environment and .env" if Path(".env").is_file() else "this environment"
    return Verdict("configuration", True, f"every variable accepted (from {where})"), settings


def sqlite_path(url: str) -> str | None:
    """The file of a ``sqlite://`` URL, as ``open_storage`` reads it; None otherwise."""
    if not url.startswith("sqlite://"):
        return None
    path = url.removeprefix("sqlite://").removeprefix("/")
    if url.startswith("sqlite:////"):
        path = "/" + path.lstrip("/")
    return path


def open_database(url: str) -> Database:
    """The database at ``url`` without creating or migrating anything (raises on failure)."""
    path = sqlite_path(url)
    if path is not None:
        if path in ("", ":memory:") or not Path(path).is_file():
            raise FileNotFoundError(f"no database file at {path or ':memory:'}")
        return Database(path)
    if url.startswith(("postgresql://", "postgres://")):
        from bot.storage.postgres import PostgresDatabase

        return PostgresDatabase(url)
    raise ConfigError(f"{url.split('://')[0]!r} databases cannot be checked")


def check_database(settings: Settings) -> tuple[list[Verdict], Database | None]:
    url = settings.database_url
    shown = url.split("@")[-1] if "://" in url else url  # no password in the output
    try:
        db = open_database(url)
    except FileNotFoundError as error:
        fix = "run 'hipbot db upgrade' (or check DATABASE_URL / HIPBOT_DATA_DIR)"
        return [Verdict("database", False, str(error), fix)], None
    except Exception as error:  # any driver's connection failure is this check's verdict
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        fix = "check DATABASE_URL and that the database server is running"
        return [Verdict("database", False, f"cannot open {shown}: {reason}", fix)], None
    return [Verdict("database", True, f"reachable ({shown})"), check_migrations(db)], db


def check_migrations(db: Database) -> Verdict:
    applied: dict[str, int] = {}
    if "schema_migrations" in db.tables():
        rows = db.all("SELECT store, max(version) FROM schema_migrations GROUP BY store")
        applied = {str(store): int(version) for store, version in rows}
    pending = [
        f"{store} #{number}"
        for store, scripts in migrations().items()
        for number in range(applied.get(store, 0) + 1, len(scripts) + 1)
    ]
    if pending:
        detail = f"{len(pending)} pending: {', '.join(pending)}"
        return Verdict("migrations", False, detail, "run 'hipbot db upgrade'")
    newer = [s for s, v in applied.items() if s in migrations() and v > len(migrations()[s])]
    if newer:
        detail = f"the database is newer than this hipbot ({', '.join(sorted(newer))})"
        return Verdict("migrations", False, detail, "install the hipbot version that wrote it")
    total = sum(len(scripts) for scripts in migrations().values())
    return Verdict("migrations", True, f"all {total} applied")


def check_data_key(settings: Settings, db: Database | None) -> Verdict:
    from bot import crypto

    env = {crypto.KEY_ENV: settings.data_key, crypto.KEY_FILE_ENV: settings.data_key_file}
    named = settings.data_key_file
    target = sqlite_path(settings.database_url) or settings.database_url
    if not settings.data_key:
        path = Path(named) if named else crypto.default_key_file(target)
        if path is None:
            fix = f"set {crypto.KEY_ENV} (make one with 'hipbot keys new') or {crypto.KEY_FILE_ENV}"
            return Verdict("data key", False, "a database server needs the data key set", fix)
        if not path.is_file():
            if db is not None and _has_sealed_data(db):
                fix = f"put the key file back at {path}, or set {crypto.KEY_ENV}"
                return Verdict("data key", False, f"{path} is missing but data is sealed", fix)
            return Verdict("data key", True, f"none yet: the first start makes {path}")
    try:
        codec = crypto.load_codec(target, env)
        if db is not None:
            crypto.check_readable(db, codec)
    except ConfigError as error:
        fix = f"use the key this database was sealed with ({crypto.KEY_ENV} or the key file)"
        return Verdict("data key", False, " ".join(str(error).split()), fix)
    opened = "opens the stored data" if db is not None else "readable"
    return Verdict("data key", True, f"{len(codec.keys)} key(s) from {codec.origin}, {opened}")


def _has_sealed_data(db: Database) -> bool:
    from bot import crypto

    if "sessions" not in db.tables():
        return False
    where, params = crypto.sealed_filter("data")
    row = db.one(f"SELECT 1 FROM sessions WHERE {where} LIMIT 1", params)
    return row is not None


def check_flows(settings: Settings) -> Verdict:
    from bot.loader import load_bundle

    folder = settings.flows_dir
    try:
        bundle = load_bundle([folder])
    except FlowErrors as errors:
        detail = f"{len(errors.errors)} problem(s) in {folder}"
        return Verdict("flows", False, detail, f"run 'hipbot validate {folder}' and fix them")
    return Verdict("flows", True, f"{len(bundle.flows)} flow(s) in {folder} validate")


def check_token(settings: Settings, timeout: float = GET_ME_TIMEOUT) -> Verdict:
    """Ask Telegram who the bot is with the token (the token itself is never printed)."""
    if not settings.token:
        return Verdict(
            "bot token", False, "TELEGRAM_BOT_TOKEN is not set", "get one from @BotFather"
        )
    url = who_am_i_url(settings.api_base_url, settings.token)
    host = settings.api_base_url.split("/")[2]
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            body = json.loads(answer.read())
    except urllib.error.HTTPError as error:
        if error.code in (401, 404):
            fix = "check TELEGRAM_BOT_TOKEN with @BotFather (/mybots)"
            return Verdict("bot token", False, f"{host} refused the token ({error.code})", fix)
        return Verdict("bot token", False, f"{host} answered {error.code}", "try again later")
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        fix = "check the network and TELEGRAM_API_BASE_URL"
        return Verdict("bot token", False, f"cannot reach {host}: {reason}", fix)
    user = body.get("result", {}) if isinstance(body, dict) else {}
    name = user.get("username", "?") if isinstance(user, dict) else "?"
    return Verdict("bot token", True, f"Telegram knows it: @{name}")


def run_checks(online: bool) -> list[Verdict]:
    config, settings = check_configuration()
    verdicts = [config]
    if settings is None:
        skipped = ["database", "data key", "flows", *(["bot token"] if online else [])]
        return verdicts + [
            Verdict(name, False, "needs a configuration without problems", skipped=True)
            for name in skipped
        ]
    found, db = check_database(settings)
    verdicts += found
    try:
        verdicts.append(check_data_key(settings, db))
    finally:
        if db is not None:
            db.close()
    verdicts.append(check_flows(settings))
    if online:
        verdicts.append(check_token(settings))
    return verdicts


def main(online: bool, out: TextIO = sys.stdout) -> int:
    verdicts = run_checks(online)
    for verdict in verdicts:
        print(verdict.line(), file=out)
    problems = sum(not v.ok and not v.skipped for v in verdicts)
    print(f"{problems} problem(s)" if problems else "all good", file=out)
    return 1 if problems else 0
