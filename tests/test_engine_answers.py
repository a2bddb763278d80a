"""Answers as a person gives them, and what they see: keyboards, re-asks, summaries, consent.

One small flow (written to a temporary folder) asks each kind of question; a second version
adds a privacy policy whose consent gates the health questions. Driven like a person would:
``chat.send(...)``, ``chat.click(...)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot import callbacks, texts
from bot.conversation import Conversation
from bot.engine import Engine
from bot.errors import FlowErrors
from bot.loader import load_bundle
from bot.model import Event, Session
from bot.storage import MemoryStorage

FLOW = """\
flow: t
version: 1
start: menu
routes:
  - {command: menu, go: menu}
  - {command: help, go: help, aliases: [help me]}
steps:
  menu:
    say: "Menu"
    buttons:
      - {label: Pain, go: pain}
      - {label: Steps, go: steps}
      - {label: Zone, go: zone}
      - {label: Ready, go: ready}
      - {label: When, go: when}
      - {label: Side, go: side}
      - {label: Hurts, go: hurts}
  help:
    say: "Help"
    buttons:
      - {label: Back, go: menu}
  pain:
    topic: symptoms
    needs_consent: true
    say: "Pain now?"
    ask: {type: integer, save: pain, min: 0, max: 10}
    next: summary
  steps:
    say: "How many flights of stairs?"
    ask: {type: integer, save: flights, min: 1, max: 20}
    next: summary
  zone:
    say: "Where do you live?"
    ask:
      type: timezone
      save: tz
      options: [{value: europe__london, label: London}]
    next: summary
  ready:
    say: "Ready?"
    ask: {type: yes_no, save: ready}
    next: summary
  when:
    say: "When?"
    ask: {type: time, save: when}
    next: summary
  side:
    say: "Which side?"
    ask:
      type: choice
      save: side
      options: [{value: left, label: Left}, {value: right, label: Right}]
    next: summary
  hurts:
    say: "What hurts?"
    ask:
      type: multi
      save: hurts
      options: [{value: sitting, label: Sitting}, {value: stairs, label: Stairs}]
    next: summary
  summary:
    say: "pain={pain} flights={flights} tz={tz} ready={ready} when={when} side={side} hurts={hurts}"
    buttons:
      - {label: Menu, go: menu}
"""


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    # loaded for each test (it takes milliseconds), so that each test exercises the loader
    (tmp_path / "t.yaml").write_text(FLOW, encoding="utf-8")
    return Engine(load_bundle([tmp_path]))


@pytest.fixture
def chat(engine: Engine) -> Conversation:
    talk = Conversation(engine, MemoryStorage(), "7")
    talk.send("/start")
    return talk


def rows(chat: Conversation) -> list[list[str]]:
    return [[b.label for b in row] for row in chat.replies[-1].buttons]


def answers(chat: Conversation) -> dict[str, Any]:
    assert chat.session is not None
    return dict(chat.session.answers)


def summary(chat: Conversation) -> str:
    return chat.replies[0].text


def step(chat: Conversation) -> str:
    assert chat.session is not None
    return chat.session.step


# ---------------------------------------------------------------- keyboards


def test_a_short_scale_is_buttons_six_to_a_row(chat: Conversation) -> None:
    chat.click("Pain")
    assert rows(chat) == [["0", "1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]
    chat.click("10")
    assert answers(chat) == {"pain": 10}


def test_a_long_scale_has_no_buttons_and_asks_for_a_number(chat: Conversation) -> None:
    chat.click("Steps")
    assert rows(chat) == []
    chat.send("21")
    assert chat.text() == "Please type a whole number from 1 to 20."
    chat.send("0")
    assert step(chat) == "steps"
    chat.send("20")
    assert answers(chat) == {"flights": 20}


def test_yes_and_no_share_a_row_and_choices_get_a_row_each(chat: Conversation) -> None:
    chat.click("Ready")
    assert rows(chat) == [["Yes", "No"]]
    chat.send("/menu")
    chat.click("Side")
    assert rows(chat) == [["Left"], ["Right"]]
    chat.send("/menu")
    chat.click("Hurts")
    assert rows(chat) == [["Sitting"], ["Stairs"], ["Done"]]
    chat.send("/menu")
    assert rows(chat) == [
        ["Pain"],
        ["Steps"],
        ["Zone"],
        ["Ready"],
        ["When"],
        ["Side"],
        ["Hurts"],
    ]


def test_a_ticked_option_shows_its_tick_until_done(chat: Conversation) -> None:
    chat.click("Hurts")
    chat.click("Stairs")
    assert rows(chat) == [["Sitting"], ["✅ Stairs"], ["Done"]]
    assert [(r.text, r.edit, r.step) for r in chat.replies] == [("What hurts?", True, "hurts")]
    chat.click("Sitting")
    assert rows(chat) == [["✅ Sitting"], ["✅ Stairs"], ["Done"]]
    chat.click("Stairs")
    assert rows(chat) == [["✅ Sitting"], ["Stairs"], ["Done"]]
    chat.click("Done")
    assert answers(chat) == {"hurts": ["sitting"]}
    assert "hurts=Sitting" in summary(chat)


# ---------------------------------------------------------------- typed answers


@pytest.mark.parametrize(
    ("typed", "zone", "shown"),
    [
        ("Berlin", "Europe/Berlin", "Berlin (Europe/Berlin)"),
        ("UTC+2", "Etc/GMT-2", "UTC+2"),
        ("London", "europe__london", "London (Europe/London)"),
        ("1", "europe__london", "London (Europe/London)"),
    ],
)
def test_a_typed_city_or_offset_is_saved_as_a_time_zone(
    chat: Conversation, typed: str, zone: str, shown: str
) -> None:
    chat.click("Zone")
    chat.send(typed)
    assert answers(chat) == {"tz": zone}
    assert f"tz={shown} " in summary(chat)


def test_something_that_is_no_time_zone_is_asked_again(chat: Conversation) -> None:
    chat.click("Zone")
    chat.send("my house")
    assert step(chat) == "zone"
    assert answers(chat) == {}
    assert chat.text() == texts.REASK_CHOICE.get("en")


@pytest.mark.parametrize(("typed", "value", "shown"), [("1", True, "Yes"), ("2", False, "No")])
def test_yes_or_no_by_button_number(
    chat: Conversation, typed: str, value: bool, shown: str
) -> None:
    chat.click("Ready")
    chat.send(typed)
    assert answers(chat) == {"ready": value}
    assert f"ready={shown} " in summary(chat)


def test_yes_no_reask_says_yes_or_no(chat: Conversation) -> None:
    chat.click("Ready")
    chat.send("3")
    assert chat.text() == texts.REASK_YES_NO.get("en")


@pytest.mark.parametrize(
    "typed", ["7:30 or 8:30", "9:30 tomorrow", "10 o'clock", "9:305", "930", "9:60", "13pm"]
)
def test_a_time_with_more_or_other_words_is_asked_again(chat: Conversation, typed: str) -> None:
    chat.click("When")
    chat.send(typed)
    assert step(chat) == "when"
    assert chat.text() == texts.REASK_TIME.get("en")


@pytest.mark.parametrize(
    ("typed", "saved"),
    [
        ("7.30", "07:30"),
        ("7h30", "07:30"),
        ("12 am", "00:00"),
        ("12pm", "12:00"),
        ("7 p.m.", "19:00"),
    ],
)
def test_times_as_people_write_them(chat: Conversation, typed: str, saved: str) -> None:
    chat.click("When")
    chat.send(typed)
    assert answers(chat) == {"when": saved}
    assert f"when={saved} " in summary(chat)


def test_a_choice_by_its_value_or_label(chat: Conversation) -> None:
    chat.click("Side")
    chat.send("RIGHT")
    assert answers(chat) == {"side": "right"}
    assert "side=Right " in summary(chat)


def test_a_choice_reask_points_at_the_buttons(chat: Conversation) -> None:
    chat.click("Side")
    chat.send("up")
    assert chat.text() == texts.REASK_CHOICE.get("en")
    chat.click("Left")
    assert answers(chat) == {"side": "left"}


def test_a_multi_reask_explains_done(chat: Conversation) -> None:
    chat.click("Hurts")
    chat.send("everything")
    assert chat.text() == texts.REASK_MULTI.get("en")


def test_nothing_ticked_shows_as_none_of_these(chat: Conversation) -> None:
    chat.click("Hurts")
    chat.send("none")
    assert answers(chat) == {"hurts": []}
    assert "hurts=None of these" in summary(chat)


def test_unanswered_questions_show_as_not_answered(chat: Conversation) -> None:
    chat.click("Side")
    chat.click("Left")
    assert summary(chat) == (
        "pain=not answered flights=not answered tz=not answered ready=not answered "
        "when=not answered side=Left hurts=not answered"
    )


def test_the_way_out_offers_menu_and_help_after_three_misses(chat: Conversation) -> None:
    chat.click("Side")
    for _ in range(2):
        chat.send("up")
        assert [r.text for r in chat.replies] == [texts.REASK_CHOICE.get("en")]
    chat.send("up")
    assert [r.text for r in chat.replies] == [
        texts.REASK_CHOICE.get("en"),
        texts.WAY_OUT.get("en"),
    ]
    assert rows(chat) == [["Menu"], ["Help"]]
    chat.click("Help")
    assert step(chat) == "help"


# ---------------------------------------------------------------- consent gate


POLICY = """\
policy: privacy
version: {version}
updated: "2026-01-01"
title: Your data
data:
  - {{what: Your answers., why: To help you., kept: Until you delete them., seen_by: Only you.}}
rights_intro: You can ask.
rights:
  - {{command: menu, text: See the menu.}}
consent:
  ask: "t:consent"
"""
CONSENT_STEPS = """\
  consent:
    say: "May I save your answers?"
    buttons:
      - {label: "I agree", go: agreed}
      - {label: "No thanks", go: menu}
  agreed:
    do: {run: record_consent, with: {policy_version: VERSION}}
    say: "Thanks."
    next: pain
"""


def consent_engine(folder: Path, version: int) -> Engine:
    flow = FLOW + CONSENT_STEPS.replace("VERSION", str(version))
    # the loader does not count the policy's gate as a way in: a route links the step
    flow = flow.replace("routes:\n", "routes:\n  - {command: agree, go: consent}\n")
    folder.mkdir(exist_ok=True)
    (folder / "t.yaml").write_text(flow, encoding="utf-8")
    (folder / "privacy.yaml").write_text(POLICY.format(version=version), encoding="utf-8")
    return Engine(load_bundle([folder]))


def test_a_health_question_waits_for_consent(tmp_path: Path) -> None:
    chat = Conversation(consent_engine(tmp_path, 1), MemoryStorage(), "8")
    chat.send("/start")
    chat.click("Pain")
    assert step(chat) == "consent"
    chat.click("I agree")
    assert step(chat) == "pain"
    chat.click("4")
    assert answers(chat)["pain"] == 4
    chat.send("/menu")
    chat.click("Pain")
    assert step(chat) == "pain"  # asked once, not every time


def test_other_questions_need_no_consent(tmp_path: Path) -> None:
    chat = Conversation(consent_engine(tmp_path, 1), MemoryStorage(), "8")
    chat.send("/start")
    chat.click("Side")
    assert step(chat) == "side"


def test_a_new_policy_version_asks_again(tmp_path: Path) -> None:
    storage = MemoryStorage()
    old = Conversation(consent_engine(tmp_path / "v1", 1), storage, "9")
    old.send("/start")
    old.click("Pain")
    old.click("I agree")
    old.click("3")
    new = Conversation(consent_engine(tmp_path / "v2", 2), storage, "9")
    new.send("/menu")
    new.click("Pain")
    assert step(new) == "consent"
    new.click("I agree")
    assert step(new) == "pain"


# ---------------------------------------------------------------- a question without next


def test_an_answer_at_a_step_that_goes_on_by_buttons_only_is_kept(tmp_path: Path) -> None:
    flow = FLOW.replace(
        "    ask: {type: yes_no, save: ready}\n    next: summary\n",
        "    ask: {type: yes_no, save: ready}\n    buttons:\n      - {label: Skip, go: menu}\n",
    )
    (tmp_path / "t.yaml").write_text(flow, encoding="utf-8")
    chat = Conversation(Engine(load_bundle([tmp_path])), MemoryStorage(), "5")
    chat.send("/start")
    chat.click("Ready")
    assert rows(chat) == [["Yes", "No"], ["Skip"]]
    chat.send("yes")  # saved, and the step is shown again (it used to answer nothing)
    assert answers(chat) == {"ready": True}
    assert step(chat) == "ready"
    assert [r.text for r in chat.replies] == ["Ready?"]
    chat.click("No")
    assert answers(chat) == {"ready": False}
    chat.click("Yes")  # an answer button, not the step's first button
    assert answers(chat) == {"ready": True}
    assert step(chat) == "ready"
    chat.click("Skip")
    assert step(chat) == "menu"


# ---------------------------------------------------------------- what a press reports


def test_a_press_reports_the_label_chosen(engine: Engine) -> None:
    first = engine.handle(None, Event.start(), "3")
    menu = first.session
    assert (menu.user_id, menu.flow, menu.step, menu.language) == ("3", "t", "menu", "en")
    side = engine.handle(menu, Event.button(callbacks.encode_step("t", 1, "menu", "b", 5)))
    assert side.chosen == "Side"
    assert [(r.text, r.step) for r in side.replies] == [("Which side?", "side")]
    left = engine.handle(side.session, Event.button(callbacks.encode_step("t", 1, "side", "o", 1)))
    assert left.chosen == "Right"
    assert left.session.answers == {"side": "right"}
    hurts = engine.handle(
        left.session, Event.button(callbacks.encode_step("t", 1, "summary", "b", 0))
    )
    hurts = engine.handle(
        hurts.session, Event.button(callbacks.encode_step("t", 1, "menu", "b", 6))
    )
    for index in (1, 0):
        hurts = engine.handle(
            hurts.session, Event.button(callbacks.encode_step("t", 1, "hurts", "o", index))
        )
    done = engine.handle(hurts.session, Event.button(callbacks.encode_step("t", 1, "hurts", "d")))
    assert done.chosen == "Stairs, Sitting"
    assert done.session.answers["hurts"] == ["stairs", "sitting"]


@pytest.mark.parametrize(
    ("where", "data"),
    [
        ("menu", callbacks.encode_step("t", 1, "menu", "o", 0)),  # no question here
        ("menu", callbacks.encode_step("t", 1, "menu", "b", 7)),  # seven buttons
        ("hurts", callbacks.encode_step("t", 1, "hurts", "o", 2)),  # two options
        ("hurts", callbacks.encode_step("t", 1, "hurts", "x", 0)),
        ("side", callbacks.encode_step("t", 1, "side", "o", 2)),
        ("side", callbacks.encode_step("t", 1, "side", "d", 0)),
    ],
)
def test_a_forged_press_shows_where_we_are(chat: Conversation, where: str, data: str) -> None:
    if where != "menu":
        chat.click(where.capitalize())
    chat.handle(Event.button(data))
    assert chat.replies[0].text == texts.STALE_BUTTON.get("en")
    assert step(chat) == where
    assert answers(chat) == {}


def test_an_audited_answer_is_reported_with_its_name_value_and_step(tmp_path: Path) -> None:
    flow = FLOW.replace("save: ready}", "save: ready, audit: true}")
    (tmp_path / "t.yaml").write_text(flow, encoding="utf-8")
    engine = Engine(load_bundle([tmp_path]))
    session = engine.handle(None, Event.start(), "4").session
    session = engine.handle(
        session, Event.button(callbacks.encode_step("t", 1, "menu", "b", 3))
    ).session
    said = engine.handle(session, Event.message("no"))
    audited = [e.args for e in said.effects if e.name == "answer_audited"]
    assert audited == [{"name": "ready", "value": False, "step": "ready"}]


@pytest.mark.parametrize(
    ("typed", "saved"), [("1 pm", "13:00"), ("1am", "01:00"), ("11 pm", "23:00")]
)
def test_the_first_and_last_hours_on_a_12_hour_clock(
    chat: Conversation, typed: str, saved: str
) -> None:
    chat.click("When")
    chat.send(typed)
    assert answers(chat) == {"when": saved}


@pytest.mark.parametrize("typed", ["0 am", "0pm", "13 am"])
def test_hours_a_12_hour_clock_does_not_have(chat: Conversation, typed: str) -> None:
    chat.click("When")
    chat.send(typed)
    assert step(chat) == "when"


def test_a_scale_from_one_starts_its_buttons_at_one(tmp_path: Path) -> None:
    flow = FLOW.replace("min: 0, max: 10", "min: 1, max: 5")
    (tmp_path / "t.yaml").write_text(flow, encoding="utf-8")
    chat = Conversation(Engine(load_bundle([tmp_path])), MemoryStorage(), "6")
    chat.send("/start")
    chat.click("Pain")
    assert rows(chat) == [["1", "2", "3", "4", "5"]]
    chat.click("1")
    assert answers(chat) == {"pain": 1}


CONDITIONS = """\
flow: c
version: 1
start: side
steps:
  side:
    say: "Which side?"
    ask:
      type: choice
      save: side
      options: [{value: left, label: Left}, {value: right, label: Right}, {value: both, label: Both}]
    next: pain
  pain:
    say: "Pain?"
    ask: {type: integer, save: pain, min: 0, max: 10}
    next: said
  said:
    say:
      - {text: "one side", if: {answer: side, in: [left, right]}}
      - {text: "not left", if: {not: {answer: side, equals: left}}}
      - {text: "right and bad", if: {all: [{answer: side, equals: right}, {answer: pain, at_least: 7}]}}
      - {text: "left or bad", if: {any: [{answer: side, equals: left}, {answer: pain, at_least: 7}]}}
      - "end"
    end: true
"""


@pytest.mark.parametrize(
    ("side", "pain", "said"),
    [
        ("Left", "2", ["one side", "left or bad", "end"]),
        ("Right", "8", ["one side", "not left", "right and bad", "left or bad", "end"]),
        ("Right", "6", ["one side", "not left", "end"]),
        ("Both", "9", ["not left", "left or bad", "end"]),
    ],
)
def test_messages_said_only_when_their_condition_holds(
    tmp_path: Path, side: str, pain: str, said: list[str]
) -> None:
    (tmp_path / "c.yaml").write_text(CONDITIONS, encoding="utf-8")
    chat = Conversation(Engine(load_bundle([tmp_path])), MemoryStorage(), "2")
    chat.send("/start")
    chat.click(side)
    chat.click(pain)
    assert [r.text for r in chat.replies] == said


def test_no_fitting_tip_says_the_none_text(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(
        CONDITIONS.replace(
            '      - "end"\n',
            '      - "end"\n    tips: {catalog: k, intro: ["Tips:", "For you:"], none: "No tip fits."}\n',
        ),
        encoding="utf-8",
    )
    (tmp_path / "k.yaml").write_text(
        "catalog: k\ntags:\n  bad: {answer: pain, at_least: 7}\n"
        "tips:\n  - {id: rest, tags: [bad], text: Rest a little.}\n",
        encoding="utf-8",
    )
    chat = Conversation(Engine(load_bundle([tmp_path])), MemoryStorage(), "2")
    chat.send("/start")
    chat.click("Both")
    chat.click("1")
    assert [r.text for r in chat.replies][-2:] == ["end", "No tip fits."]
    chat.send("/start")
    chat.click("Both")
    chat.click("9")
    assert [r.text for r in chat.replies][-3:] == ["end", "Tips:", "For you:\n\n• Rest a little."]
    assert {r.step for r in chat.replies} == {"said"}


# ---------------------------------------------------------------- words and old sessions


def test_a_route_word_typed_at_a_question_goes_there(chat: Conversation) -> None:
    chat.click("Side")
    chat.send("Help me")
    assert step(chat) == "help"


def test_a_press_on_a_step_that_is_gone_says_the_chat_changed(engine: Engine) -> None:
    gone = Session("1", "t", 1, "old_step", failures=2, picked=("x",))
    pressed = engine.handle(gone, Event.button(callbacks.encode_step("t", 1, "old_step", "b", 0)))
    assert pressed.replies[0].text == texts.FLOW_CHANGED.get("en")
    assert pressed.session.step == "menu"
    typed = engine.handle(gone, Event.message("hello"))
    assert typed.replies[0].text == texts.FLOW_CHANGED.get("en")


def test_a_timer_for_someone_on_a_step_that_is_gone_moves_them_quietly(engine: Engine) -> None:
    gone = Session("1", "t", 1, "old_step", failures=2, picked=("x",))
    moved = engine.handle(gone, Event.timer_named("t:nowhere"))
    assert moved.replies == ()
    assert (moved.session.step, moved.session.failures, moved.session.picked) == ("menu", 0, ())


def test_an_answer_given_before_a_new_policy_waits_for_consent(tmp_path: Path) -> None:
    storage = MemoryStorage()
    old = Conversation(consent_engine(tmp_path / "v1", 1), storage, "9")
    old.send("/start")
    old.click("Pain")
    old.click("I agree")
    assert step(old) == "pain"
    new = Conversation(consent_engine(tmp_path / "v2", 2), storage, "9")
    new.send("5")  # still at the pain question, but policy 2 has no yes yet
    assert step(new) == "consent"
    assert "pain" not in answers(new)


def test_only_one_privacy_policy_may_be_given(tmp_path: Path) -> None:
    consent_engine(tmp_path, 1)
    (tmp_path / "privacy2.yaml").write_text(POLICY.format(version=1), encoding="utf-8")
    with pytest.raises(FlowErrors) as caught:
        load_bundle([tmp_path])
    assert [str(e) for e in caught.value.errors] == [
        f"{tmp_path / 'privacy2.yaml'} > policy: only one privacy policy may be given"
    ]


def test_a_label_typed_in_the_persons_language(tmp_path: Path) -> None:
    flow = FLOW.replace("{value: left, label: Left}", "{value: left, label: {en: Left, de: Links}}")
    (tmp_path / "t.yaml").write_text(flow, encoding="utf-8")
    engine = Engine(load_bundle([tmp_path]))
    german = Session("1", "t", 1, "side", language="de")
    assert engine.handle(german, Event.message("Links")).session.answers == {"side": "left"}


def test_a_cross_flow_button_lands_in_the_other_flow(tmp_path: Path) -> None:
    flow = FLOW.replace(
        "  - {label: Hurts, go: hurts}\n",
        "  - {label: Hurts, go: hurts}\n      - {label: More, go: 'o:intro'}\n      - {label: Other, go: 'o:'}\n",
    )
    (tmp_path / "t.yaml").write_text(
        flow.replace("version: 1\n", "version: 1\nentry: true\n", 1), encoding="utf-8"
    )
    (tmp_path / "o.yaml").write_text(
        "flow: o\nversion: 1\nstart: hello\nsteps:\n"
        "  hello:\n    say: Hello\n    next: intro\n"
        "  intro:\n    say: Intro\n    buttons:\n      - {label: Back, go: 't:menu'}\n",
        encoding="utf-8",
    )
    chat = Conversation(Engine(load_bundle([tmp_path])), MemoryStorage(), "1")
    chat.send("/start")
    chat.click("More")
    assert chat.session is not None and (chat.session.flow, chat.session.step) == ("o", "intro")
    chat.click("Back")
    assert (chat.session.flow, chat.session.step) == ("t", "menu")
    chat.click("Other")
    assert (chat.session.flow, chat.session.step) == ("o", "intro")
    assert [r.text for r in chat.replies] == ["Hello", "Intro"]


def test_a_start_command_keeps_its_payload(engine: Engine) -> None:
    started = engine.handle(None, Event.command_named("start", "clinic42"), "1")
    assert [(e.name, dict(e.args)) for e in started.effects] == [
        ("started", {"payload": "clinic42"})
    ]
    again = engine.handle(started.session, Event.command_named("start", "again"))
    assert [dict(e.args) for e in again.effects] == [{"payload": "again"}]


@pytest.mark.parametrize("typed", ["relax", "Relax!", "2"])
def test_labels_ending_in_x_are_matched_whole(tmp_path: Path, typed: str) -> None:
    flow = FLOW.replace("{value: right, label: Right}", "{value: right, label: Relax}")
    flow = flow.replace("{value: stairs, label: Stairs}", "{value: stairs, label: Box}")
    (tmp_path / "t.yaml").write_text(flow, encoding="utf-8")
    engine = Engine(load_bundle([tmp_path]))
    side = engine.handle(Session("1", "t", 1, "side"), Event.message(typed))
    assert side.session.answers == {"side": "right"}
    hurts = engine.handle(Session("1", "t", 1, "hurts"), Event.message("box"))
    assert hurts.session.answers == {"hurts": ["stairs"]}


def test_nothing_at_a_multi_question_is_none_of_these(chat: Conversation) -> None:
    chat.click("Hurts")
    chat.send("nothing")
    assert answers(chat) == {"hurts": []}


def test_buttons_are_labelled_in_the_persons_language(tmp_path: Path) -> None:
    flow = FLOW.replace("{value: left, label: Left}", "{value: left, label: {en: Left, de: Links}}")
    (tmp_path / "t.yaml").write_text(flow, encoding="utf-8")
    engine = Engine(load_bundle([tmp_path]))
    german = Session("1", "t", 1, "menu", language="de")
    shown = engine.handle(german, Event.button(callbacks.encode_step("t", 1, "menu", "b", 5)))
    assert shown.replies[-1].button_labels() == ["Links", "Right"]
    picked = engine.handle(
        shown.session, Event.button(callbacks.encode_step("t", 1, "side", "o", 0))
    )
    assert picked.chosen == "Links"


def test_an_unknown_command_at_the_end_offers_the_way_out(tmp_path: Path) -> None:
    flow = CONDITIONS.replace(
        "start: side\n",
        "start: side\nroutes:\n  - {command: menu, go: side}\n  - {command: help, go: side}\n",
    )
    (tmp_path / "c.yaml").write_text(flow, encoding="utf-8")
    chat = Conversation(Engine(load_bundle([tmp_path])), MemoryStorage(), "2")
    chat.send("/start")
    chat.click("Left")
    chat.click("1")
    chat.send("/frobnicate")
    assert [r.text for r in chat.replies] == [
        texts.UNKNOWN_COMMAND.get("en"),
        texts.AT_END.get("en"),
    ]
    assert rows(chat) == [["Menu"], ["Help"]]
