"""Benchmarks: ``python -m bench NAME [--json]``.

Each benchmark is a module with ``run(json: bool) -> int`` that prints a readable table
and, with ``json``, one JSON object as its last line. Register a new one in ``BENCHES``
(name -> module path); the module is imported only when it runs. Benchmarks report
numbers; no test asserts a timing.
"""

from __future__ import annotations

import json as _json
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

BENCHES: dict[str, str] = {
    "engine": "bench.engine",
    "telegram": "bench.telegram",
    "telegram-walk": "bench.telegram_walk",
    "broadcast": "bench.broadcast",
    "reminders": "bench.reminders",
    "privacy": "bench.privacy",
    "replicas": "bench.replicas",
    "pictures": "bench.pictures",
    "dashboard": "bench.dashboard",
}


def percentile(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def table(title: str, rows: Sequence[tuple[str, str, str]]) -> str:
    """A small aligned table: (figure, value, note) per row."""
    head = ("figure", "value", "note")
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(3)]
    lines = [title, ""]
    for row in [head, tuple("-" * w for w in widths), *rows]:
        lines.append(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )
    return "\n".join(lines)


def report(
    title: str, rows: Sequence[tuple[str, str, str]], result: Mapping[str, Any], as_json: bool
) -> None:
    """Print the table; with ``as_json`` the result follows as the last line."""
    print(table(title, rows))
    if as_json:
        print(_json.dumps(dict(result), sort_keys=True))


def wait_until(check: Callable[[], object], timeout: float, what: str, poll: float = 0.05) -> None:
    """Poll ``check`` until it is truthy; TimeoutError naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(poll)


def utilisation(fake: Any, first: float, last: float, cap: float) -> float:
    """Messages the fake Bot API accepted between ``first`` and ``last``, as a share of
    ``cap`` a second (send* methods only, as Telegram's flood limit counts them)."""
    accepted = [
        c
        for c in fake.calls()
        if c.status == 200
        and c.method.startswith("send")
        and c.method != "sendChatAction"
        and first <= c.time <= last
    ]
    return (len(accepted) - 1) / max(last - first, 1e-9) / cap
