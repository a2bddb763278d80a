"""The chart and the summary page speak the person's language (issue 14): headings, axes,
legend, the "made by the person" line and dates come from flows/texts_progress_page.yaml."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from bot import outgoing
from bot.engine import Engine
from bot.features import Features
from bot.features.progress import chat
from bot.model import Session
from bot.progress.chart import CheckIn, chart_figure
from bot.progress.labels import chart_labels, summary_labels
from bot.progress.summary import RedFlagScreen, Summary, render_summary
from bot.storage import SqlStorage
from bot.turns import Inbound
from tests import test_progress_feature as progress
from tests.test_privacy import SHIPPED_VERSION
from tests.test_progress_feature import CHAT, DAY, START, Clock, _turns

engine = progress.engine  # the same fixtures
storage = progress.storage
features = progress.features

HEADINGS = {
    "en": ("My hip: what I told hipbot", "I made this page myself"),
    "es": ("Mi cadera: lo que le dije a hipbot", "Hice esta página yo mismo"),
    "de": ("Meine Hüfte: was ich hipbot gesagt habe", "Ich habe diese Seite selbst gemacht"),
}


def _checkins() -> list[CheckIn]:
    first = date(2026, 3, 1)
    return [
        CheckIn(first + timedelta(weeks=i), 6 - i, "better", {"sitting": 3 + i}) for i in range(3)
    ]


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 1
    return " ".join(reader.pages[0].extract_text().split())


@pytest.mark.parametrize("language", ["en", "es", "de"])
def test_the_page_has_its_headings_and_dates_in_the_language(language: str) -> None:
    summary = Summary(
        date(2026, 3, 5),
        red_flags=RedFlagScreen("-", date(2026, 3, 1)),
        checkins=_checkins()[:2],
        language=language,
    )
    text = _pdf_text(render_summary(summary, summary_labels(language)))
    for heading in HEADINGS[language]:
        assert heading in text
    made_on = {
        "en": "Made on 5 Mar 2026",
        "es": "Hecho el 5 mar 2026",
        "de": "Erstellt am 5. März 2026",
    }
    assert made_on[language] in text


def test_the_chart_axes_and_dates_are_in_the_language() -> None:
    figure = chart_figure(_checkins(), chart_labels("de"))
    pain, _ = figure.axes
    assert pain.get_title(loc="left").startswith("Schmerz (0 = keiner")
    ticks = [t.get_text() for t in figure.axes[-1].get_xticklabels()]
    assert ticks == ["1. März", "8. März", "15. März"]
    assert figure.get_suptitle() == "Ihre wöchentlichen Check-ins"


def test_a_spanish_session_gets_a_spanish_summary_and_chart(
    engine: Engine, storage: SqlStorage, features: Features
) -> None:
    answers = {
        "_consent": SHIPPED_VERSION,
        "hurts": ["sitting"],
        "rf_fall": False,
        "rf_fever": True,
    }
    session = Session(str(CHAT), "hip", 1, "menu", revision=1, answers=answers, language="es")
    storage.commit_turn(session, now=START - 3 * DAY)
    turns = _turns(engine, storage, features, Clock())
    rows = turns.handle(Inbound(CHAT, "command", text="", name="summary", language="es")).rows
    _, content, _ = outgoing.document_of(rows[0][2])
    text = _pdf_text(content)
    assert "Mi cadera: lo que le dije a hipbot" in text
    assert "Dije sí a 1 de 2 preguntas de alarma (18 sep 2026)" in text
    assert "My hip" not in text


def test_the_chart_is_drawn_in_the_language_of_the_session(
    engine: Engine, storage: SqlStorage, features: Features, monkeypatch: pytest.MonkeyPatch
) -> None:
    progress._weeks(engine, storage, features, progress.PLAN[:3])
    drawn: list[str] = []

    def render(checkins: object, labels: dict[str, str]) -> bytes:
        drawn.append(labels["title"])
        return b"png"

    monkeypatch.setattr(chat, "render_chart", render)
    monkeypatch.setattr(chat.pool, "draw", lambda drawing, *args: drawing(*args))  # in-process
    chat.make_chart(storage, str(CHAT))
    session = storage.load_session(str(CHAT))
    assert session is not None
    storage.commit_turn(replace(session, language="es", revision=session.revision + 1))
    chat.make_chart(storage, str(CHAT))
    assert drawn == ["Your weekly check-ins", "Sus controles semanales"]
