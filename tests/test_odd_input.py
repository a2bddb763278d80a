"""Input the engine cannot use is re-asked, never an error (issue 11, fault 6 and the
terminal chat's typed numbers): superscripts, circled digits, huge numbers, forged data."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot import callbacks, texts
from bot.conversation import ButtonNotOffered, Conversation
from bot.engine import Engine
from bot.loader import load_bundle
from bot.model import Bundle, Event
from bot.storage import MemoryStorage

GOOD = Path(__file__).resolve().parent / "flows" / "good"
ODD = ["²", "①", "٣٣", "Ⅻ", "9" * 20, "1" * 5000, "½"]


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    return load_bundle([GOOD])


@pytest.fixture
def chat(bundle: Bundle) -> Conversation:
    return Conversation(Engine(bundle), MemoryStorage(), "42")


def where(chat: Conversation) -> str:
    session = chat.session
    assert session is not None
    return session.step


@pytest.mark.parametrize("typed", ODD)
def test_odd_digits_at_a_button_step_are_re_asked(chat: Conversation, typed: str) -> None:
    chat.send("/start")
    assert where(chat) == "menu"
    chat.send(typed)
    assert where(chat) == "menu"
    assert [label for label, _ in chat.offered()] == ["Check", "Help me", "Exercises"]


@pytest.mark.parametrize("typed", ODD)
def test_odd_digits_at_a_number_question_are_re_asked(chat: Conversation, typed: str) -> None:
    chat.send("/start")
    chat.click("Check")
    chat.click("Yes")
    assert where(chat) == "pain"
    chat.send(typed)
    assert where(chat) == "pain"
    assert "A number from 0 to 10, please." in chat.text()


def test_arabic_indic_digits_still_count(chat: Conversation) -> None:
    chat.send("/start")
    chat.send("١")  # ARABIC-INDIC DIGIT ONE: the first button, like "1"
    assert where(chat) == "age"


@pytest.mark.parametrize(
    "data",
    ["1:mini:1:menu:b²", "1:mini:²:menu:b0", "1:mini:1:menu:b①", "1:mini:1:menu:b" + "9" * 20],
)
def test_forged_button_data_with_odd_digits_is_a_stale_button(
    chat: Conversation, data: str
) -> None:
    chat.send("/start")
    chat.handle(Event.button(data))
    assert where(chat) == "menu"
    assert texts.STALE_BUTTON.get("en") in chat.text()


@pytest.mark.parametrize("data", ["1:f:²:s:b0", "1:f:1:s:b²", "1:f:1:s:o①", "1:f:1:s:b" + "9" * 20])
def test_decode_refuses_what_int_cannot_read_or_is_absurd(data: str) -> None:
    assert callbacks.decode(data) is None


def test_decode_still_reads_good_data() -> None:
    assert callbacks.decode("1:f:12:s:o3") == callbacks.StepPress("f", 12, "s", "o", 3)


# ---------------------------------------------------------------- typed numbers in hipbot chat


def test_a_typed_number_at_a_number_question_is_a_value_not_a_position(
    chat: Conversation,
) -> None:
    chat.send("/start")
    chat.click("Check")
    chat.click("Yes")
    assert where(chat) == "pain"
    with pytest.raises(ButtonNotOffered):
        chat.button_event("11")  # eleven buttons 0..10: "11" is not the eleventh ("10")
    chat.send("11")
    assert where(chat) == "pain" and "pain" not in dict(chat.session.answers)  # type: ignore[union-attr]
    chat.click("3")  # the button labelled 3, not the third button (2)
    assert dict(chat.session.answers)["pain"] == 3  # type: ignore[union-attr]


def test_typed_positions_still_press_buttons_elsewhere(chat: Conversation) -> None:
    chat.send("/start")
    chat.click("2")
    assert where(chat) == "help"


# ---------------------------------------------------------------- every step of the real flows

REPO_FLOWS = Path(__file__).resolve().parents[1] / "flows"
ODD_TEXT = [*ODD, "0²", "1①", "７", "12:3²", "²:30", "utc+²", "+9" * 3000]


def test_no_step_of_the_real_flows_fails_on_odd_input() -> None:
    """Every step of every shipped flow: odd text and forged button data are re-asked or
    ignored, never an exception (which the adapter would answer with "Sorry ...")."""
    engine = Engine(load_bundle([REPO_FLOWS]))
    data = [f"1:{{flow}}:{{version}}:{{step}}:{kind}{odd}" for kind in "bodn" for odd in ODD]
    for flow in engine.bundle.flows.values():
        for step_id in flow.steps:
            at = replace(engine.new_session("7"), flow=flow.id, version=flow.version, step=step_id)
            events = [Event.message(text) for text in ODD_TEXT] + [
                Event.button(d.format(flow=flow.id, version=flow.version, step=step_id))
                for d in data
            ]
            for event in events:
                outcome = engine.handle(at, event, "7")
                assert outcome.replies, (flow.id, step_id, event)
