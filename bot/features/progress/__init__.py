"""Progress: the weekly check-ins as a chart (``/progress``) and a one-page summary for the
physio (``/summary``). Its store (``store``) keeps the activity scores; the chat side
(``chat``) draws the chart and the page when they are sent. The drawing itself is in
``bot.progress`` (chart and page), shared with ``bench pictures``."""

from __future__ import annotations

from bot.features import Feature
from bot.features.progress.chat import progress_command, setup, summary_command


def feature() -> Feature:
    return Feature(
        name="progress",
        setup=setup,
        commands={"progress": progress_command, "summary": summary_command},
        descriptions={
            "progress": "My check-ins as a chart",
            "summary": "A one-page summary for my physio",
        },
    )
