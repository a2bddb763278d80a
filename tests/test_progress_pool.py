"""Charts and pages drawn in a child process (bot.progress.pool)."""

from __future__ import annotations

import asyncio
import io
import os
from concurrent.futures.process import BrokenProcessPool
from datetime import date, timedelta

import pytest
from PIL import Image

from bot.progress import pool
from bot.progress.chart import SIZE, CheckIn, render_chart


def _checkins() -> list[CheckIn]:
    start = date(2026, 1, 5)
    return [
        CheckIn(start + timedelta(weeks=i), 6 - i, "better", {"stairs": 4 + i}) for i in range(4)
    ]


def _die() -> bytes:
    os._exit(3)  # a worker that crashes (as if killed by the out-of-memory killer)


def _pid() -> bytes:
    return str(os.getpid()).encode()


@pytest.fixture(autouse=True)
def _fresh_pool() -> object:
    pool.shutdown()
    yield None
    pool.shutdown()


def test_a_chart_made_in_the_pool_is_a_png_of_the_right_size() -> None:
    content = pool.draw(render_chart, _checkins())
    image = Image.open(io.BytesIO(content))
    assert image.format == "PNG"
    assert image.size == SIZE


def test_drawing_runs_in_another_process() -> None:
    assert pool.draw(_pid) != str(os.getpid()).encode()


def test_awaited_from_the_event_loop() -> None:
    content = asyncio.run(pool.draw_async(render_chart, _checkins()))
    assert content.startswith(b"\x89PNG")


def test_the_pool_survives_a_worker_crash() -> None:
    first = pool.executor()
    with pytest.raises(Exception, match="terminated abruptly"):
        pool.draw(_die)  # dies again in the new pool: the second try's error is raised
    assert pool.draw(_pid).isdigit()
    assert pool.executor() is not first


def test_a_crash_then_a_good_drawing_is_retried_once() -> None:
    broken = pool.executor()
    broken.submit(_die)  # the worker dies: this pool is broken
    with pytest.raises(BrokenProcessPool):
        broken.submit(_pid).result()
    content = pool.draw(render_chart, _checkins())  # the broken pool is made anew, drawn once more
    assert content.startswith(b"\x89PNG")
    assert pool.executor() is not broken


def test_shutdown_when_never_started_is_fine() -> None:
    pool.shutdown()
    pool.shutdown()
