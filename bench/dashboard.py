"""The clinic dashboard: ``python -m bench dashboard``.

* ``overview``: the Overview page (``GET /clinic/<id>/``, through the whole aiohttp app:
  session check, counts, HTML) on SQLite with 10,000 linked patients (each with a session,
  half with a finished symptom check, a quarter with reminders) and 100,000 check-ins;
  ``overview_p50_ms`` / ``overview_p99_ms`` over 200 requests (target p99 <= 200 ms). The
  Patients page (1,000 sharing patients) is timed the same way.
* ``reply``: the real ``hipbot run`` on the fake Bot API and ``hipbot web`` on one SQLite
  file; a patient sends /menu every 0.25 s and the time to the bot's reply is taken, first
  alone, then while a dashboard user polls a broadcast's progress as the page does (once a
  second), then while 10 do. ``reply_p99_ratio`` = p99 with one poller / p99 without
  (target <= 1.2).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench import median, percentile, report
from bot.features import load_features
from bot.features.clinics import dashboard as dash
from bot.features.clinics.store import ClinicStore
from bot.storage import SqlStorage

PATIENTS = 10_000
CHECKINS = 100_000
SHARING = 1_000
REQUESTS = 200
REPLIES = 60
FIRST = 7_000_000_000
CHATTY = 7_100_000_001


def _scale(count: int) -> int:
    return max(10, int(count * float(os.environ.get("HIPBOT_BENCH_SCALE", "1"))))


def prepare(db_path: Path, patients: int, checkins: int) -> tuple[int, str, int]:
    """A clinic with ``patients`` linked (raw rows, as years of use leave them), an admin's
    web session and one scheduled broadcast; (clinic id, cookie value, broadcast id)."""
    storage = SqlStorage(str(db_path))
    try:
        load_features().setup(storage)
        db = storage.db
        store = ClinicStore(db)
        now = time.time()
        clinic = store.add_clinic("Bench Clinic", now)
        store.add_staff(clinic.id, "4000000001", "admin", now)
        users = [str(FIRST + n) for n in range(patients)]
        with db.transaction():
            db.executemany(
                "INSERT INTO clinic_patients (clinic_id, user_id, patient_ref, joined_at, opted_in)"
                " VALUES (?, ?, ?, ?, 1)",
                [(clinic.id, u, f"P-{n}", now - 86400 * (n % 90)) for n, u in enumerate(users)],
            )
            db.executemany(
                "INSERT INTO sessions (user_id, data, revision, updated_at) VALUES (?, '{{}}', 1, ?)",
                [(u, now - 86400 * (n % 60)) for n, u in enumerate(users)],
            )
            db.executemany(
                "INSERT INTO journal (user_id, kind, data, at) VALUES (?, ?, '{{}}', ?)",
                [(u, kind, now) for u in users for kind in ("started", "consent_given")]
                + [(u, "check_finished", now) for u in users[::2]],
            )
            db.executemany(
                "INSERT INTO checkin_answers (user_id, at, data) VALUES (?, ?, '{{}}')",
                [(users[n % patients], now - 3600 * n) for n in range(checkins)],
            )
            db.executemany(
                "INSERT INTO reminders (user_id, chat_id, kind, rule, next_due_utc, created_at,"
                " updated_at) VALUES (?, ?, 'exercise', '{{}}', ?, ?, ?)",
                [(u, int(u), now + 3600, now, now) for u in users[::4]],
            )
            for u in users[:SHARING]:
                dash.give_share(db, clinic.id, u, now)
        token = dash.open_session(db, clinic.id, "4000000001", now)
        draft = store.create_draft(clinic.id, "4000000001", now)
        store.update_draft(
            clinic.id, draft, text="Bench", audience="all", at_time="2099-01-05 09:30"
        )
        store.queue(clinic.id, draft, [(u, 4.0e9) for u in users[:100]], now, None)
        return clinic.id, token, draft
    finally:
        storage.close()


# ---------------------------------------------------------------- pages


async def _time_pages(db_path: Path, clinic: int, token: str) -> dict[str, float]:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.engine import Engine
    from bot.loader import load_bundle
    from bot.web.clinic import COOKIE
    from bot.web.server import WebApp

    storage = SqlStorage(str(db_path))
    features = load_features()
    features.setup(storage)
    app = WebApp(Engine(load_bundle([Path("flows")])), storage, features)
    client: Any = TestClient(TestServer(app.build()))
    await client.start_server()
    result: dict[str, float] = {}
    try:
        for name, path in (
            ("overview", f"/clinic/{clinic}/"),
            ("patients", f"/clinic/{clinic}/patients"),
        ):
            samples = []
            for _ in range(REQUESTS if name == "overview" else REQUESTS // 4):
                started = time.perf_counter()
                response = await client.get(path, headers={"Cookie": f"{COOKIE}={token}"})
                await response.read()
                samples.append((time.perf_counter() - started) * 1000)
                assert response.status == 200, response.status
            result[f"{name}_p50_ms"] = round(median(samples), 1)
            result[f"{name}_p99_ms"] = round(percentile(samples, 0.99), 1)
    finally:
        await client.close()
        storage.close()
    return result


# ---------------------------------------------------------------- the bot's replies


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _replies(fake: Any, count: int) -> list[float]:
    user = fake.user(CHATTY)
    latencies = []
    for _ in range(count):
        seen = len([c for c in fake.calls("sendMessage") if c.params.get("chat_id") == CHATTY])
        pushed = time.time()
        user.send_command("/menu")

        def replied(seen: int = seen) -> list[Any]:
            calls = [
                c
                for c in fake.calls("sendMessage")
                if c.params.get("chat_id") == CHATTY and c.status == 200
            ]
            return calls[seen:]

        fake.wait_for_sync(replied, 30.0, "the patient's reply")
        latencies.append((replied()[0].time - pushed) * 1000)
        time.sleep(max(0.0, 0.25 - (time.time() - pushed)))
    return latencies


def _pollers(url: str, token: str, count: int, stop: threading.Event) -> list[threading.Thread]:
    def poll() -> None:
        request = urllib.request.Request(url, headers={"Cookie": f"hipbot_clinic={token}"})
        while not stop.is_set():
            with urllib.request.urlopen(request, timeout=10) as answer:
                answer.read()
            stop.wait(1.0)

    threads = [threading.Thread(target=poll, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


def _time_replies(db_path: Path, clinic: int, token: str, broadcast: int) -> dict[str, float]:
    from tests.fakes.bot_api import FakeBotApi
    from tests.fakes.bot_process import BotProcess

    result: dict[str, float] = {}
    with FakeBotApi.in_thread() as fake:
        bot = BotProcess(fake, db_path.parent, HIPBOT_RATE_LIMIT="1000").start()
        port = _free_port()
        web = subprocess.Popen(
            [sys.executable, "-m", "bot", "web", "--port", str(port)],
            env=bot.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            fake.wait_for_sync(lambda: fake.commands, 60.0, "setMyCommands at start")
            url = f"http://127.0.0.1:{port}/clinic/{clinic}/broadcasts/{broadcast}/progress"
            deadline = time.monotonic() + 60
            while True:
                try:
                    request = urllib.request.Request(
                        url, headers={"Cookie": f"hipbot_clinic={token}"}
                    )
                    urllib.request.urlopen(request, timeout=5).read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)
            _replies(fake, 5)  # warm up
            for name, pollers in (("alone", 0), ("one_poller", 1), ("ten_pollers", 10)):
                stop = threading.Event()
                threads = _pollers(url, token, pollers, stop)
                samples = _replies(fake, REPLIES)
                stop.set()
                for thread in threads:
                    thread.join(5)
                result[f"reply_p50_ms_{name}"] = round(median(samples), 1)
                result[f"reply_p99_ms_{name}"] = round(percentile(samples, 0.99), 1)
        finally:
            web.terminate()
            web.wait(20)
            bot.stop()
    result["reply_p99_ratio"] = round(
        result["reply_p99_ms_one_poller"] / max(result["reply_p99_ms_alone"], 1e-9), 2
    )
    result["reply_p99_ratio_ten"] = round(
        result["reply_p99_ms_ten_pollers"] / max(result["reply_p99_ms_alone"], 1e-9), 2
    )
    return result


def run(json: bool = False) -> int:
    patients, checkins = _scale(PATIENTS), _scale(CHECKINS)
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "hipbot.db"
        started = time.perf_counter()
        clinic, token, broadcast = prepare(db_path, patients, checkins)
        result: dict[str, Any] = {
            "patients": patients,
            "checkins": checkins,
            "prepare_s": round(time.perf_counter() - started, 1),
        }
        result.update(asyncio.run(_time_pages(db_path, clinic, token)))
        result.update(_time_replies(db_path, clinic, token, broadcast))
    rows = [
        (
            "overview p50",
            f"{result['overview_p50_ms']} ms",
            f"{patients} patients, {checkins} check-ins",
        ),
        ("overview p99", f"{result['overview_p99_ms']} ms", "target <= 200 ms"),
        ("patients page p99", f"{result['patients_p99_ms']} ms", f"{SHARING} sharing"),
        ("reply p99 alone", f"{result['reply_p99_ms_alone']} ms", "/menu every 0.25 s"),
        ("reply p99, 1 poller", f"{result['reply_p99_ms_one_poller']} ms", "progress polled 1/s"),
        ("reply p99, 10 pollers", f"{result['reply_p99_ms_ten_pollers']} ms", ""),
        ("ratio (1 poller)", str(result["reply_p99_ratio"]), "target <= 1.2"),
    ]
    report("clinic dashboard", rows, result, json)
    return 0
