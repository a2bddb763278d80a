"""``python -m bench pictures``: what the progress chart and the summary PDF cost.

- ``chart_ms_p50`` / ``chart_ms_p99``: rendering one chart (26 weekly check-ins, pain and
  three activities) inside a worker while ``BURST`` charts are asked for at once and run in
  a thread pool of ``WORKERS`` (the way the bot would serve them).
- ``burst_wait_ms_p99``: from asking to having the PNG, for the last of those patients;
  ``burst_s``: the whole burst.
- ``chart_ms_alone`` / ``chart_cpu_ms``: one chart with nothing else running (median), wall
  and CPU time; on a busy machine the CPU time is the steadier figure.
- ``summary_pdf_ms``: one summary page with its chart (median).
- ``rss_mb``: the process's peak resident memory, sampled during the burst.
- ``tick_lag_ms_p99`` / ``tick_lag_ms_p99_idle``: how late a 5 ms timer in another thread
  fires during the burst and without it: a stand-in for other patients' replies, which share
  the interpreter lock with the chart threads.
- ``reply_p99_ms_alone`` / ``reply_p99_ms_during_burst`` / ``reply_ratio``: other patients'
  replies through the real ``Turns`` service (engine, features, sealed SQLite store), timed
  one after another on this thread as the bot's event loop runs them (``REPLY_GAP_S``
  apart, as updates come in), with nothing else
  running and while ``BURST`` charts are drawn in worker threads (``asyncio.to_thread``'s
  default pool size, as the sender draws them). Target: ratio at most 1.5.
- ``reply_p99_ms_during_burst_processes`` / ``reply_ratio_processes``: the same while the
  charts are drawn in ``WORKERS`` child processes at a lower CPU priority (``CHART_NICE``)
  instead: how they could be drawn, with the interpreter lock not shared with the replies.
- ``reply_ratio`` is measured the bot's way: worker threads (as the sender) wait for
  ``bot.progress.pool`` (its ``WORKERS`` child processes, nice 10);
  ``reply_ratio_pool_1`` / ``_2`` with 1 and 2 processes; ``reply_ratio_threads``: drawn in
  the threads themselves (how the bot drew before the pool).
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from bench import median, percentile, report
from bot.engine import Engine
from bot.features import load_features
from bot.loader import load_bundle
from bot.progress import pool as drawing_pool
from bot.progress.chart import CheckIn, render_chart
from bot.progress.summary import RedFlagScreen, ReminderUse, Summary, render_summary

BURST = 50
WORKERS = 4
WEEKS = 26
TICK_S = 0.005
PATIENTS = 20  # other patients, each asking in turn
REPLIES_ALONE = 300
BOT_WORKERS = drawing_pool.WORKERS  # the bot's pool of drawing processes (bot.progress.pool)
POOL_SIZES = (1, 2)
CHART_NICE = 10  # the child processes give way to the replies for the CPU
REPLY_GAP_S = 0.01  # between two replies: patients type, the loop waits for updates
FLOWS = Path(__file__).resolve().parent.parent / "flows"
# each other patient's turns, in a loop: a command, a menu button, a question's answer
ASKS = (
    ("command", "questions"),
    ("text", "Scans and diagnosis"),
    ("text", "Is a scan enough?"),
    ("command", "menu"),
)


def _checkins(seed: int) -> list[CheckIn]:
    start = date(2026, 1, 5) + timedelta(days=seed % 7)
    return [
        CheckIn(
            start + timedelta(weeks=week),
            max(0, 8 - week // 4 - (seed + week) % 2),
            ("better", "same", "worse")[(seed + week) % 3],
            {
                "Sitting at work": min(10, 2 + week // 3),
                "Running": min(10, week // 4),
                "Putting on socks": min(10, 4 + (week + seed) % 5),
            },
        )
        for week in range(WEEKS)
    ]


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class _Sampler(threading.Thread):
    """Samples RSS and how late a short timer fires, until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.lags: list[float] = []
        self.peak_rss = 0.0

    def run(self) -> None:
        while not self.stop.is_set():
            start = time.perf_counter()
            time.sleep(TICK_S)
            self.lags.append((time.perf_counter() - start - TICK_S) * 1e3)
            self.peak_rss = max(self.peak_rss, _rss_mb())


def _sample_idle(seconds: float) -> list[float]:
    sampler = _Sampler()
    sampler.start()
    time.sleep(seconds)
    sampler.stop.set()
    sampler.join()
    return sampler.lags


def _timed_chart(checkins: list[CheckIn], asked: float) -> tuple[float, float]:
    start = time.perf_counter()
    render_chart(checkins)
    done = time.perf_counter()
    return (done - start) * 1e3, (done - asked) * 1e3


def _burst() -> tuple[list[float], list[float], float, _Sampler]:
    histories = [_checkins(seed) for seed in range(BURST)]
    sampler = _Sampler()
    sampler.start()
    asked = time.perf_counter()
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="chart") as pool:
        results = list(pool.map(lambda h: _timed_chart(h, asked), histories))
    burst_s = time.perf_counter() - asked
    sampler.stop.set()
    sampler.join()
    return [r[0] for r in results], [r[1] for r in results], burst_s, sampler


class _Patients:
    """Other patients talking to the real ``Turns`` service (sealed SQLite in ``folder``)."""

    def __init__(self, folder: str) -> None:
        from bot.storage import SqlStorage
        from bot.turns import Channel, Inbound, Turns

        self.inbound = Inbound
        bundle = load_bundle([str(FLOWS)])
        engine = Engine(bundle, {"emergency_number": "112", "urgent_care": "your doctor"})
        storage = SqlStorage(str(Path(folder) / "bench.db"))
        features = load_features()
        features.setup(storage)
        self.turns = Turns(engine, storage, features, Channel("bench"), time.time)
        self.count = 0
        for chat in self._chats():
            self.turns.handle(Inbound(chat, "command", text="", name="start"))

    @staticmethod
    def _chats() -> range:
        return range(9000, 9000 + PATIENTS)

    def reply_ms(self) -> float:
        """One patient's next turn, timed from the update to its rows being stored."""
        chat = self._chats()[self.count % PATIENTS]
        kind, words = ASKS[(self.count // PATIENTS) % len(ASKS)]
        self.count += 1
        inbound = (
            self.inbound(chat, "command", text="", name=words)
            if kind == "command"
            else self.inbound(chat, "text", text=words)
        )
        time.sleep(REPLY_GAP_S)
        start = time.perf_counter()
        self.turns.handle(inbound)
        return (time.perf_counter() - start) * 1e3


def _during(patients: _Patients, pool: Executor) -> list[float]:
    """Reply times while ``BURST`` charts are drawn by ``pool``."""
    futures = [pool.submit(render_chart, _checkins(seed)) for seed in range(BURST)]
    during: list[float] = []
    while not all(f.done() for f in futures):
        during.append(patients.reply_ms())
    for future in futures:
        future.result()  # a chart that failed fails the bench
    return during


def _in_bot_pool(checkins: list[CheckIn]) -> bytes:
    """A chart as the bot draws it: a worker thread waits for ``bot.progress.pool``."""
    return drawing_pool.draw(render_chart, checkins)


def _with_bot_pool(patients: _Patients, workers: int, threads: int) -> list[float]:
    """Reply times while ``BURST`` charts are asked for from ``threads`` worker threads (as the
    sender asks), drawn by the bot's pool with ``workers`` child processes."""
    drawing_pool.shutdown()
    drawing_pool.WORKERS = workers
    try:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ask") as asking:
            list(asking.map(_in_bot_pool, [_checkins(0)] * workers))  # start them, warm
            futures = [asking.submit(_in_bot_pool, _checkins(seed)) for seed in range(BURST)]
            during: list[float] = []
            while not all(f.done() for f in futures):
                during.append(patients.reply_ms())
            for future in futures:
                future.result()
        return during
    finally:
        drawing_pool.shutdown()
        drawing_pool.WORKERS = BOT_WORKERS


def _replies(
    folder: str,
) -> tuple[list[float], list[float], list[float], int, dict[int, list[float]]]:
    """Other patients' reply times alone, while ``BURST`` charts are drawn in worker
    threads, while they are drawn in child processes, and the bot's way (``bot.progress.pool``,
    1 and 2 child processes)."""
    patients = _Patients(folder)
    for _ in range(2 * PATIENTS):  # warm-up: every session stored, caches filled
        patients.reply_ms()
    alone = [patients.reply_ms() for _ in range(REPLIES_ALONE)]
    workers = min(32, (os.cpu_count() or 1) + 4)  # asyncio.to_thread's default pool
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chart") as threads:
        during = _during(patients, threads)
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(
        max_workers=WORKERS, mp_context=context, initializer=os.nice, initargs=(CHART_NICE,)
    ) as processes:
        list(processes.map(render_chart, [_checkins(0)] * WORKERS))  # start them, warm
        in_processes = _during(patients, processes)
    in_pool = {n: _with_bot_pool(patients, n, workers) for n in POOL_SIZES}
    return alone, during, in_processes, workers, in_pool


def _summary() -> Summary:
    return Summary(
        made_on=date(2026, 7, 1),
        symptoms=["Pain at the front of the hip", "Stiffness", "Clicking"],
        activities=["Sitting at work", "Running", "Putting on socks"],
        pain_now=4,
        red_flags=RedFlagScreen("No warning signs", date(2026, 1, 5)),
        checkins=_checkins(0),
        reminders=[ReminderUse("Hip exercises", "every day", 120, 170)],
        questions=["Do I need surgery?", "Can I keep running?"],
    )


def run(json: bool = False) -> int:
    render_chart(_checkins(0))  # warm-up: fonts and caches
    alone, cpu = [], []
    for seed in range(10):
        start, start_cpu = time.perf_counter(), time.process_time()
        render_chart(_checkins(seed))
        alone.append((time.perf_counter() - start) * 1e3)
        cpu.append((time.process_time() - start_cpu) * 1e3)
    idle_lags = _sample_idle(2.0)
    render_ms, wait_ms, burst_s, sampler = _burst()
    with tempfile.TemporaryDirectory() as folder:
        replies_alone, replies_during, replies_processes, reply_workers, in_pool = _replies(folder)
    reply_alone = percentile(replies_alone, 0.99)
    reply_during = percentile(replies_during, 0.99)
    reply_processes = percentile(replies_processes, 0.99)
    pool_p99 = {n: percentile(replies, 0.99) for n, replies in in_pool.items()}
    pdf_ms = []
    for _ in range(5):
        start = time.perf_counter()
        render_summary(_summary())
        pdf_ms.append((time.perf_counter() - start) * 1e3)
    result = {
        "chart_ms_p50": round(median(render_ms), 1),
        "chart_ms_p99": round(percentile(render_ms, 0.99), 1),
        "chart_ms_alone": round(median(alone), 1),
        "chart_cpu_ms": round(median(cpu), 1),
        "burst_wait_ms_p99": round(percentile(wait_ms, 0.99), 1),
        "burst_s": round(burst_s, 2),
        "summary_pdf_ms": round(median(pdf_ms), 1),
        "rss_mb": round(sampler.peak_rss, 1),
        "tick_lag_ms_p99": round(percentile(sampler.lags, 0.99), 2),
        "tick_lag_ms_p99_idle": round(percentile(idle_lags, 0.99), 2),
        "reply_p99_ms_alone": round(reply_alone, 2),
        "reply_p99_ms_during_burst": round(pool_p99[BOT_WORKERS], 2),
        "reply_ratio": round(pool_p99[BOT_WORKERS] / reply_alone, 2) if reply_alone else 0.0,
        **{
            f"reply_ratio_pool_{n}": round(p99 / reply_alone, 2) if reply_alone else 0.0
            for n, p99 in pool_p99.items()
        },
        "reply_p99_ms_during_burst_threads": round(reply_during, 2),
        "reply_ratio_threads": round(reply_during / reply_alone, 2) if reply_alone else 0.0,
        "reply_p99_ms_during_burst_processes": round(reply_processes, 2),
        "reply_ratio_processes": round(reply_processes / reply_alone, 2) if reply_alone else 0.0,
        "replies_during_burst": len(in_pool[BOT_WORKERS]),
        "bot_pool_workers": BOT_WORKERS,
        "reply_chart_workers": reply_workers,
        "charts": BURST,
        "workers": WORKERS,
    }
    rows = [
        (
            "chart_ms_p50",
            f"{result['chart_ms_p50']} ms",
            f"one chart in the burst ({WORKERS} threads)",
        ),
        ("chart_ms_p99", f"{result['chart_ms_p99']} ms", f"{BURST} charts asked for at once"),
        ("chart_ms_alone", f"{result['chart_ms_alone']} ms", "one chart, nothing else running"),
        ("chart_cpu_ms", f"{result['chart_cpu_ms']} ms", "its CPU time (wall time minus waiting)"),
        ("burst_wait_ms_p99", f"{result['burst_wait_ms_p99']} ms", "asked -> PNG, last patients"),
        ("burst_s", f"{result['burst_s']} s", "the whole burst"),
        ("summary_pdf_ms", f"{result['summary_pdf_ms']} ms", "one summary page with its chart"),
        ("rss_mb", f"{result['rss_mb']} MB", "peak resident memory during the burst"),
        ("tick_lag_ms_p99", f"{result['tick_lag_ms_p99']} ms", "5 ms timer, during the burst"),
        ("tick_lag_ms_p99_idle", f"{result['tick_lag_ms_p99_idle']} ms", "the same, no burst"),
        (
            "reply_p99_ms_alone",
            f"{result['reply_p99_ms_alone']} ms",
            f"other patients' replies (Turns), {REPLIES_ALONE} alone",
        ),
        (
            "reply_p99_ms_during_burst",
            f"{result['reply_p99_ms_during_burst']} ms",
            f"{len(in_pool[BOT_WORKERS])} replies while {BURST} charts are drawn (the bot's pool)",
        ),
        ("reply_ratio", f"{result['reply_ratio']}", "during / alone (target at most 1.5)"),
        *(
            (f"reply_ratio_pool_{n}", f"{result[f'reply_ratio_pool_{n}']}", f"pool of {n}")
            for n in POOL_SIZES
        ),
        (
            "reply_ratio_threads",
            f"{result['reply_ratio_threads']}",
            "the same, charts drawn in worker threads (before the pool)",
        ),
        (
            "reply_ratio_processes",
            f"{result['reply_ratio_processes']}",
            f"the same, charts drawn in {WORKERS} child processes",
        ),
    ]
    report("bench pictures: progress charts and the summary PDF", rows, result, json)
    return 0
