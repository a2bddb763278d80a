"""A person who comes back to a step with a picture sees the picture again (issue 14)."""

from __future__ import annotations

from pathlib import Path

from bot import outgoing
from bot.engine import Engine
from bot.loader import load_bundle
from bot.model import Session

REPO = Path(__file__).resolve().parents[1]


def test_resuming_at_a_step_with_a_picture_shows_it_again() -> None:
    engine = Engine(load_bundle([str(REPO / "flows")]), {"emergency_number": "112"})
    flow = engine.bundle.flows["hip"]
    session = Session("7", "hip", flow.version, "learn_joint", revision=3)
    replies = engine.repeat(session).replies
    assert replies[0].image == "hip_normal"
    assert "ball turns smoothly" in replies[0].text  # the step's message, as its caption
    assert replies[0].alt.startswith("A drawing of a hip")
    rows = outgoing.say(1, replies[0])
    assert [kind for _, kind, _ in rows] == [outgoing.PHOTO]
    assert [label for label, _ in rows[0][2]["buttons"][0]] == ["Next"]


def test_resuming_at_a_step_without_a_picture_sends_none() -> None:
    engine = Engine(load_bundle([str(REPO / "flows")]), {"emergency_number": "112"})
    session = Session("7", "hip", engine.bundle.flows["hip"].version, "menu", revision=3)
    assert [reply.image for reply in engine.repeat(session).replies] == [""]
