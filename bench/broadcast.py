"""Clinic broadcasts against the fake Bot API's flood limits: ``python -m bench broadcast``.

Each run starts the real ``hipbot run`` (a subprocess) against ``FakeBotApi`` with
``RateLimits`` set to the cap, a database holding one clinic whose N patients are linked and
one broadcast to all of them queued, and watches the fake:

* ``cap30``: 3,000 recipients at 30 messages a second (Telegram's free limit). Meanwhile a
  patient chats (/menu every 1.5 s) and the time from their message to the bot's reply is
  taken: ``reply_p99_ms_during_broadcast``.
* ``cap1000``: 20,000 recipients at 1000 a second (paid broadcasts).
* ``crash``: 1,500 recipients at 100 a second; the bot is SIGKILLed when about a third is
  through and started again. ``missed`` (recipients who never got it; target 0) and
  ``duplicates`` (extra copies), with ``duplicate_bound``: the outbox rows claimed and not
  yet marked sent at the kill, counted in the database right after it.

Figures: ``sent_per_s`` (broadcast messages between the first and the last), and
``cap_utilization`` (every message Telegram accepted in that time, replies included, over the
cap; target >= 0.97), ``http_429`` (target 0). ``HIPBOT_BENCH_SCALE`` (default 1) scales the
recipient counts for a quick look.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import percentile, report, utilisation, wait_until
from bot.features import load_features
from bot.features.clinics import broadcast as bc
from bot.features.clinics.rules import EVERYONE
from bot.features.clinics.store import ClinicStore
from bot.storage import SqlStorage
from tests.fakes.bot_api import FakeBotApi, RateLimits
from tests.fakes.bot_process import BotProcess

MARK = "Bench broadcast"
STAFF = 4_000_000_001
CHATTY = 4_000_000_002
FIRST = 4_100_000_000


def _scale(count: int) -> int:
    return max(20, int(count * float(os.environ.get("HIPBOT_BENCH_SCALE", "1"))))


def prepare(db_path: Path, recipients: int) -> list[int]:
    """A clinic with ``recipients`` linked patients and one queued broadcast to all."""
    storage = SqlStorage(str(db_path))
    try:
        load_features().setup(storage)
        store = ClinicStore(storage.db)
        now = time.time()
        clinic = store.add_clinic("Bench Clinic", now)
        store.add_staff(clinic.id, str(STAFF), "admin", now)
        users = list(range(FIRST, FIRST + recipients))
        with storage.db.transaction() as db:
            db.executemany(
                "INSERT INTO clinic_patients (clinic_id, user_id, joined_at, opted_in)"
                " VALUES (?, ?, ?, 1)",
                [(clinic.id, str(u), now) for u in users],
            )
            # no quiet hours: the bench measures sending, whatever the time of day it runs
            db.executemany(
                "INSERT INTO reminder_people (user_id, quiet_start, quiet_end, updated_at)"
                " VALUES (?, 0, 0, ?)",
                [(str(u), now) for u in users],
            )
        draft = store.create_draft(clinic.id, str(STAFF), now)
        store.update_draft(clinic.id, draft, text=f"{MARK}: the clinic is closed on Friday.")
        bc.queue(storage, clinic.id, draft, EVERYONE, None, now, str(STAFF))
        return users
    finally:
        storage.close()


def broadcast_calls(fake: FakeBotApi) -> list[Any]:
    return [
        c
        for c in fake.calls("sendMessage")
        if c.status == 200 and MARK in str(c.params.get("text", ""))
    ]


def report_arrived(fake: FakeBotApi) -> bool:
    return any("is done" in (m.text or "") for m in fake.messages(STAFF))


def chat_while_sending(fake: FakeBotApi, recipients: int) -> list[float]:
    """A patient sends /menu every 1.5 s while the broadcast runs; ms until each reply."""
    user = fake.user(CHATTY)
    latencies: list[float] = []
    while not latencies or len(broadcast_calls(fake)) < recipients * 0.95:
        seen = len([c for c in fake.calls("sendMessage") if c.params.get("chat_id") == CHATTY])
        pushed = time.time()
        user.send_command("/menu")

        def replied(seen: int = seen) -> list[Any]:
            calls = [
                c
                for c in fake.calls("sendMessage")
                if c.params.get("chat_id") == CHATTY and c.status == 200
            ]
            return calls[seen:] if len(calls) > seen else []

        fake.wait_for_sync(replied, 30.0, "the chatting patient's reply")
        latencies.append((replied()[0].time - pushed) * 1000)
        time.sleep(max(0.0, 1.5 - (time.time() - pushed)))
    return latencies


def run_cap(recipients: int, cap: float, chat: bool) -> dict[str, Any]:
    env: dict[str, str] = {"HIPBOT_RATE_LIMIT": str(int(cap)), "HIPBOT_LOG_FORMAT": "json"}
    if cap > 30:
        env["HIPBOT_ALLOW_PAID_BROADCAST"] = "true"
    limits = RateLimits(global_per_second=cap, global_burst=cap)
    with tempfile.TemporaryDirectory() as folder, FakeBotApi.in_thread(rate_limits=limits) as fake:
        users = prepare(Path(folder) / "hipbot.db", recipients)
        with BotProcess(fake, Path(folder), **env):
            latencies: list[float] = []
            if chat:
                wait_until(lambda: broadcast_calls(fake), 60, "the broadcast to start")
                latencies = chat_while_sending(fake, recipients)
            wait_until(
                lambda: report_arrived(fake), recipients / cap * 3 + 60, "the broadcast report"
            )
        calls = broadcast_calls(fake)
        times = sorted(c.time for c in calls)
        got = Counter(int(c.params["chat_id"]) for c in calls)
        result: dict[str, Any] = {
            "recipients": recipients,
            "cap": cap,
            "sent_per_s": round((len(times) - 1) / (times[-1] - times[0]), 2),
            "cap_utilization": round(utilisation(fake, times[0], times[-1], cap), 4),
            "http_429": fake.rate_limited_count,
            "missed": sum(1 for u in users if got[u] == 0),
            "duplicates": sum(n - 1 for n in got.values()),
        }
        if chat:
            result["reply_p50_ms_during_broadcast"] = round(statistics.median(latencies), 1)
            result["reply_p99_ms_during_broadcast"] = round(percentile(latencies, 0.99), 1)
            result["reply_samples"] = len(latencies)
        return result


def in_flight(db_path: Path) -> int:
    """Outbox rows claimed by the sender and not yet marked sent (right after a kill)."""
    import sqlite3

    connection = sqlite3.connect(db_path, timeout=30)
    try:
        row = connection.execute(
            "SELECT count(*) FROM outbox WHERE state = 'pending' AND claimed_until > ?",
            (time.time(),),
        ).fetchone()
        return int(row[0])
    finally:
        connection.close()


def run_crash(recipients: int, cap: float) -> dict[str, Any]:
    limits = RateLimits(global_per_second=cap, global_burst=cap)
    env = {"HIPBOT_RATE_LIMIT": str(int(cap)), "HIPBOT_LOG_FORMAT": "json"}
    with tempfile.TemporaryDirectory() as folder, FakeBotApi.in_thread(rate_limits=limits) as fake:
        db_path = Path(folder) / "hipbot.db"
        users = prepare(db_path, recipients)
        bot = BotProcess(fake, Path(folder), **env).start()
        try:
            wait_until(lambda: len(broadcast_calls(fake)) >= recipients // 3, 120, "a third")
            bot.kill()
            at_kill = len(broadcast_calls(fake))
            bound = in_flight(db_path)
            bot.start()
            wait_until(lambda: report_arrived(fake), recipients / cap * 3 + 60, "the report")
        finally:
            bot.stop()
        got = Counter(int(c.params["chat_id"]) for c in broadcast_calls(fake))
        return {
            "recipients": recipients,
            "cap": cap,
            "delivered_at_kill": at_kill,
            "missed": sum(1 for u in users if got[u] == 0),
            "duplicates": sum(n - 1 for n in got.values()),
            "duplicate_bound": bound,
            "http_429": fake.rate_limited_count,
        }


def run(json: bool = False) -> int:
    slow = run_cap(_scale(3000), 30.0, chat=True)
    fast = run_cap(_scale(20000), 1000.0, chat=False)
    crash = run_crash(_scale(1500), 100.0)
    result = {
        "sent_per_s": slow["sent_per_s"],
        "cap_utilization": slow["cap_utilization"],
        "http_429": slow["http_429"],
        "reply_p99_ms_during_broadcast": slow["reply_p99_ms_during_broadcast"],
        "missed": crash["missed"],
        "duplicates": crash["duplicates"],
        "cap30": slow,
        "cap1000": fast,
        "crash": crash,
    }
    rows = [
        (f"cap30.{k}", str(v), "target >= 0.97" if k == "cap_utilization" else "")
        for k, v in slow.items()
    ]
    rows += [(f"cap1000.{k}", str(v), "") for k, v in fast.items()]
    rows += [(f"crash.{k}", str(v), "target 0" if k == "missed" else "") for k, v in crash.items()]
    report("Clinic broadcasts against the fake Bot API's flood limits", rows, result, json)
    return 0
