"""Prometheus metrics of a running bot (``/metrics``, text format).

Counters and the latency histogram are kept as things happen (updates handled, sends by
result, reminders sent, task errors); the gauges that describe stored work (outbox depth and
the age of its oldest due row, reminders due, broadcast deliveries by state) are read from
the database when scraped, in a worker thread, so a scrape never blocks the event loop.

Each bot process has its own registry (no global state), so tests can run several.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

log = logging.getLogger("hipbot.metrics")

SEND_RESULTS = ("ok", "429", "403", "400", "5xx", "network", "other")
DELIVERY_STATES = ("pending", "sent", "failed", "blocked", "skipped")
TASKS = ("sender", "jobs", "poller")
TURN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter("hipbot_updates_handled", "Telegram updates handled", registry=r)
        self.turn_seconds = Histogram(
            "hipbot_turn_seconds",
            "Time to handle one update and store its answer",
            buckets=TURN_BUCKETS,
            registry=r,
        )
        self.sends = Counter(
            "hipbot_sends", "Bot API calls from the outbox, by result", ["result"], registry=r
        )
        self.reminders_sent = Counter(
            "hipbot_reminders_sent", "Reminder messages Telegram accepted", registry=r
        )
        self.task_errors = Counter(
            "hipbot_task_errors",
            "Errors a long-lived task survived (restarted after a pause)",
            ["task"],
            registry=r,
        )
        self.outbox_due = Gauge(
            "hipbot_outbox_due", "Outbox rows due now and not yet sent", registry=r
        )
        self.outbox_pending = Gauge(
            "hipbot_outbox_pending", "Outbox rows not yet sent (due or waiting)", registry=r
        )
        self.outbox_oldest_due_age = Gauge(
            "hipbot_outbox_oldest_due_age_seconds",
            "How long the oldest due outbox row has been due (0 when none)",
            registry=r,
        )
        self.reminders_due = Gauge(
            "hipbot_reminders_due", "Reminders whose time has come, not yet queued", registry=r
        )
        self.broadcast_deliveries = Gauge(
            "hipbot_broadcast_deliveries",
            "Clinic broadcast deliveries by state",
            ["state"],
            registry=r,
        )
        for result in SEND_RESULTS:
            self.sends.labels(result=result)
        for task in TASKS:
            self.task_errors.labels(task=task)
        for state in DELIVERY_STATES:
            self.broadcast_deliveries.labels(state=state)

    def observe_turn(self, seconds: float) -> None:
        self.updates.inc()
        self.turn_seconds.observe(seconds)

    def refresh(self, db: Any, now: float) -> None:
        """Read the stored-work gauges (a worker thread; ``db`` is a ``Database``)."""
        due, oldest = db.one(
            "SELECT count(*), min(due_at) FROM outbox WHERE state = 'pending' AND due_at <= ?",
            (now,),
        )
        self.outbox_due.set(int(due))
        self.outbox_oldest_due_age.set(max(0.0, now - float(oldest)) if oldest is not None else 0)
        pending = db.one("SELECT count(*) FROM outbox WHERE state = 'pending'")
        self.outbox_pending.set(int(pending[0]))
        tables = set(db.tables())
        if "reminders" in tables:
            row = db.one("SELECT count(*) FROM reminders WHERE next_due_utc <= ?", (now,))
            self.reminders_due.set(int(row[0]))
        if "clinic_deliveries" in tables:
            counts = dict.fromkeys(DELIVERY_STATES, 0)
            for state, count in db.all(
                "SELECT state, count(*) FROM clinic_deliveries GROUP BY state"
            ):
                counts[str(state)] = int(count)
            for state, count in counts.items():
                self.broadcast_deliveries.labels(state=state).set(count)

    async def render(self, db: Any, clock: Callable[[], float] = time.time) -> bytes:
        """The text format, gauges read fresh (stale ones kept if the database is busy)."""
        try:
            await asyncio.to_thread(self.refresh, db, clock())
        except Exception as error:  # a locked database must not fail the scrape
            log.warning(
                "metrics: stored-work gauges not refreshed",
                extra={"event": "metrics_stale", "error": type(error).__name__},
            )
        return generate_latest(self.registry)


Health = Callable[[], str | None]  # None when healthy, else a short reason


def add_routes(app: web.Application, metrics: Metrics, db: Any, health: Health) -> None:
    """``GET /metrics`` (Prometheus text) and ``GET /healthz`` (200, or 503 with a reason).
    Neither waits for the database on the event loop."""

    async def metrics_page(request: web.Request) -> web.Response:
        body = await metrics.render(db)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def healthz(request: web.Request) -> web.Response:
        reason = health()
        body = {"ok": True} if reason is None else {"ok": False, "reason": reason}
        return web.json_response(body, status=200 if reason is None else 503)

    app.router.add_get("/metrics", metrics_page)
    app.router.add_get("/healthz", healthz)


async def start_ops(
    metrics: Metrics, db: Any, health: Health, host: str, port: int
) -> web.AppRunner:
    """Polling mode's small HTTP server for /metrics and /healthz, listening when this
    returns (before the bot says it started, so a health check never finds the port closed).
    The caller cleans the runner up at the end."""
    app = web.Application()
    add_routes(app, metrics, db, health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    log.info("metrics served", extra={"event": "metrics_started", "port": port})
    return runner
