"""The summary for the physio: one page, the person's answers, the made-by line, no chart
under three check-ins, same bytes for the same summary."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

from pypdf import PdfReader

from bot.progress.chart import CheckIn
from bot.progress.summary import (
    SUMMARY_LABELS,
    RedFlagScreen,
    ReminderUse,
    Summary,
    render_summary,
)

START = date(2026, 9, 1)


def _summary(checkins: int, questions: int = 3) -> Summary:
    return Summary(
        made_on=date(2026, 12, 2),
        symptoms=["Pain at the front of the hip", "Stiffness"],
        activities=["Sitting at work"],
        pain_now=4,
        red_flags=RedFlagScreen("No warning signs", START),
        checkins=[
            CheckIn(
                START + timedelta(weeks=w),
                max(0, 7 - w // 2),
                "better",
                {"Sitting at work": min(10, 3 + w)},
            )
            for w in range(checkins)
        ],
        reminders=[ReminderUse("Hip exercises", "every day", 41, 56)],
        questions=[f"Question number {n}" for n in range(questions)],
    )


def _read(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join((page.extract_text() or "") for page in reader.pages)
    return len(reader.pages), " ".join(text.split())


def test_one_page_with_the_answers_and_the_made_by_line() -> None:
    pages, text = _read(render_summary(_summary(checkins=6)))
    assert pages == 1
    for expected in (
        "My hip: what I told hipbot",
        "Made on 2 Dec 2026",
        "I made this page myself, from my own answers",
        "It is not a diagnosis",
        "Pain at the front of the hip, Stiffness",
        "Sitting at work",
        "No warning signs (1 Sep 2026)",
        "Hip exercises (every day): done 41 of 56 times",
        "Question number 2",
    ):
        assert expected in text, expected
    assert SUMMARY_LABELS["few_checkins"] not in text


def test_chart_is_embedded_from_three_checkins() -> None:
    reader = PdfReader(io.BytesIO(render_summary(_summary(checkins=3))))
    assert len(reader.pages[0].images) == 1


def test_short_history_gives_text_instead_of_a_chart() -> None:
    pdf = render_summary(_summary(checkins=2))
    pages, text = _read(pdf)
    assert pages == 1
    assert SUMMARY_LABELS["few_checkins"] in text
    assert "1 Sep 2026: pain 7 of 10, better" in text
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 0


def test_empty_summary_is_still_one_page() -> None:
    pages, text = _read(render_summary(Summary(made_on=date(2026, 12, 2))))
    assert pages == 1
    assert "Not answered yet" in text
    assert "I made this page myself" in text


def test_long_lists_are_cut_so_the_page_stays_one_page() -> None:
    pages, text = _read(render_summary(_summary(checkins=26, questions=30)))
    assert pages == 1
    assert "and 24 more" in text


def test_same_summary_gives_the_same_bytes() -> None:
    assert render_summary(_summary(4)) == render_summary(_summary(4))


def test_pdf_date_is_the_summary_day_not_the_clock() -> None:
    metadata = PdfReader(io.BytesIO(render_summary(_summary(3)))).metadata
    assert metadata is not None
    assert metadata.creation_date == datetime(2026, 12, 2, tzinfo=UTC)
