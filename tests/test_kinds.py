"""Document kinds register with the loader (``bot.kinds``); the loader imports none of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot import authoring, kinds
from bot.authoring import DocumentKind, Loading, document_kind, register
from bot.errors import FlowError, FlowErrors, HipbotError
from bot.loader import load_bundle

GOOD = Path(__file__).resolve().parent / "flows" / "good"


def test_every_kind_of_the_flows_folder_is_registered() -> None:
    keys = [kind.key for kind in authoring.registered()]
    assert keys[: len(kinds.KINDS)] == [
        "transcript",
        "audiences",
        "followups",
        "policy",
        "safety",
    ]
    assert document_kind({"policy": "privacy", "version": 1}) == "policy"
    assert document_kind({"texts": "engine"}) == "texts"
    assert document_kind({"hello": 1}) is None


def test_a_new_kind_is_read_and_checked_once_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(authoring, "_REGISTERED", dict(authoring._REGISTERED))
    seen: list[str] = []

    def read(file: str, document: Any, loading: Loading) -> None:
        seen.append(file)
        loading.keep("notes", document["notes"])

    def check(loading: Loading) -> None:
        for note in loading.kept("notes"):
            if note not in loading.flows:
                loading.problems.append(FlowError("notes.yaml", "notes", f"no flow '{note}'"))

    register(DocumentKind("notes", "notes on a flow", read, check))
    notes = tmp_path / "notes.yaml"
    notes.write_text("notes: nowhere\n", encoding="utf-8")
    with pytest.raises(FlowErrors, match=r"notes.yaml > notes: no flow 'nowhere'"):
        load_bundle([GOOD, notes])
    assert seen == [str(notes)]


def test_a_kind_registered_twice_differently_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(authoring, "_REGISTERED", dict(authoring._REGISTERED))
    register(kinds.TRANSCRIPTS)  # the same again: fine
    with pytest.raises(ValueError, match="'transcript' is registered twice"):
        register(DocumentKind("transcript", "something else"))


def test_loading_without_the_kinds_registered_says_what_to_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(authoring, "_REGISTERED", {})
    with pytest.raises(HipbotError, match=r"import bot\.kinds first"):
        load_bundle([GOOD])
