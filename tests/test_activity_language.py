"""The listed activities are named in the person's language in the rating questions (issue 14);
an activity the person typed stays as typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import fill
from bot.loader import load_bundle
from bot.model import Session
from bot.trend import ACTIVITY_NAMES, ACTIVITY_WORDS, add_own_activity, pick_activities

FLOWS = Path(__file__).resolve().parent.parent / "flows"


def _picked(language: str, *values: str) -> Session:
    session = Session("1", "reminders", 1, "rem_ci_acts_set", language=language)
    return pick_activities(session.with_answer("ci_acts", list(values)), {})


def test_a_spanish_rating_question_names_the_activity_in_spanish() -> None:
    session = _picked("es", "stairs")
    step = load_bundle([str(FLOWS)]).flows["reminders"].steps["rem_ci_rate1"]
    template = step.say[0].text.get("es")
    asked = fill(template, ci_act1=str(session.answers["ci_act1"]))
    assert "<b>subir y bajar escaleras</b>" in asked
    assert "going up" not in asked


@pytest.mark.parametrize("language", ["en", "es", "de"])
def test_every_listed_activity_has_words_in_each_language(language: str) -> None:
    assert set(ACTIVITY_WORDS[language]) == set(ACTIVITY_NAMES)
    slots = _picked(language, "sitting", "stairs", "standing").answers
    assert [slots["ci_act1"], slots["ci_act2"], slots["ci_act3"]] == [
        ACTIVITY_WORDS[language][v] for v in ("sitting", "stairs", "standing")
    ]


def test_a_language_without_its_own_words_gets_english() -> None:
    assert _picked("fr", "stairs").answers["ci_act1"] == "going up and down stairs"


def test_a_typed_activity_stays_as_typed_in_a_german_session() -> None:
    session = _picked("de", "stairs")
    typed = add_own_activity(session.with_answer("ci_act_own", "Socken anziehen"), {}).answers
    assert [typed["ci_act1"], typed["ci_act2"]] == ["Treppen steigen", "Socken anziehen"]
