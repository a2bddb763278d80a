"""Benchmarks: ``python -m bench NAME [--json]``.

Each benchmark is a module with ``run(json: bool) -> int`` that prints a readable table
and, with ``json``, one JSON object as its last line. Register a new one in ``BENCHES``
(name -> module path); the module is imported only when it runs. Benchmarks report
numbers; no test asserts a timing.
"""

from __future__ import annotations

import json as _json
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

BENCHES: dict[str, str] = {
    "engine": "bench.engine",
    "telegram": "bench.telegram",
    "broadcast": "bench.broadcast",
    "reminders": "bench.reminders",
    "privacy": "bench.privacy",
    "replicas": "bench.replicas",
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
