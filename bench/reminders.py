"""Reminders due all at once, against the fake Bot API's flood limits: ``python -m bench
reminders``.

Each delivery run starts the real ``hipbot run`` (a subprocess) against ``FakeBotApi`` with
``RateLimits`` set to the cap, on a database holding N people who each have a daily tip due
in the same minute (a few seconds after the start), and watches the fake until every one has
its reminder:

* ``cap1000``: 100,000 people at 1000 messages a second (paid broadcasts);
* ``cap30``: 1,000 people at 30 a second (Telegram's free limit).

Figures: ``sent_per_s`` (reminder messages between the first and the last one Telegram
accepted), ``cap_utilization`` (of the 30/s run: every message accepted in that time over
the cap; target >= 0.97), ``http_429`` (target 0), ``missed`` and ``duplicates`` (target 0).

The sweeper alone: ``rss_mb_10k`` and ``rss_mb_100k`` are the peak resident memory of a
process that opens the database and runs one sweep over 10,000 and 100,000 due reminders
(``ReminderStore.sweep``, which claims in batches of 500: memory must not grow with the
count), with ``sweep_s_*`` the time that sweep took. ``HIPBOT_BENCH_SCALE`` (default 1)
scales the people counts for a quick look.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import report, utilisation, wait_until
from bot.features.reminders.rules import Rule
from bot.features.reminders.store import ReminderStore
from bot.storage.sql import SqlStorage
from tests.fakes.bot_api import FakeBotApi, RateLimits
from tests.fakes.bot_process import REPO, BotProcess

FIRST = 5_100_000_000
TITLE = "Daily hip tip"
LEAD = 8.0  # seconds from writing the rows to their due time (the bot starts meanwhile)


def _scale(count: int) -> int:
    return max(20, int(count * float(os.environ.get("HIPBOT_BENCH_SCALE", "1"))))


def prepare(db_path: Path, people: int, due: float) -> list[int]:
    """``people`` people in UTC with a daily tip due at ``due`` (quiet hours off)."""
    storage = SqlStorage(str(db_path))
    try:
        ReminderStore(storage.db)  # its tables
        users = list(range(FIRST, FIRST + people))
        rule = json.dumps(Rule.daily(12 * 60).to_json(), sort_keys=True)
        now = time.time()
        with storage.db.transaction() as db:
            db.executemany(
                "INSERT INTO reminder_people (user_id, tz, quiet_start, quiet_end, updated_at)"
                " VALUES (?, 'UTC', 0, 0, ?)",
                [(str(u), now) for u in users],
            )
            db.executemany(
                "INSERT INTO reminders (user_id, chat_id, kind, rule, next_due_utc,"
                " created_at, updated_at) VALUES (?, ?, 'tip', ?, ?, ?, ?)",
                [(str(u), u, rule, due, now, now) for u in users],
            )
        return users
    finally:
        storage.close()


class Tally:
    """The reminder messages Telegram accepted, read from the fake a little at a time (a
    full scan of 100,000 calls every poll would hold the fake's lock and slow it down)."""

    def __init__(self, fake: FakeBotApi) -> None:
        self.fake = fake
        self.seen = 0
        self.accepted: list[Any] = []

    def update(self) -> int:
        calls = self.fake.calls()
        fresh, self.seen = calls[self.seen :], len(calls)
        self.accepted += [
            c
            for c in fresh
            if c.method == "sendMessage"
            and c.status == 200
            and str(c.params.get("text", "")).startswith(f"<b>{TITLE}</b>")
        ]
        return len(self.accepted)


def run_delivery(people: int, cap: float) -> dict[str, Any]:
    env = {"HIPBOT_RATE_LIMIT": str(int(cap)), "HIPBOT_LOG_FORMAT": "json"}
    if cap > 30:
        env["HIPBOT_ALLOW_PAID_BROADCAST"] = "true"
    limits = RateLimits(global_per_second=cap, global_burst=cap)
    with tempfile.TemporaryDirectory() as folder, FakeBotApi.in_thread(rate_limits=limits) as fake:
        due = time.time() + LEAD
        users = prepare(Path(folder) / "hipbot.db", people, due)
        tally = Tally(fake)
        with BotProcess(fake, Path(folder), **env):
            wait_until(
                lambda: tally.update() >= people,
                LEAD + people / cap * 3 + 120,
                f"{people} reminders",
                poll=0.5,
            )
            time.sleep(3)  # a sweep or two more: room for a duplicate to show up
            tally.update()
        calls = tally.accepted
        times = sorted(c.time for c in calls)
        got = Counter(int(c.params["chat_id"]) for c in calls)
        return {
            "people": people,
            "cap": cap,
            "sent_per_s": round((len(times) - 1) / (times[-1] - times[0]), 2),
            "cap_utilization": round(utilisation(fake, times[0], times[-1], cap), 4),
            "http_429": fake.rate_limited_count,
            "missed": sum(1 for u in users if got[u] == 0),
            "duplicates": sum(n - 1 for n in got.values()),
            "first_after_due_s": round(times[0] - due, 2),  # the sweep runs every 2 s
            "last_after_due_s": round(times[-1] - due, 2),
        }


# Peak RSS is read from /proc/self/status (VmHWM): getrusage's ru_maxrss survives exec on
# Linux, so a child would report the bench process's own peak (it built the 100,000 rows).
SWEEPER = """
import json, resource, sys, time
from bot.features.reminders.messages import wording
from bot.features.reminders.store import ReminderStore
from bot.storage.sql import SqlStorage

def peak_mb():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

storage = SqlStorage(sys.argv[1])
store = ReminderStore(storage.db, say=wording({}))
before = peak_mb()
start = time.perf_counter()
queued = store.sweep(float(sys.argv[2]))
took = time.perf_counter() - start
print(json.dumps({"queued": queued, "rss_mb": round(peak_mb(), 1),
                  "rss_mb_before_sweep": round(before, 1), "seconds": round(took, 2)}))
"""


def run_sweeper(people: int) -> dict[str, Any]:
    """One sweep over ``people`` due reminders in a process of its own: peak RSS and time."""
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "hipbot.db"
        due = time.time() - 1
        prepare(db_path, people, due)
        done = subprocess.run(
            [sys.executable, "-c", SWEEPER, str(db_path), str(due + 2)],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=900,
        )
        figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        if figures["queued"] != people:
            raise RuntimeError(f"the sweep queued {figures['queued']} of {people}")
        return figures


def run(json: bool = False) -> int:
    small, large = _scale(10_000), _scale(100_000)
    sweep_small = run_sweeper(small)
    sweep_large = run_sweeper(large)
    fast = run_delivery(large, 1000.0)
    slow = run_delivery(_scale(1000), 30.0)
    result = {
        "sent_per_s": fast["sent_per_s"],
        "cap_utilization": slow["cap_utilization"],
        "http_429": fast["http_429"] + slow["http_429"],
        "missed": fast["missed"] + slow["missed"],
        "duplicates": fast["duplicates"] + slow["duplicates"],
        "rss_mb_10k": sweep_small["rss_mb"],
        "rss_mb_100k": sweep_large["rss_mb"],
        "sweep_s_10k": sweep_small["seconds"],
        "sweep_s_100k": sweep_large["seconds"],
        "cap1000": fast,
        "cap30": slow,
    }
    rows = [
        ("sent_per_s", str(result["sent_per_s"]), f"{large} people, cap 1000/s"),
        ("cap_utilization", str(result["cap_utilization"]), f"{slow['people']} at 30/s; >= 0.97"),
        ("http_429", str(result["http_429"]), "target 0"),
        ("missed", str(result["missed"]), "target 0"),
        ("duplicates", str(result["duplicates"]), "target 0"),
        ("rss_mb_10k", str(result["rss_mb_10k"]), f"sweeper peak RSS, {small} due"),
        ("rss_mb_100k", str(result["rss_mb_100k"]), f"sweeper peak RSS, {large} due"),
        ("sweep_s_10k", str(result["sweep_s_10k"]), "one sweep, claim + outbox"),
        ("sweep_s_100k", str(result["sweep_s_100k"]), "one sweep, claim + outbox"),
    ]
    rows += [(f"cap1000.{k}", str(v), "") for k, v in fast.items()]
    rows += [(f"cap30.{k}", str(v), "") for k, v in slow.items()]
    report("Reminders due in the same minute, against the fake Bot API", rows, result, json)
    return 0
