"""The free-text safety net, the red-flag memory and HIPBOT_URGENT_CARE (issue 12).

Emergency words are tested both ways in every language of flows/safety.yaml: what must set
the net off, and the negations people type that must not. The engine tests run on the
shipped flows with an injected clock (``Event.at``), never the wall clock.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.authoring import read_yaml
from bot.conversation import Conversation
from bot.engine import Engine
from bot.errors import ConfigError, FlowErrors
from bot.loader import load_bundle
from bot.model import Bundle, Session
from bot.safety import (
    DAY,
    RECENT_RED_FLAG,
    SafetyNet,
    build_safety,
    expire,
    remember,
)
from bot.settings import urgent_care
from bot.storage import MemoryStorage

FLOWS = Path(__file__).resolve().parent.parent / "flows"
T0 = 1_800_000_000.0


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    return load_bundle([FLOWS])


@pytest.fixture(scope="module")
def net(bundle: Bundle) -> SafetyNet:
    assert bundle.safety is not None
    return bundle.safety


# ---------------------------------------------------------------- words, both ways

ALARMS = {
    "en": [
        "I fell and can't walk",
        "help me it's an emergency",
        "I fell",
        "I can\u2019t stand up",  # a curly apostrophe, as phones type it
        "cant walk",
        "I have a fever",
        "feverish and sore",
        "my leg is numb",
        "numbness in my groin",
        "I can't pee",
        "call an ambulance",
        "no fever but I fell this morning",  # the negation covers its own clause only
        "I did not fall and now I can't walk",
        "not numb. I collapsed",
        "EMERGENCY",
    ],
    "es": ["me caí y no puedo caminar", "tengo fiebre", "llamen una ambulancia", "socorro"],
    "de": ["ich bin gestürzt", "ich kann nicht laufen", "ich habe Fieber", "Notfall!"],
}
CALM = {
    "en": [
        "no fever",
        "I did not fall",
        "not numb",
        "I don't have a fever or chills",
        "I didn't fall, it just hurts",
        "never had a fever",
        "no numbness",
        "I haven't fallen",
        "it hurts when I sit",
        "5",
        "help",  # the help command's alias, not a cry for help
        "",
        # everyday words that once set it off
        "It hurts when I fall asleep",
        "can you help me with my exercises",
        "what number should I call",
        "my pain number is 6",
    ],
    "es": ["no tengo fiebre", "no me caí", "sin fiebre", "ayúdame con los ejercicios"],
    "de": [
        "ich habe kein Fieber",
        "ich bin nicht gestürzt",
        "ohne Fieber",
        "die Übung hat mir gefallen",
        "Hilfe bei den Übungen",
    ],
}


@pytest.mark.parametrize(
    ("language", "text"), [(lang, text) for lang, texts in ALARMS.items() for text in texts]
)
def test_emergency_words_set_the_net_off(net: SafetyNet, language: str, text: str) -> None:
    assert net.languages[language].alarm(text), text
    assert net.alarm(text)


@pytest.mark.parametrize(
    ("language", "text"), [(lang, text) for lang, texts in CALM.items() for text in texts]
)
def test_negations_and_ordinary_words_do_not(net: SafetyNet, language: str, text: str) -> None:
    assert not net.alarm(text), text


def test_every_language_of_the_file_has_its_lists(net: SafetyNet) -> None:
    assert set(net.languages) == {"en", "es", "de"}
    for words in net.languages.values():
        assert words.phrases and words.negations and words.breaks


def test_a_broken_safety_file_is_refused_with_the_key_and_the_rule(tmp_path: Path) -> None:
    document = read_yaml(FLOWS / "safety.yaml")
    document["languages"]["fr"] = {"phrases": [], "negatives": ["pas"]}
    net, problems = build_safety("safety.yaml", document)
    assert net is None
    said = "\n".join(str(p) for p in problems)
    assert "languages.fr.phrases" in said and "negatives" in said
    shutil.copytree(FLOWS, tmp_path / "flows")
    safety = tmp_path / "flows" / "safety.yaml"
    safety.write_text(safety.read_text().replace("\nsay:\n", "\nsayy:\n"))
    with pytest.raises(FlowErrors) as error:
        load_bundle([tmp_path / "flows"])
    assert "sayy" in str(error.value)
    # a safety net whose route no flow has is refused too
    safety.write_text((FLOWS / "safety.yaml").read_text().replace("route: urgent", "route: urgnt"))
    with pytest.raises(FlowErrors) as error:
        load_bundle([tmp_path / "flows"])
    assert "no flow has a route /urgnt" in str(error.value)


# ---------------------------------------------------------------- in the engine


def chat(bundle: Bundle, clock: list[float] | None = None) -> Conversation:
    times = clock if clock is not None else [T0]
    engine = Engine(bundle, {"emergency_number": "999", "urgent_care": "NHS 111"})
    return Conversation(engine, MemoryStorage(), "42", clock=lambda: times[0])


def labels(conversation: Conversation) -> list[str]:
    return [label for label, _ in conversation.offered()]


@pytest.mark.parametrize(
    ("route", "step"),
    [("/menu", "menu"), ("/learn", "learn_joint"), ("/urgent", "rf_intro"), ("/remind", None)],
)
def test_typed_emergency_words_get_the_urgent_offer_and_the_person_stays(
    bundle: Bundle, route: str, step: str | None
) -> None:
    person = chat(bundle)
    person.send(route)
    before = person.session
    assert before is not None
    person.send("I fell and can't walk")
    said = person.text()
    assert "call 999 now" in said and "call NHS 111 today" in said
    assert "Please tap" not in said and "Sorry" not in said
    after = person.session
    assert after is not None and after.step == before.step and after.failures == 0
    assert labels(person)[0] == "Urgent help"
    person.click("Urgent help")
    assert person.session is not None and person.session.step == "rf_intro"


def test_an_answer_with_emergency_words_is_not_saved_as_an_answer(bundle: Bundle) -> None:
    person = chat(bundle)
    person.send("/urgent")
    person.click("Start the questions")
    person.send("yes I fell and cannot stand")
    assert person.session is not None and "rf_fall" not in person.session.answers
    assert "call 999 now" in person.text() and "Yes" in labels(person)


def test_every_did_not_understand_reply_shows_the_way_to_urgent_help(bundle: Bundle) -> None:
    person = chat(bundle)
    person.send("/menu")
    person.send("what?")
    assert "/urgent" in person.text() and "Do you need help fast?" not in person.text()
    person.send("/nonsense")
    assert "/urgent" in person.text()
    person.send("/urgent")
    person.click("Start the questions")
    person.send("maybe")
    assert "Please tap Yes or No" in person.text() and "/urgent" in person.text()


def test_adapters_can_add_the_urgent_note_to_their_own_replies(bundle: Bundle) -> None:
    session = Session("1", "hip", 1, "menu")
    said = Engine(bundle).with_urgent_note(session, "I can only read text.")
    assert said == "I can only read text.\n\nNeed help fast? Type /urgent."


# ---------------------------------------------------------------- red-flag memory


def test_a_red_flag_yes_is_remembered_with_the_event_time_for_30_days(bundle: Bundle) -> None:
    clock = [T0]
    person = chat(bundle, clock)
    person.send("/urgent")
    person.click("Start the questions")
    person.click("No")
    person.click("Yes")  # fever
    session = person.session
    assert session is not None and session.answers[RECENT_RED_FLAG] == "rf_fever_yes"
    assert session.answers["_red_flag_at"] == int(T0)
    for days, reminded in ((29.9, True), (30.1, False)):
        clock[0] = T0 + days * DAY
        person.send("/urgent")
        person.click("Start the questions")
        for _ in range(8):
            person.click("No")
        assert ("Before we go on" in person.text()) is reminded, days
        assert ("a fever" in person.text()) is reminded


def test_remember_and_expire_are_pure() -> None:
    from bot.model import Effect

    session = Session("1", "hip", 1, "rf_night_yes", answers={"pain_now": 3})
    kept = remember(session, [Effect("red_flag", {"flag": "x"})], "rf_night_yes", T0)
    assert kept.answers == {"pain_now": 3, RECENT_RED_FLAG: "rf_night_yes", "_red_flag_at": T0}
    assert remember(session, [Effect("consent_given")], "x", T0) is session
    assert expire(kept, T0 + 30 * DAY) == kept
    assert expire(kept, T0 + 31 * DAY).answers == {"pain_now": 3}
    assert expire(kept, 0.0) == kept  # no clock given: nothing is forgotten
    assert expire(replace(kept, answers={}), T0) == replace(kept, answers={})


# ---------------------------------------------------------------- configuration


def test_urgent_care_is_configured_and_checked_at_start() -> None:
    assert urgent_care({}) == "your doctor"
    assert urgent_care({"HIPBOT_URGENT_CARE": " NHS   111 "}) == "NHS 111"
    assert urgent_care({"HIPBOT_URGENT_CARE": "116117"}) == "116117"
    assert urgent_care({"HIPBOT_URGENT_CARE": " "}) == "your doctor"  # empty is unset
    for bad in ("<b>111</b>", "{emergency_number}", "x" * 41, "---"):
        with pytest.raises(ConfigError) as error:
            urgent_care({"HIPBOT_URGENT_CARE": bad})
        assert "HIPBOT_URGENT_CARE" in str(error.value) and "NHS 111" in str(error.value)


def test_the_engine_fills_in_urgent_care(bundle: Bundle) -> None:
    person = chat(bundle)
    person.send("/doctor")
    assert "call NHS 111" in person.text() and "{urgent_care}" not in person.text()
    default = Conversation(Engine(bundle), MemoryStorage(), "7")
    default.send("/doctor")
    assert "call your doctor" in default.text()


def test_the_memory_outlives_no_thanks_but_not_withdraw_or_under_16(bundle: Bundle) -> None:
    clock = [T0]
    person = chat(bundle, clock)
    person.send("/urgent")
    person.click("Start the questions")
    person.click("Yes")  # a fall
    clock[0] += DAY
    person.send("/check")
    person.click("Start")
    for _ in range(8):
        person.click("No")
    person.click("Check my symptoms")
    person.click("16 or older")
    person.click("No thanks")  # the warning answers are kept, as it says: the memory too
    session = person.session
    assert session is not None and session.answers[RECENT_RED_FLAG] == "rf_fall_yes"
    assert set(session.answers) == {RECENT_RED_FLAG, "_red_flag_at"}
    clock[0] += 5 * DAY
    person.send("/urgent")
    person.click("Start the questions")
    for _ in range(8):
        person.click("No")
    assert "Before we go on" in person.text() and "a fall" in person.text()
    person.send("/withdraw")  # takes the warning answers with it
    assert person.session is not None and person.session.answers == {}
    person.send("/urgent")
    person.click("Start the questions")
    person.click("Yes")
    person.send("/check")
    person.click("Start")
    for _ in range(8):
        person.click("No")
    person.click("Check my symptoms")
    person.click("Under 16")
    assert person.session is not None and person.session.answers == {}
