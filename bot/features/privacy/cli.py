"""The privacy subcommands: ``hipbot purge``, ``hipbot keys ...``, ``hipbot alerts ...``."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from bot import crypto
from bot.features.privacy.chat import purge
from bot.features.privacy.rules import (
    iso,
)
from bot.storage.db import Database
from bot.storage.sql import SqlStorage

# ---------------------------------------------------------------- command line


def add_cli(commands: Any) -> None:
    purge_cmd = commands.add_parser(
        "purge", help="erase people inactive longer than HIPBOT_RETENTION_DAYS (default 365)"
    )
    purge_cmd.add_argument("--days", type=int, help="instead of HIPBOT_RETENTION_DAYS")
    purge_cmd.add_argument("--dry-run", action="store_true", help="only count them")
    purge_cmd.set_defaults(func=_purge_cli)

    keys = commands.add_parser("keys", help="the data key that seals stored answers")
    what = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    what.add_parser("new", help="print a new data key").set_defaults(func=_keys_new)
    rotate = what.add_parser(
        "rotate",
        help="seal everything again with a new key (refused while a bot runs: it keeps the old key)",
    )
    rotate.add_argument(
        "--force", action="store_true", help="rotate although a bot looks alive (a stale entry)"
    )
    rotate.set_defaults(func=_keys_rotate)

    alerts = commands.add_parser("alerts", help="red-flag alerts to a clinic's staff")
    alerts.add_argument("action", choices=["on", "off", "list"])
    alerts.add_argument("clinic", nargs="?", help="the clinic's id, code or name")
    alerts.set_defaults(func=_alerts_cli)


def _open() -> SqlStorage:
    """The configured database with every feature's tables and hooks, for the command line."""
    from bot.errors import ConfigError
    from bot.features import load_features
    from bot.settings import default_database_url, load_dotenv_file
    from bot.storage import open_storage

    load_dotenv_file()
    storage = open_storage(default_database_url())
    if not isinstance(storage, SqlStorage):
        raise ConfigError("this command needs a database: set DATABASE_URL")
    load_features().setup(storage)
    return storage


def _purge_cli(args: argparse.Namespace) -> int:
    from bot.settings import load_settings

    days = args.days if args.days is not None else load_settings().retention_days
    if days < 1:
        print("hipbot purge: --days must be 1 or more", file=sys.stderr)
        return 2
    from bot.progress_bar import Progress

    storage = _open()
    try:
        now = time.time()
        with Progress("erasing people" if not args.dry_run else "counting", None) as bar:
            count = purge(storage, now, days, dry_run=args.dry_run, progress=bar.update)
    finally:
        storage.close()
    verb = "would erase" if args.dry_run else "erased"
    print(f"{verb} {count} person(s) inactive for more than {days} days")
    return 0


def _keys_new(args: argparse.Namespace) -> int:
    print(crypto.new_key())
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    """With a key file: a new key goes first in the file, everything is sealed again with it,
    then the old keys leave the file. With HIPBOT_DATA_KEY: everything is sealed again with
    its first key (put a new one first: NEW,OLD)."""
    from bot.features import heartbeat
    from bot.progress_bar import Progress

    storage = _open()
    try:
        heartbeat.refuse_while_running(
            storage.db, time.time(), "rotate the data key", force=args.force
        )
        codec = storage.codec
        bar = Progress("sealing again", crypto.sealed_count(storage.db))
        if codec.path is None:
            with bar:
                done = crypto.reseal_all(storage.db, codec, bar.advance)
            print(
                f"sealed {sum(done.values())} value(s) again with the first key of {codec.origin}"
            )
            if len(codec.keys) == 1:
                print(
                    f"to rotate, put a new key first: {crypto.KEY_ENV}=NEW,OLD (make one with "
                    "'hipbot keys new'), run this again, then drop OLD"
                )
            else:
                print(f"now remove the old key(s) from {crypto.KEY_ENV}: keep only the first")
            return 0
        fresh = crypto.new_key().encode()
        crypto.write_key_file(codec.path, [fresh, *codec.keys])  # both open everything now
        rotated = crypto.Codec([fresh, *codec.keys], codec.origin, codec.path)
        crypto.use_codec(storage.db, rotated)
        with bar:
            done = crypto.reseal_all(storage.db, rotated, bar.advance)
        crypto.write_key_file(codec.path, [fresh])
        crypto.use_codec(storage.db, crypto.Codec([fresh], codec.origin, codec.path))
    finally:
        storage.close()
    counts = ", ".join(f"{table} {n}" for table, n in sorted(done.items()))
    print(f"new key in {codec.path}; sealed again: {counts}")
    print("backups made before now need the old key: keep a copy of it with them if you must")
    return 0


def _alerts_cli(args: argparse.Namespace) -> int:
    from bot.features.clinics.store import CliError

    storage = _open()
    try:
        return _alerts(storage.db, args.action, args.clinic)
    except CliError as error:
        print(f"hipbot alerts: {error}", file=sys.stderr)
        return 1
    finally:
        storage.close()


def _alerts(db: Database, action: str, key: str | None) -> int:
    if action == "list" and not key:
        rows = db.all("SELECT clinic_id, since FROM clinic_alert_optins ORDER BY clinic_id")
        for clinic_id, since in rows:
            print(f"clinic {clinic_id}: alerts on since {iso(since)}")
        if not rows:
            print("no clinic gets red-flag alerts")
        return 0
    if not key:
        print(f"hipbot alerts {action}: name the clinic (id, code or name)", file=sys.stderr)
        return 2
    clinic_id = _find_clinic(db, key)
    if clinic_id is None:
        print(f"hipbot alerts: no clinic {key!r}", file=sys.stderr)
        return 1
    if action == "list":
        row = db.one("SELECT since FROM clinic_alert_optins WHERE clinic_id = ?", (clinic_id,))
        if row is None:
            print(
                f"clinic {clinic_id}: red-flag alerts off (turn on: hipbot alerts on {clinic_id})"
            )
        else:
            print(f"clinic {clinic_id}: alerts on since {iso(row[0])}")
        return 0
    with db.transaction():
        if action == "on":
            db.execute(
                "INSERT INTO clinic_alert_optins (clinic_id, since) VALUES (?, ?)"
                " ON CONFLICT (clinic_id) DO NOTHING",
                (clinic_id, time.time()),
            )
        else:
            db.execute("DELETE FROM clinic_alert_optins WHERE clinic_id = ?", (clinic_id,))
    print(f"clinic {clinic_id}: red-flag alerts {action}")
    return 0


def _find_clinic(db: Database, key: str) -> int | None:
    """A clinic's id by id, code or name (a name two clinics share is an error)."""
    if "clinics" not in db.tables():
        return None
    from bot.features.clinics.store import ClinicStore, find_clinic

    clinic = find_clinic(ClinicStore(db), key)
    return clinic.id if clinic is not None else None
