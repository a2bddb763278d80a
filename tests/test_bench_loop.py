"""The figures' contracts of issue 13's benchmarks, never their timings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_telegram_loop_text_gets_a_one_message_reply_in_the_shipped_flow() -> None:
    from bench import telegram

    start, menu = telegram._expected_sends(ROOT / "flows")
    assert start >= 1 and menu == 1


def test_privacy_bench_compares_aes_gcm_with_fernet(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench import privacy as bench

    monkeypatch.setattr(bench, "PEOPLE", 5)
    monkeypatch.setattr(bench, "TURNS", 5)
    assert bench.run(json=True) == 0
    figures = json.loads(capsys.readouterr().out.rstrip("\n").splitlines()[-1])
    for key in ("seal_us", "open_us", "fernet_seal_us", "fernet_open_us", "seal_speedup"):
        assert figures[key] > 0, key
    assert figures["fernet_sealed_bytes"] > 0 and figures["sealed_bytes"] > 0
