"""``python -m bench``: the output contract, never the timings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench import BENCHES, table

ROOT = Path(__file__).resolve().parent.parent


def test_engine_bench_ends_with_one_json_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "engine", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    *table_lines, last = result.stdout.rstrip("\n").splitlines()
    figures = json.loads(last)
    for key in ("median_us_per_event", "raw_transitions_us", "ratio", "validate_ms"):
        assert isinstance(figures[key], float) and figures[key] > 0, key
    expected = figures["median_us_per_event"] / figures["raw_transitions_us"]
    assert abs(figures["ratio"] - expected) < 0.02
    assert figures["walk_events"] > 0
    assert any(line.startswith("median_us_per_event") for line in table_lines)


def test_unknown_bench_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "invalid choice: 'nope'" in result.stderr


def test_registry_and_table() -> None:
    assert BENCHES["engine"] == "bench.engine"
    assert table("t", [("a", "1", ""), ("long_name", "22", "x")]).splitlines() == [
        "t",
        "",
        "figure     value  note",
        "---------  -----  ----",
        "a          1",
        "long_name  22     x",
    ]
