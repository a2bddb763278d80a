"""The progress chart: pain and personal activity scores over the weekly check-ins.

``chart_data`` is the one place that turns check-ins into plotted points; the chart draws
exactly that, and tests compare the drawn lines with it. Under ``MIN_CHECKINS`` check-ins a
chart says little: ``chart_makes_sense`` tells the caller to send a short text instead.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.drawings import style
from bot.errors import HipbotError

MIN_CHECKINS = 3
MAX_ACTIVITIES = 3
SIZE = (1080, 1080)
Feeling = Literal["better", "same", "worse"]

CHART_LABELS: Mapping[str, str] = {
    "title": "Your weekly check-ins",
    "pain_axis": "Pain (0 = none, 10 = worst)",
    "pain_line": "Pain",
    "activity_axis": "How well you can do it (10 = as before)",
    "date_axis": "Check-in day",
    "months": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
    "day_month": "{day} {month}",
}

_ACTIVITY_STYLES = (
    (style.BLUE, "s", "--"),
    (style.GREEN, "^", "-."),
    (style.PURPLE, "D", ":"),
)


class ProgressError(HipbotError):
    """Check-in data that cannot be charted; the message names the value and the rule."""


@dataclass(frozen=True)
class CheckIn:
    """One weekly check-in: pain 0-10, how it feels, and up to three named activities 0-10
    (in the style of the Patient-Specific Functional Scale)."""

    on: date
    pain: int
    feeling: Feeling
    activities: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 <= self.pain <= 10:
            raise ProgressError(f"check-in {self.on}: pain {self.pain} is not between 0 and 10")
        if self.feeling not in ("better", "same", "worse"):
            raise ProgressError(
                f"check-in {self.on}: feeling {self.feeling!r} is not better, same or worse"
            )
        if len(self.activities) > MAX_ACTIVITIES:
            raise ProgressError(
                f"check-in {self.on}: {len(self.activities)} activities, at most {MAX_ACTIVITIES}"
            )
        for name, score in self.activities.items():
            if not 0 <= score <= 10:
                raise ProgressError(
                    f"check-in {self.on}: {name!r} score {score} is not between 0 and 10"
                )


@dataclass(frozen=True)
class Series:
    name: str
    days: tuple[date, ...]
    scores: tuple[int, ...]


@dataclass(frozen=True)
class ChartData:
    days: tuple[date, ...]  # every check-in day, in order
    pain: Series
    activities: tuple[Series, ...]  # in the order the person first named them


def chart_makes_sense(checkins: Sequence[CheckIn]) -> bool:
    """True from ``MIN_CHECKINS`` check-ins on; below that, send a short text instead."""
    return len(checkins) >= MIN_CHECKINS


def chart_data(
    checkins: Sequence[CheckIn], pain_name: str = CHART_LABELS["pain_line"]
) -> ChartData:
    """The points the chart plots: check-ins sorted by day, each activity where it was rated."""
    ordered = sorted(checkins, key=lambda c: c.on)
    days = tuple(c.on for c in ordered)
    if len(set(days)) != len(days):
        raise ProgressError(f"two check-ins on the same day in {[str(d) for d in days]}")
    names: dict[str, None] = {}
    for checkin in ordered:
        names.update(dict.fromkeys(checkin.activities))
    activities = tuple(
        Series(
            name,
            tuple(c.on for c in ordered if name in c.activities),
            tuple(c.activities[name] for c in ordered if name in c.activities),
        )
        for name in names
    )
    return ChartData(days, Series(pain_name, days, tuple(c.pain for c in ordered)), activities)


def chart_figure(checkins: Sequence[CheckIn], labels: Mapping[str, str] = CHART_LABELS) -> Figure:
    """The chart as a matplotlib Figure (its own canvas: safe in a worker thread)."""
    if not checkins:
        raise ProgressError("no check-ins to chart: send the short text instead")
    data = chart_data(checkins, labels["pain_line"])
    width, height = SIZE
    figure = Figure(
        figsize=(width / style.DPI, height / style.DPI), dpi=style.DPI, facecolor="white"
    )
    FigureCanvasAgg(figure)
    rows = 2 if data.activities else 1
    axes_list = figure.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    bottom = 0.1 + 0.045 * len(data.activities) if rows == 2 else 0.1
    figure.subplots_adjust(left=0.09, right=0.94, top=0.86, bottom=bottom + 0.06, hspace=0.3)
    figure.suptitle(
        labels["title"],
        fontsize=style.TITLE_PT - 2,
        fontweight="bold",
        family=style.FONT,
        color=style.INK,
    )
    pain_axes = axes_list[0]
    pain_axes.plot(
        data.pain.days,
        data.pain.scores,
        color=style.VERMILLION,
        marker="o",
        markersize=13,
        lw=4,
        label=data.pain.name,
        zorder=3,
    )
    _score_axes(pain_axes, data.days, labels["pain_axis"])
    if rows == 2:
        activity_axes = axes_list[1]
        for series, (colour, marker, line) in zip(data.activities, _ACTIVITY_STYLES, strict=False):
            activity_axes.plot(
                series.days,
                series.scores,
                color=colour,
                marker=marker,
                markersize=12,
                lw=4,
                ls=line,
                label=_short(series.name),
                zorder=3,
            )
        _score_axes(activity_axes, data.days, labels["activity_axis"])
        figure.legend(
            *activity_axes.get_legend_handles_labels(),
            loc="lower left",
            bbox_to_anchor=(0.07, 0.0),
            ncol=1,
            frameon=False,
            prop={"family": style.FONT, "size": style.NOTE_PT},
            handlelength=3,
        )
    _date_ticks(axes_list[-1], data.days, labels)
    return figure


def render_chart(checkins: Sequence[CheckIn], labels: Mapping[str, str] = CHART_LABELS) -> bytes:
    """The chart as PNG bytes, 1080 x 1080 (a Telegram photo)."""
    figure = chart_figure(checkins, labels)
    buffer = io.BytesIO()
    figure.savefig(
        buffer, format="png", dpi=style.DPI, facecolor="white", metadata={"Software": None}
    )
    return buffer.getvalue()


def _score_axes(axes: Axes, days: tuple[date, ...], title: str) -> None:
    axes.set_ylim(-0.5, 10.5)
    axes.set_yticks([0, 2, 4, 6, 8, 10])
    axes.set_title(
        title, loc="left", fontsize=style.NOTE_PT, family=style.FONT, color=style.INK, pad=14
    )
    axes.tick_params(labelsize=style.NOTE_PT - 1, colors=style.INK, length=6, width=2)
    axes.grid(axis="y", color="#E4E7EB", lw=1.5)
    # every check-in day marked with a light line (one artist: 26 axvlines cost 300 ms)
    axes.vlines(days, -0.5, 10.5, color=style.LINING, lw=2, zorder=1, label="_checkin_days")  # type: ignore[arg-type]
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_linewidth(2)


def _date_ticks(axes: Axes, days: tuple[date, ...], labels: Mapping[str, str]) -> None:
    """A tick at check-in days; with many check-ins only every n-th is named, so labels fit."""
    months = labels["months"].split()
    step = max(1, -(-len(days) // 6))
    shown = list(days[::step])
    axes.set_xticks(shown)  # type: ignore[arg-type]
    day_month = labels.get("day_month", "{day} {month}")
    axes.set_xticklabels([day_month.format(day=d.day, month=months[d.month - 1]) for d in shown])
    axes.set_xlabel(
        labels["date_axis"], fontsize=style.NOTE_PT - 1, family=style.FONT, color=style.INK
    )
    if len(days) == 1:
        axes.set_xlim(days[0].toordinal() - 4, days[0].toordinal() + 4)


def _short(name: str, limit: int = 40) -> str:
    """A legend label: the person's own words, cut to fit, with ``$`` escaped (matplotlib
    would read text between two as a formula)."""
    shown = name if len(name) <= limit else name[: limit - 1] + "…"
    return shown.replace("$", r"\$")
