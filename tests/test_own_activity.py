"""A person types an activity of their own at the first check-in (issue 14): the 'text'
question that keeps a few typed words, the loader's checks on it, and the slot it fills."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.engine import typed_text
from bot.errors import FlowErrors
from bot.loader import load_bundle
from bot.model import Session
from bot.progress.chart import CheckIn, chart_figure, render_chart
from bot.progress.summary import Summary, render_summary
from bot.trend import add_own_activity, pick_activities

FLOW = """\
flow: f
version: 1
start: q
steps:
  q:
    say: "What is hard?"
    ask: {ask}
    next: bye
  bye:
    say: "Bye"
    end: true
"""


def problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ask: str) -> list[str]:
    monkeypatch.chdir(tmp_path)
    Path("f.yaml").write_text(FLOW.format(ask=ask), encoding="utf-8")
    with pytest.raises(FlowErrors) as caught:
        load_bundle(["f.yaml"])
    return [str(error) for error in caught.value.errors]


def test_a_text_question_needs_a_length_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert problems(tmp_path, monkeypatch, "{type: text, save: t, reask: Type it}") == [
        "f.yaml > steps.q > ask: a 'text' question needs 'max' from 1 to 200 characters, not None"
    ]


def test_a_text_question_needs_its_own_reask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert problems(tmp_path, monkeypatch, "{type: text, save: t, max: 40}") == [
        "f.yaml > steps.q > ask: a 'text' question needs a 'reask' saying what to type"
    ]


def test_a_text_question_takes_no_minimum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert problems(tmp_path, monkeypatch, "{type: text, save: t, min: 1, max: 9, reask: R}") == [
        "f.yaml > steps.q > ask > min: a 'text' question takes 'max' (characters), not 'min'"
    ]


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("  putting on   socks ", "putting on socks"),
        ("socks\u200b\tand\nshoes", "socks and shoes"),
        ("<b>tie</b> & go", "<b>tie</b> & go"),  # kept as typed; escaped where it is shown
        ("x" * 40, "x" * 40),
    ],
)
def test_typed_words_are_trimmed_and_kept(typed: str, kept: str) -> None:
    assert typed_text(typed, 40) == kept


@pytest.mark.parametrize("typed", ["", "   ", "\u200b\u200b", "\t\n", "x" * 41])
def test_empty_or_too_long_words_are_not_an_answer(typed: str) -> None:
    assert typed_text(typed, 40) is None


def _picked(*values: str) -> Session:
    session = Session("1", "reminders", 1, "rem_ci_acts_set", answers={"ci_act_own": "old"})
    return pick_activities(session.with_answer("ci_acts", list(values)), {})


def test_the_typed_activity_takes_the_next_free_slot() -> None:
    session = _picked("stairs").with_answer("ci_act_own", "putting on socks")
    slots = add_own_activity(session, {}).answers
    assert [slots.get(f"ci_act{n}") for n in (1, 2, 3)] == [
        "going up and down stairs",
        "putting on socks",
        None,
    ]


def test_the_typed_activity_alone_is_the_first() -> None:
    session = _picked().with_answer("ci_act_own", "Gardening")
    assert add_own_activity(session, {}).answers.get("ci_act1") == "Gardening"


def test_picking_again_forgets_an_old_typed_activity() -> None:
    assert "ci_act_own" not in _picked("stairs").answers


def test_a_typed_activity_already_named_or_with_no_room_is_not_added_twice() -> None:
    same = _picked("sitting").with_answer("ci_act_own", "Sitting")
    assert add_own_activity(same, {}).answers.get("ci_act2") is None
    full = _picked("sitting", "stairs", "running").with_answer("ci_act_own", "socks")
    assert add_own_activity(full, {}).answers == full.answers


OWN_WORDS = "socks & <shoes> for $5 $x$"


def _checkins() -> list[CheckIn]:
    first = date(2026, 9, 6)
    return [
        CheckIn(first + timedelta(weeks=i), 5, "same", {"sitting": 3 + i, OWN_WORDS: 2 + i})
        for i in range(3)
    ]


def test_the_chart_legend_shows_the_typed_words_as_typed() -> None:
    figure = chart_figure(_checkins())
    legend = figure.legends[0]
    shown = [text.get_text() for text in legend.get_texts()]
    assert shown == ["sitting", OWN_WORDS.replace("$", r"\$")]
    render_chart(_checkins())  # the '$' are not read as a formula (it would raise)


def test_the_summary_page_lists_the_typed_activity() -> None:
    summary = Summary(date(2026, 10, 1), activities=["sitting", OWN_WORDS], checkins=_checkins())
    text = PdfReader(io.BytesIO(render_summary(summary))).pages[0].extract_text()
    assert OWN_WORDS in text
