"""The reminders' ``hipbot reminders ...`` subcommands: status, sweep, followup-start."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from typing import Any

from bot.features import Loaded
from bot.features.reminders.chat import reminder_store
from bot.storage.sql import SqlStorage

# ---------------------------------------------------------------- command line


def _open() -> SqlStorage:
    from bot.settings import default_database_url, load_dotenv_file
    from bot.storage import open_storage

    load_dotenv_file()
    storage = open_storage(default_database_url())
    if not isinstance(storage, SqlStorage):
        print("hipbot reminders needs a database: set DATABASE_URL", file=sys.stderr)
        raise SystemExit(2)
    return storage


def _cli_status(args: argparse.Namespace) -> int:
    storage = _open()
    store = reminder_store(storage, Loaded())
    now = time.time()
    rows = storage.db.all("SELECT kind, count(*) FROM reminders GROUP BY kind ORDER BY kind")
    for kind, count in rows:
        print(f"{kind:10} {count}")
    print(f"due now:   {store.due_count(now)}")
    storage.close()
    return 0


def _cli_sweep(args: argparse.Namespace) -> int:
    storage = _open()
    queued = reminder_store(storage, Loaded()).sweep(time.time())
    print(f"queued {queued} message(s) in the outbox")
    storage.close()
    return 0


def _cli_followup_start(args: argparse.Namespace) -> int:
    try:
        day = date.fromisoformat(args.date)
    except ValueError:
        print(f"{args.date!r} is not a date like 2026-03-01", file=sys.stderr)
        return 2
    storage = _open()
    reminder_store(storage, Loaded()).save_settings(
        str(args.chat_id), time.time(), followup_start=day
    )
    print(f"follow-ups of {args.chat_id} count from {day.isoformat()} (day 0)")
    storage.close()
    return 0


def add_cli(subparsers: Any) -> None:
    parser = subparsers.add_parser("reminders", help="reminders and follow-ups: status, sweep")
    commands = parser.add_subparsers(dest="reminders_command", required=True, metavar="ACTION")
    commands.add_parser(
        "status", help="how many reminders of each kind, how many due"
    ).set_defaults(func=_cli_status)
    commands.add_parser("sweep", help="queue every due reminder now").set_defaults(func=_cli_sweep)
    start = commands.add_parser("followup-start", help="a clinic's day 0 for a person's follow-ups")
    start.add_argument("chat_id", type=int, help="the person's Telegram chat id")
    start.add_argument("date", help="day 0, like 2026-03-01 (the person's local date)")
    start.set_defaults(func=_cli_followup_start)
