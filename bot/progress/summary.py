"""The one-page summary a person can show their physio: what they told the bot, as a PDF.

Built from a plain ``Summary`` (the caller fills it from stored answers, in the person's
language, with ``labels`` translated). It reports the person's own answers and never a
diagnosis, and says so on the page. fpdf2 lays it out; DejaVu Sans (shipped with matplotlib)
covers the scripts of the bot's languages. One page always: long lists are cut to fit.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import cast

import matplotlib
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

from bot.progress.chart import CHART_LABELS, CheckIn, chart_makes_sense, render_chart

MAX_ITEMS = 6  # per list, so the page stays one page
INK = (31, 41, 51)
MUTED = (82, 96, 109)
RULE = (191, 227, 247)

SUMMARY_LABELS: Mapping[str, str] = {
    "title": "My hip: what I told hipbot",
    "made_on": "Made on",
    "made_by": (
        "I made this page myself, from my own answers in the hipbot chat. "
        "It is not a diagnosis and not a medical record."
    ),
    "symptoms": "What I notice",
    "activities": "What is hard for me",
    "pain_now": "My pain now (0 to 10)",
    "red_flags": "Safety questions",
    "red_flags_none": "Not answered yet",
    "progress": "My weekly check-ins",
    "few_checkins": "Fewer than 3 check-ins so far, so no chart yet.",
    "checkin_line": "{day}: pain {pain} of 10, {feeling}",
    "better": "better",
    "same": "about the same",
    "worse": "worse",
    "reminders": "My reminders",
    "reminder_line": "{what} ({how_often}): done {done} of {sent} times",
    "questions": "Questions I read about",
    "none": "None",
    "more": "and {count} more",
    "months": CHART_LABELS["months"],
    "date": "{day} {month} {year}",
    "red_flags_yes": "Said yes to {yes} of {asked} warning questions",
    "red_flags_no": "No to all {asked} warning questions asked",
}


@dataclass(frozen=True)
class RedFlagScreen:
    outcome: str  # in the person's words, e.g. "No warning signs"
    on: date


@dataclass(frozen=True)
class ReminderUse:
    what: str
    how_often: str
    done: int
    sent: int


@dataclass(frozen=True)
class Summary:
    made_on: date
    symptoms: Sequence[str] = ()
    activities: Sequence[str] = ()
    pain_now: int | None = None
    red_flags: RedFlagScreen | None = None
    checkins: Sequence[CheckIn] = ()
    reminders: Sequence[ReminderUse] = ()
    questions: Sequence[str] | None = field(default_factory=tuple)  # None: not recorded
    language: str = "en"  # the person's: the page's words (bot.progress.labels)


def render_summary(summary: Summary, labels: Mapping[str, str] = SUMMARY_LABELS) -> bytes:
    """One A4 page as PDF bytes; same summary, same bytes (the date inside is ``made_on``)."""
    page = _Page(labels)
    page.heading(summary)
    page.facts(summary)
    page.progress(summary.checkins)
    page.section(
        labels["reminders"],
        [labels["reminder_line"].format(**vars(r)) for r in summary.reminders],
    )
    if summary.questions is not None:  # left out, not "None", when it is not known
        page.section(labels["questions"], list(summary.questions))
    return page.output(summary.made_on)


def _fonts() -> Path:
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _day(day: date, labels: Mapping[str, str]) -> str:
    month = labels["months"].split()[day.month - 1]
    return labels.get("date", "{day} {month} {year}").format(
        day=day.day, month=month, year=day.year
    )


class _Page:
    def __init__(self, labels: Mapping[str, str]) -> None:
        self.labels = labels
        pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        pdf.set_auto_page_break(False)
        pdf.set_margins(18, 16, 18)
        pdf.add_font("DejaVu", "", str(_fonts() / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(_fonts() / "DejaVuSans-Bold.ttf"))
        pdf.set_title(labels["title"])
        pdf.add_page()
        self.pdf = pdf

    def text(
        self,
        words: str,
        size: float = 11,
        *,
        bold: bool = False,
        colour: tuple[int, int, int] = INK,
    ) -> None:
        self.pdf.set_font("DejaVu", "B" if bold else "", size)
        self.pdf.set_text_color(*colour)
        self.pdf.multi_cell(0, size * 0.5, words, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def rule(self) -> None:
        y = self.pdf.get_y() + 2
        self.pdf.set_draw_color(*RULE)
        self.pdf.set_line_width(0.6)
        self.pdf.line(self.pdf.l_margin, y, self.pdf.w - self.pdf.r_margin, y)
        self.pdf.set_y(y + 3)

    def heading(self, summary: Summary) -> None:
        self.text(self.labels["title"], 20, bold=True)
        self.pdf.ln(1)
        self.text(
            f"{self.labels['made_on']} {_day(summary.made_on, self.labels)}", 10, colour=MUTED
        )
        self.text(self.labels["made_by"], 10, colour=MUTED)
        self.rule()

    def facts(self, summary: Summary) -> None:
        screen = (
            f"{summary.red_flags.outcome} ({_day(summary.red_flags.on, self.labels)})"
            if summary.red_flags
            else self.labels["red_flags_none"]
        )
        rows = [
            (self.labels["symptoms"], self._list(summary.symptoms)),
            (self.labels["activities"], self._list(summary.activities)),
            (self.labels["pain_now"], "-" if summary.pain_now is None else str(summary.pain_now)),
            (self.labels["red_flags"], screen),
        ]
        for name, value in rows:
            top = self.pdf.get_y()
            self.pdf.set_font("DejaVu", "B", 11)
            self.pdf.set_text_color(*INK)
            name_height = float(
                cast(
                    float,
                    self.pdf.multi_cell(
                        55, 5.5, name, align="L", dry_run=True, output=MethodReturnValue.HEIGHT
                    ),
                )
            )
            self.pdf.multi_cell(55, 5.5, name, align="L", new_x=XPos.RIGHT, new_y=YPos.TOP)
            self.pdf.set_font("DejaVu", "", 11)
            self.pdf.multi_cell(0, 5.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            # a heading on two lines (a longer language) pushes the next row down too
            self.pdf.set_y(max(self.pdf.get_y(), top + name_height, top + 5.5) + 1.5)
        self.rule()

    def progress(self, checkins: Sequence[CheckIn]) -> None:
        self.text(self.labels["progress"], 13, bold=True)
        self.pdf.ln(1)
        if chart_makes_sense(checkins):
            translated = {
                k.removeprefix("chart_"): v
                for k, v in self.labels.items()
                if k.startswith("chart_")
            }
            chart = render_chart(
                checkins,
                {**CHART_LABELS, **translated, "title": "", "months": self.labels["months"]},
            )
            size = 100.0
            self.pdf.image(io.BytesIO(chart), x=(self.pdf.w - size) / 2, w=size, h=size)
            self.pdf.set_y(self.pdf.get_y() + 1)
        else:
            self.text(self.labels["few_checkins"], 11, colour=MUTED)
            for checkin in sorted(checkins, key=lambda c: c.on):
                self.text(
                    self.labels["checkin_line"].format(
                        day=_day(checkin.on, self.labels),
                        pain=checkin.pain,
                        feeling=self.labels[checkin.feeling],
                    )
                )
        self.rule()

    def section(self, title: str, lines: Sequence[str]) -> None:
        self.text(title, 13, bold=True)
        self.pdf.ln(1)
        shown = lines[:MAX_ITEMS]
        for line in shown or [self.labels["none"]]:
            self.text(f"•  {line}")
        if len(lines) > len(shown):
            self.text(self.labels["more"].format(count=len(lines) - len(shown)), colour=MUTED)
        self.pdf.ln(2)

    def _list(self, items: Sequence[str]) -> str:
        return ", ".join(items) if items else self.labels["none"]

    def output(self, made_on: date) -> bytes:
        self.pdf.set_creation_date(datetime(made_on.year, made_on.month, made_on.day, tzinfo=UTC))
        return bytes(self.pdf.output())
