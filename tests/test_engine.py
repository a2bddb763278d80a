"""The engine, driven like a person would: ``chat.send(...)``, ``chat.click(...)``.

The flows are tests/flows/good/ (mini.yaml, extra.yaml, mini_tips.yaml). Tests that need
another version of them write it to a temporary folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

import bot.engine
from bot import callbacks, texts
from bot.conversation import ButtonNotOffered, Conversation
from bot.engine import Engine
from bot.loader import load_bundle
from bot.model import Bundle, Event, Session
from bot.storage import MemoryStorage

GOOD = Path(__file__).resolve().parent / "flows" / "good"


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    return load_bundle([GOOD])


@pytest.fixture(scope="module")
def engine(bundle: Bundle) -> Engine:
    return Engine(bundle)


@pytest.fixture
def chat(engine: Engine) -> Conversation:
    return Conversation(engine, MemoryStorage(), "42")


def buttons(chat: Conversation) -> list[str]:
    return [label for label, _ in chat.offered()]


def step(chat: Conversation) -> str:
    session = chat.session
    assert session is not None
    return f"{session.flow}:{session.step}"


def answers(chat: Conversation) -> dict[str, Any]:
    session = chat.session
    assert session is not None
    return dict(session.answers)


def at_step(chat: Conversation, where: str) -> None:
    """Walk the quickest way to a step of the mini flow."""
    path = {
        "menu": [],
        "age": ["Check"],
        "pain": ["Check", "Yes"],
        "hurts": ["Check", "Yes", "7"],
        "when": ["Check", "Yes", "7", "None of these"],
        "side": ["Check", "Yes", "7", "None of these", "/send 18:30"],
    }[where]
    chat.send("/start")
    for action in path:
        if action.startswith("/send "):
            chat.send(action.removeprefix("/send "))
        else:
            chat.click(action)
    assert step(chat) == f"mini:{where}"


# ---------------------------------------------------------------- starting and buttons


def test_start_greets_and_offers_the_menu(chat: Conversation) -> None:
    replies = chat.send("/start")
    assert [reply.text for reply in replies] == ["Hello! Emergency: 112", "What would you like?"]
    assert replies[0].buttons == ()
    assert buttons(chat) == ["Check", "Help me", "Exercises"]
    assert step(chat) == "mini:menu"
    assert chat.storage.journal("42") == [("started", {"payload": ""})]


def test_start_payload_is_recorded(chat: Conversation) -> None:
    chat.send("/start clinic_7")
    assert chat.storage.journal("42") == [("started", {"payload": "clinic_7"})]


def test_configured_emergency_number_is_filled_in(bundle: Bundle) -> None:
    chat = Conversation(Engine(bundle, {"emergency_number": "999"}), MemoryStorage(), "1")
    chat.send("/start")
    assert "Hello! Emergency: 999" in chat.text()


def test_buttons_go_where_they_say(chat: Conversation) -> None:
    chat.send("/start")
    chat.click("Help me")
    assert chat.text() == "Tap a button or type /menu."
    assert buttons(chat) == ["Back to menu"]
    chat.click("Back to menu")
    assert step(chat) == "mini:menu"


def test_typing_a_buttons_label_or_number_presses_it(chat: Conversation) -> None:
    chat.send("/start")
    chat.send("help me")
    assert step(chat) == "mini:help"
    chat.send("1")
    assert step(chat) == "mini:menu"


def test_button_data_fits_telegram(chat: Conversation) -> None:
    at_step(chat, "hurts")
    for _, data in chat.offered():
        assert len(data.encode()) <= callbacks.MAX_BYTES
        assert callbacks.decode(data) is not None


def test_clicking_a_button_that_is_not_offered_is_a_test_error(chat: Conversation) -> None:
    chat.send("/start")
    with pytest.raises(ButtonNotOffered, match="offered: 'Check', 'Help me', 'Exercises'"):
        chat.click("Nope")


def test_pressed_button_label_is_reported_as_chosen(engine: Engine) -> None:
    outcome = engine.handle(None, Event.start(), "9")
    press = engine.handle(outcome.session, Event.button("1:mini:2:menu:b1"))
    assert press.chosen == "Help me"


# ---------------------------------------------------------------- yes / no


@pytest.mark.parametrize("typed", ["yes", "Y", "Yes please", "Yeah!", "1"])
def test_yes_no_accepts_typed_yes(chat: Conversation, typed: str) -> None:
    at_step(chat, "age")
    chat.send(typed)
    assert answers(chat) == {"adult": True}
    assert step(chat) == "mini:pain"


@pytest.mark.parametrize("typed", ["ok", "sure", "okay"])
def test_yes_no_does_not_take_ok_for_yes(chat: Conversation, typed: str) -> None:
    """At "Do you have a fever?", "ok" is not an answer: a false yes would raise an alarm."""
    at_step(chat, "age")
    chat.send(typed)
    assert "adult" not in answers(chat)
    assert step(chat) == "mini:age"


def test_yes_no_button_and_branch_to_the_end(chat: Conversation) -> None:
    at_step(chat, "age")
    assert buttons(chat) == ["Yes", "No"]
    chat.click("No")
    assert chat.text() == "Please talk to a parent and a doctor."
    assert step(chat) == "mini:too_young"
    # clear_answers ran: nothing is kept about someone under 16
    assert answers(chat) == {}
    assert ("answers_cleared", {"step": "too_young"}) in chat.storage.journal("42")


@pytest.mark.parametrize("typed", ["no", "nope", "2"])
def test_yes_no_accepts_typed_no(chat: Conversation, typed: str) -> None:
    at_step(chat, "age")
    chat.send(typed)
    assert step(chat) == "mini:too_young"


def test_yes_no_reasks_on_anything_else(chat: Conversation) -> None:
    at_step(chat, "age")
    replies = chat.send("maybe")
    assert [reply.text for reply in replies] == ["Please answer yes or no. You can tap a button."]
    assert buttons(chat) == ["Yes", "No"]
    assert step(chat) == "mini:age"
    session = chat.session
    assert session is not None and session.failures == 1


# ---------------------------------------------------------------- whole numbers


@pytest.mark.parametrize(("typed", "value"), [("7", 7), ("0", 0), ("10", 10), ("7/10", 7)])
def test_integer_typed(chat: Conversation, typed: str, value: int) -> None:
    at_step(chat, "pain")
    chat.send(typed)
    assert answers(chat)["pain"] == value
    assert step(chat) == "mini:hurts"


def test_integer_buttons_are_the_scale(chat: Conversation) -> None:
    at_step(chat, "pain")
    assert buttons(chat) == [str(n) for n in range(11)]
    chat.click("10")
    assert answers(chat)["pain"] == 10


@pytest.mark.parametrize("typed", ["11", "-1", "seventeen", "7.5", "", "1 2"])
def test_integer_out_of_range_or_not_a_number_gets_the_steps_reask(
    chat: Conversation, typed: str
) -> None:
    at_step(chat, "pain")
    chat.send(typed or " ")
    assert chat.text() == "A number from 0 to 10, please."
    assert buttons(chat) == [str(n) for n in range(11)]
    assert "pain" not in answers(chat)


# ---------------------------------------------------------------- several choices


def test_multi_toggles_then_done(chat: Conversation) -> None:
    at_step(chat, "hurts")
    assert buttons(chat) == ["Sitting", "Stairs", "Driving", "Done", "None of these"]
    toggled = chat.click("Sitting")
    assert all(reply.edit for reply in toggled)  # the keyboard on screen changes in place
    assert buttons(chat)[0] == "✅ Sitting"
    chat.click("Driving")
    chat.click("Sitting")  # and off again
    assert buttons(chat)[:3] == ["Sitting", "Stairs", "✅ Driving"]
    chat.click("Stairs")
    chat.click("Done")
    assert answers(chat)["hurts"] == ["driving", "stairs"]
    assert step(chat) == "mini:when"


def test_multi_none_of_these(chat: Conversation) -> None:
    at_step(chat, "hurts")
    chat.click("Stairs")
    chat.click("None of these")
    assert answers(chat)["hurts"] == []
    assert step(chat) == "mini:when"


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("1, 3", ["sitting", "driving"]),
        ("3 1", ["driving", "sitting"]),
        ("sitting and stairs", ["sitting", "stairs"]),
        ("Driving", ["driving"]),
        ("none", []),
        ("0", []),
    ],
)
def test_multi_typed(chat: Conversation, typed: str, value: list[str]) -> None:
    at_step(chat, "hurts")
    chat.send(typed)
    assert answers(chat)["hurts"] == value


def test_multi_typed_done_keeps_what_was_tapped(chat: Conversation) -> None:
    at_step(chat, "hurts")
    chat.click("Stairs")
    chat.send("done")
    assert answers(chat)["hurts"] == ["stairs"]
    assert step(chat) == "mini:when"


def test_multi_typed_choice_keeps_what_was_ticked(chat: Conversation) -> None:
    """Ticking Sitting, then typing "stairs", answers both: nothing ticked is dropped."""
    at_step(chat, "hurts")
    chat.click("Sitting")
    chat.send("stairs")
    assert answers(chat)["hurts"] == ["sitting", "stairs"]


def test_multi_typed_none_label(chat: Conversation) -> None:
    at_step(chat, "hurts")
    chat.send("None of these")
    assert answers(chat)["hurts"] == []


@pytest.mark.parametrize("typed", ["6", "sitting, flying", "everything"])
def test_multi_invalid_reasks(chat: Conversation, typed: str) -> None:
    at_step(chat, "hurts")
    chat.send(typed)
    assert chat.text() == texts.REASK_MULTI.get("en")
    assert "Done" in buttons(chat)
    assert step(chat) == "mini:hurts"


# ---------------------------------------------------------------- time of day


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("18:30", "18:30"),
        ("9am", "09:00"),
        ("9 AM", "09:00"),
        ("9 a.m.", "09:00"),
        ("9.30pm", "21:30"),
        ("9:30 pm", "21:30"),
        ("12am", "00:00"),
        ("12pm", "12:00"),
        ("07:05", "07:05"),
        ("0:00", "00:00"),
        ("23:59", "23:59"),
    ],
)
def test_time_formats(chat: Conversation, typed: str, value: str) -> None:
    at_step(chat, "when")
    chat.send(typed)
    assert answers(chat)["when"] == value
    assert step(chat) == "mini:side"


@pytest.mark.parametrize("typed", ["25:00", "24:00", "18:60", "13pm", "0am", "noon", "9:5"])
def test_impossible_times_are_rejected(chat: Conversation, typed: str) -> None:
    at_step(chat, "when")
    chat.send(typed)
    assert chat.text() == texts.REASK_TIME.get("en")
    assert "when" not in answers(chat)
    assert step(chat) == "mini:when"


# ---------------------------------------------------------------- one choice


@pytest.mark.parametrize(
    ("typed", "value"), [("Left", "left"), ("right", "right"), ("2", "right"), ("3", "both")]
)
def test_choice_typed_label_or_number(chat: Conversation, typed: str, value: str) -> None:
    at_step(chat, "side")
    chat.send(typed)
    assert answers(chat)["side"] == value
    assert step(chat) == "mini:summary"


def test_choice_invalid_reasks(chat: Conversation) -> None:
    at_step(chat, "side")
    chat.send("4")
    assert chat.text() == texts.REASK_CHOICE.get("en")
    assert buttons(chat) == ["Left", "Right", "Both & <not sure>"]


# ---------------------------------------------------------------- summary: say, placeholders, tips


def walk_to_summary(chat: Conversation, pain: str, hurts: list[str], side: str) -> str:
    at_step(chat, "pain")
    chat.click(pain)
    for label in hurts:
        chat.click(label)
    chat.click("Done" if hurts else "None of these")
    chat.send("9am")
    chat.click(side)
    return chat.text()


def test_summary_fills_in_answers_with_their_labels(chat: Conversation) -> None:
    said = walk_to_summary(chat, "7", ["Sitting", "Stairs"], "Left")
    assert said.startswith("Pain 7/10 on the Left; hurts: Sitting, Stairs; at 09:00.")
    assert step(chat) == "mini:summary"


def test_conditional_say(chat: Conversation, engine: Engine) -> None:
    assert "Pain is high." in walk_to_summary(chat, "7", [], "Left")
    low = Conversation(engine, MemoryStorage(), "low")
    assert "Pain is high." not in walk_to_summary(low, "6", [], "Left")


def test_label_with_html_characters_is_escaped_in_a_message(chat: Conversation) -> None:
    said = walk_to_summary(chat, "3", [], "Both & <not sure>")
    assert "on the Both &amp; &lt;not sure&gt;;" in said
    assert "<not sure>" not in said
    assert "hurts: None of these" in said


def test_answer_values_are_escaped_when_filled_in(engine: Engine) -> None:
    """Answers come back from storage; whatever they hold must not become markup."""
    session = Session(
        "x",
        "mini",
        2,
        "side",
        answers={"pain": 2, "hurts": ["<i>", "sitting"], "when": "<b>now</b>", "adult": True},
    )
    outcome = engine.handle(session, Event.message("left"))
    (summary, *_) = outcome.replies
    assert summary.text == (
        "Pain 2/10 on the Left; hurts: &lt;i&gt;, Sitting; at &lt;b&gt;now&lt;/b&gt;."
    )


def test_display_is_plain_text_and_placeholder_escapes_it(engine: Engine) -> None:
    question = engine.questions["side"]
    assert engine._display(question, "both", "en") == "Both & <not sure>"
    assert engine._display(question, "<b>", "en") == "<b>"
    session = Session("x", "mini", 2, "summary", answers={"side": "both"})
    assert engine._placeholder("side", session) == "Both &amp; &lt;not sure&gt;"
    assert engine._placeholder("when", session) == "not answered"


def test_tips_fit_the_answers(chat: Conversation, engine: Engine) -> None:
    said = walk_to_summary(chat, "2", ["Sitting"], "Left")
    assert "Tips:\n\n• Use a wedge cushion.\n\n• Change what hurts." in said
    assert "Hold the rail." not in said
    nothing = Conversation(engine, MemoryStorage(), "nothing")
    said = walk_to_summary(nothing, "2", [], "Left")
    assert "Tips:\n\n• Change what hurts." in said
    assert "wedge" not in said and "rail" not in said


def test_actions_effects_are_recorded_in_the_journal(chat: Conversation) -> None:
    walk_to_summary(chat, "2", [], "Left")
    journal = chat.storage.journal("42")
    assert ("check_finished", {"step": "summary"}) in journal
    assert ("red_flag", {"flag": "none", "step": "summary"}) in journal


def test_action_in_another_flow_and_coming_back(chat: Conversation) -> None:
    chat.send("/start")
    chat.click("Exercises")
    assert step(chat) == "extra:intro"
    assert buttons(chat) == ["Remind me daily", "Back to the menu"]
    chat.click("Remind me daily")
    assert chat.text() == "I will remind you every morning.\n\nWhat would you like?"
    assert step(chat) == "mini:menu"
    assert ("schedule_reminder", {"at": "09:00", "step": "remind"}) in chat.storage.journal("42")


# ---------------------------------------------------------------- things that go wrong


def test_unknown_command_says_so_and_shows_the_step_again(chat: Conversation) -> None:
    at_step(chat, "pain")
    replies = chat.send("/frobnicate")
    assert replies[0].text == texts.UNKNOWN_COMMAND.get("en")
    assert buttons(chat) == [str(n) for n in range(11)]
    assert step(chat) == "mini:pain"


@pytest.mark.parametrize(
    "data",
    [
        "1:mini:2:menu:b0",  # a button of a step the person has left
        "1:mini:1:pain:o3",  # the right step, an old version of the flow
        "1:mini:2:pain:o99",  # no such option
        "1:mini:2:pain:x1",  # no such kind of button
        "garbage",
        "2:mini:2:pain:o3",  # a future format
        "1:mini:2:pain:o" + "3" * 60,  # over-long data, as no Telegram client would send
        "",
    ],
)
def test_stale_or_broken_button_shows_where_we_are(chat: Conversation, data: str) -> None:
    at_step(chat, "pain")
    replies = chat.handle(Event.button(data))
    assert replies[0].text == texts.STALE_BUTTON.get("en")
    assert replies[-1].text == "Pain now, 0 to 10?"
    assert buttons(chat) == [str(n) for n in range(11)]
    session = chat.session
    assert session is not None
    assert (session.step, session.failures, dict(session.answers)) == ("pain", 0, {"adult": True})


def test_free_text_where_buttons_are_expected_shows_them_again(chat: Conversation) -> None:
    chat.send("/start")
    replies = chat.send("my hip hurts")
    assert [reply.text for reply in replies] == [texts.PICK_A_BUTTON.get("en")]
    assert buttons(chat) == ["Check", "Help me", "Exercises"]
    assert step(chat) == "mini:menu"


def test_way_out_after_three_failures_and_never_a_loop(chat: Conversation) -> None:
    at_step(chat, "pain")
    for attempt in range(1, 8):
        replies = chat.send("banana")
        way_out = [r for r in replies if r.text == texts.WAY_OUT.get("en")]
        assert bool(way_out) == (attempt >= 3), attempt
    assert buttons(chat)[-2:] == ["Menu", "Help"]
    chat.click("Menu")
    assert step(chat) == "mini:menu"
    session = chat.session
    assert session is not None and session.failures == 0


def test_a_good_answer_resets_the_failures(chat: Conversation) -> None:
    at_step(chat, "pain")
    chat.send("banana")
    chat.send("banana")
    chat.send("4")
    chat.send("banana")  # a new question, a first failure: no way out yet
    assert texts.WAY_OUT.get("en") not in chat.text()


def test_typing_at_an_end_step_offers_the_menu(chat: Conversation) -> None:
    at_step(chat, "age")
    chat.click("No")
    replies = chat.send("hello?")
    assert [reply.text for reply in replies] == [texts.AT_END.get("en")]
    assert buttons(chat) == ["Menu", "Help"]


STRANGE_EVENTS = [
    Event.message(""),
    Event.message("\u200b"),
    Event.message("🙂" * 500),
    Event.message("/"),
    Event.message("1:mini:2:menu:b0"),
    Event.command_named(""),
    Event.command_named("START"),
    Event.button("1:r:nonsense"),
    Event.button("1:mini:2::b0"),
    Event.timer_named(""),
    Event.timer_named("mini:nowhere"),
    Event.start("x" * 200),
]


def test_no_event_at_any_step_raises(bundle: Bundle, engine: Engine) -> None:
    for flow in bundle.flows.values():
        for step_id in flow.steps:
            session = Session("s", flow.id, flow.version, step_id, answers={"pain": 5})
            for event in STRANGE_EVENTS:
                outcome = engine.handle(session, event)
                assert outcome.session.revision == 1
                assert outcome.session.step in bundle.flows[outcome.session.flow].steps


# ---------------------------------------------------------------- global routes


def test_route_command_from_any_step(chat: Conversation) -> None:
    at_step(chat, "hurts")
    chat.click("Sitting")
    chat.send("/help")
    assert step(chat) == "mini:help"
    session = chat.session
    assert session is not None and session.picked == ()
    chat.send("/MENU")
    assert step(chat) == "mini:menu"


def test_route_alias_typed_at_a_question(chat: Conversation) -> None:
    at_step(chat, "pain")
    chat.send("Menu")
    assert step(chat) == "mini:menu"


def test_route_declared_in_another_flow_works_everywhere(chat: Conversation) -> None:
    at_step(chat, "when")
    chat.send("/urgent")
    assert chat.text() == "If this is an emergency, call <b>112</b> now."
    assert step(chat) == "extra:urgent"
    chat.send("/menu")
    chat.send("emergency")
    assert step(chat) == "extra:urgent"


def test_route_button_from_the_way_out(chat: Conversation) -> None:
    at_step(chat, "pain")
    chat.handle(Event.button(callbacks.encode_route("help")))
    assert step(chat) == "mini:help"


def test_telegram_style_command_with_bot_name(chat: Conversation) -> None:
    at_step(chat, "age")
    chat.send("/menu@hipbot")
    assert step(chat) == "mini:menu"


# ---------------------------------------------------------------- timers


def test_timer_event_moves_to_its_step(chat: Conversation) -> None:
    chat.send("/start")
    replies = chat.handle(Event.timer_named("mini:when"))
    assert [reply.text for reply in replies] == ["When should I remind you?"]
    assert step(chat) == "mini:when"


def test_timer_for_a_step_that_does_not_exist_does_nothing(chat: Conversation) -> None:
    at_step(chat, "pain")
    assert chat.handle(Event.timer_named("mini:gone")) == []
    assert chat.handle(Event.timer_named("nowhere:pain")) == []
    assert step(chat) == "mini:pain"


# ---------------------------------------------------------------- new people, returning people


@pytest.mark.parametrize(
    "event",
    [
        Event.message("hello"),
        Event.button("1:mini:2:menu:b0"),
        Event.timer_named("mini:pain"),
        Event.command_named("frobnicate"),
    ],
)
def test_a_new_person_always_starts_at_the_beginning(engine: Engine, event: Event) -> None:
    outcome = engine.handle(None, event, "new")
    assert [reply.text for reply in outcome.replies] == [
        "Hello! Emergency: 112",
        "What would you like?",
    ]
    assert (outcome.session.user_id, outcome.session.step) == ("new", "menu")
    assert outcome.session.revision == 1
    assert outcome.session.failures == 0


def test_a_new_persons_first_command_is_kept(engine: Engine) -> None:
    outcome = engine.handle(None, Event.command_named("help"), "new")
    assert outcome.session.step == "help"


def test_coming_back_shows_the_step_again(chat: Conversation, engine: Engine) -> None:
    at_step(chat, "side")
    again = Conversation(engine, chat.storage, "42").resume()
    assert again[-1].text == "Which side?"
    assert again[-1].button_labels() == ["Left", "Right", "Both & <not sure>"]


def test_each_turn_bumps_the_revision_and_lists_visited_steps(engine: Engine) -> None:
    first = engine.handle(None, Event.start(), "r")
    assert first.session.revision == 1
    assert first.visited == ("mini:welcome", "mini:menu")
    second = engine.handle(first.session, Event.button("1:mini:2:menu:b0"))
    assert second.session.revision == 2
    assert second.visited == ("mini:age",)


# ---------------------------------------------------------------- flow versions


def write_version_3(folder: Path) -> Path:
    """mini v3: step 'pain' renamed 'pain_now' (with a moved: entry), step 'when' removed."""
    for name in ("mini_tips.yaml", "extra.yaml"):
        shutil.copy(GOOD / name, folder / name)
    text = (GOOD / "mini.yaml").read_text()
    for old, new in [
        ("version: 2\n", "version: 3\n"),
        ("moved:\n  old_pain: pain\n", "moved:\n  old_pain: pain_now\n  pain: pain_now\n"),
        ("      - go: pain\n", "      - go: pain_now\n"),
        ("  pain:\n    say:", "  pain_now:\n    say:"),
        ("    next: when\n", "    next: side\n"),
        ('  when:\n    say: "When should I remind you?"\n', ""),
        ("    ask: {type: time, save: when}\n    next: side\n", ""),
        ("; at {when}.", "."),
    ]:
        assert old in text, old
        text = text.replace(old, new)
    (folder / "mini.yaml").write_text(text)
    return folder


@pytest.fixture
def engine_v3(tmp_path: Path) -> Engine:
    return Engine(load_bundle([write_version_3(tmp_path)]))


def v2_session(step_id: str, **answers: Any) -> Session:
    return Session("old", "mini", 2, step_id, answers={"adult": True, **answers}, revision=4)


def test_moved_step_carries_the_person_over(engine_v3: Engine) -> None:
    outcome = engine_v3.handle(v2_session("pain"), Event.message("5"))
    assert outcome.session.answers["pain"] == 5
    assert (outcome.session.version, outcome.session.step) == (3, "hurts")
    assert texts.FLOW_CHANGED.get("en") not in [reply.text for reply in outcome.replies]


def test_moved_map_of_an_older_version(engine_v3: Engine) -> None:
    outcome = engine_v3.repeat(v2_session("old_pain"))
    assert outcome.session.step == "pain_now"
    assert outcome.replies[-1].text == "Pain now, 0 to 10?"


def test_a_removed_step_lands_on_the_resume_step_with_a_note(engine_v3: Engine) -> None:
    outcome = engine_v3.handle(v2_session("when"), Event.message("9am"))
    assert [reply.text for reply in outcome.replies] == [
        texts.FLOW_CHANGED.get("en"),
        "What would you like?",
    ]
    assert (outcome.session.version, outcome.session.step) == (3, "menu")
    assert outcome.session.answers == {"adult": True}  # answers are kept
    assert outcome.session.revision == 5


def test_returning_to_a_removed_step(engine_v3: Engine) -> None:
    outcome = engine_v3.repeat(v2_session("when"))
    assert outcome.replies[0].text == texts.FLOW_CHANGED.get("en")
    assert outcome.session.step == "menu"


def test_a_command_from_a_removed_step_still_works(engine_v3: Engine) -> None:
    outcome = engine_v3.handle(v2_session("when"), Event.command_named("help"))
    assert outcome.session.step == "help"
    assert outcome.replies[-1].text == "Tap a button or type /menu."


def test_a_timer_from_a_removed_step_still_fires(engine_v3: Engine) -> None:
    outcome = engine_v3.handle(v2_session("when"), Event.timer_named("mini:side"))
    assert outcome.session.step == "side"
    assert outcome.replies[-1].text == "Which side?"


def test_a_button_of_the_old_version_is_stale(engine_v3: Engine) -> None:
    outcome = engine_v3.handle(v2_session("menu"), Event.button("1:mini:2:menu:b0"))
    assert outcome.replies[0].text == texts.STALE_BUTTON.get("en")
    assert (outcome.session.version, outcome.session.step) == (3, "menu")
    fresh = outcome.replies[-1].buttons[0][0].data
    assert fresh == "1:mini:3:menu:b0"
    assert engine_v3.handle(outcome.session, Event.button(fresh)).session.step == "age"


def test_a_flow_that_disappeared(engine: Engine) -> None:
    session = Session("old", "retired_flow", 4, "somewhere", answers={"pain": 3})
    outcome = engine.handle(session, Event.message("hello"))
    assert outcome.replies[0].text == texts.FLOW_CHANGED.get("en")
    assert (outcome.session.flow, outcome.session.version, outcome.session.step) == (
        "mini",
        2,
        "menu",
    )
    assert engine.handle(session, Event.button("1:retired_flow:4:somewhere:b0")).session.step == (
        "menu"
    )


# ---------------------------------------------------------------- the machines


def test_no_model_is_ever_bound_to_a_machine(chat: Conversation, engine: Engine) -> None:
    for _ in range(5):
        walk_to_summary(chat, "7", ["Sitting"], "Right")
        chat.send("/menu")
        chat.send("banana")
        chat.handle(Event.button("garbage"))
    assert set(engine.machines) == {"mini", "extra"}
    for machine in engine.machines.values():
        assert machine.models == []


def test_machines_are_built_once_per_bundle(
    bundle: Bundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    real = bot.engine.build_machine

    def counting(flow: Any) -> Any:
        built.append(flow.id)
        return real(flow)

    monkeypatch.setattr(bot.engine, "build_machine", counting)
    engine = Engine(bundle)
    assert sorted(built) == ["extra", "mini"]
    chat = Conversation(engine, MemoryStorage(), "once")
    walk_to_summary(chat, "7", ["Sitting"], "Right")
    chat.send("/urgent")
    assert sorted(built) == ["extra", "mini"]


def test_machine_has_no_automatic_transitions(engine: Engine) -> None:
    """auto_transitions would add a to_<state> trigger per state: costly, and a back door."""
    events = set(engine.machines["mini"].events)
    assert not [name for name in events if name.startswith("to_")]
    assert {"advance", "b0", "r:menu", "r:help"} <= events


def test_fast_session_copy_is_the_same_as_replace() -> None:
    """The engine copies sessions without dataclasses.replace (it is on every event)."""
    from dataclasses import fields, replace

    session = Session("u", "mini", 2, "pain", {"pain": 3}, "de", 2, ("a",), 7)
    changes: dict[str, Any] = {
        "step": "hurts",
        "answers": {"pain": 4},
        "failures": 0,
        "picked": (),
        "revision": 8,
    }
    copied = bot.engine._evolve(session, **changes)
    assert copied == replace(session, **changes)
    assert type(copied) is Session
    assert not hasattr(Session, "__post_init__")  # else _evolve would skip it
    for item in fields(Session):
        assert getattr(bot.engine._evolve(session), item.name) == getattr(session, item.name)
