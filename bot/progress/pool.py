"""Charts and summary pages drawn in a child process, not in the bot's own process.

Drawing with matplotlib holds the interpreter lock for hundreds of milliseconds; in a worker
thread it slows every other patient's reply (``python -m bench pictures``: p99 up 40-60x
during a burst of 50 charts). Here the drawing runs in a small pool of child processes
(``WORKERS``) at a lower CPU priority (``NICE``), so the bot's process only waits.

The pool starts on first use (``forkserver``: safe in a process with threads; the drawing
modules are loaded once in the server, so a new worker starts quickly). The data sent is
plain picklable values (check-ins, labels, a ``Summary``); the answer is the PNG or PDF
bytes. A worker that dies (``BrokenProcessPool``) gets the pool made anew and the drawing
tried once more. ``shutdown`` ends the pool (the bot calls it on exit; also at interpreter
exit).

``draw`` blocks (call it in a worker thread, as the sender and the web chat do);
``draw_async`` awaits it via ``loop.run_in_executor``.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

log = logging.getLogger("hipbot.progress")
WORKERS = 1  # bench pictures: 1 keeps replies steadiest on a 2-core machine (see README)
NICE = 10  # the drawing gives way to the replies for the CPU
PRELOAD = ["bot.progress.chart", "bot.progress.summary"]
Drawing = Callable[..., bytes]

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def _lower_priority(nice: int) -> None:
    """A worker's initializer: give way to the bot's process for the CPU."""
    os.nice(nice)


def executor() -> ProcessPoolExecutor:
    """The pool, started on first use."""
    global _pool
    with _lock:
        if _pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            _pool = ProcessPoolExecutor(
                max_workers=WORKERS,
                mp_context=context,
                initializer=_lower_priority,
                initargs=(NICE,),
            )
        return _pool


def _renew(broken: ProcessPoolExecutor) -> None:
    """Drop a broken pool (a worker died) so the next call starts a new one."""
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


def draw(drawing: Drawing, *args: Any) -> bytes:
    """``drawing(*args)`` in a child process; its bytes. Blocks: call it in a worker thread.
    A broken pool is made anew and the drawing tried once more; its error is raised."""
    pool = executor()
    try:
        return pool.submit(drawing, *args).result()
    except BrokenProcessPool:
        log.warning("a drawing process died; starting the pool anew", extra={"event": "pool"})
        _renew(pool)
        return executor().submit(drawing, *args).result()


async def draw_async(drawing: Drawing, *args: Any) -> bytes:
    """``draw`` for the event loop: awaits the child process without blocking the loop."""
    return await asyncio.get_running_loop().run_in_executor(None, draw, drawing, *args)


def shutdown() -> None:
    """End the pool's processes (the bot's exit; safe when it never started)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown)
