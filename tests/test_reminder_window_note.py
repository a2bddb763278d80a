"""A sitting-break window typed back to front is put right, and the person is told so."""

from __future__ import annotations

import json
from pathlib import Path

from bot import crypto
from bot.features import load_features
from bot.model import Effect, Session
from bot.storage import SqlStorage


def _notes(storage: SqlStorage, start: str, end: str) -> list[str]:
    answers = {"sit_every": "every_45", "sit_start": start, "sit_end": end}
    session = Session("4711", "reminders", 1, "rem_sit_done", answers=answers, revision=1)
    storage.commit_turn(session, [Effect("schedule_reminder", {"kind": "sitting"})], now=1.0e9)
    texts = []
    for (params,) in storage.db.all("SELECT params FROM outbox"):
        opened = storage.codec.open(params) if crypto.is_sealed(params) else params
        texts.append(json.loads(opened)["text"])
    return texts


def test_back_to_front_window_is_swapped_and_said(tmp_path: Path) -> None:
    storage = SqlStorage(str(tmp_path / "r.db"))
    load_features().setup(storage)
    notes = _notes(storage, "17:00", "09:00")
    assert notes == [
        "Note: I will send sitting breaks from 09:00 to 17:00. Send /reminders to change this."
    ]


def test_a_window_as_typed_needs_no_note(tmp_path: Path) -> None:
    storage = SqlStorage(str(tmp_path / "r.db"))
    load_features().setup(storage)
    assert _notes(storage, "09:00", "17:00") == []
