"""The chart plots exactly the check-ins (read back from the drawn lines); too few check-ins
means a text instead."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from matplotlib.dates import num2date
from matplotlib.lines import Line2D
from PIL import Image

from bot.progress.chart import (
    MIN_CHECKINS,
    SIZE,
    CheckIn,
    ProgressError,
    chart_data,
    chart_figure,
    chart_makes_sense,
    render_chart,
)

START = date(2026, 9, 1)


def _checkins() -> list[CheckIn]:
    pains = [7, 6, 7, 5, 4]
    feelings = ["same", "better", "worse", "better", "better"]
    checkins = []
    for week, (pain, feeling) in enumerate(zip(pains, feelings, strict=True)):
        activities = {"Sitting at work": 3 + week, "Putting on socks": 5}
        if week != 2:
            activities["Running"] = week  # not rated in week 2
        checkins.append(CheckIn(START + timedelta(weeks=week), pain, feeling, activities))  # type: ignore[arg-type]
    return checkins[::-1]  # stored newest first: the chart still runs oldest to newest


def _plotted(lines: list[Line2D]) -> dict[str, tuple[tuple[date, ...], tuple[float, ...]]]:
    return {
        str(line.get_label()): (tuple(line.get_xdata()), tuple(line.get_ydata()))  # type: ignore[arg-type]
        for line in lines
        if not str(line.get_label()).startswith("_")
    }


def test_plotted_points_equal_the_checkins() -> None:
    checkins = _checkins()
    figure = chart_figure(checkins)
    pain_axes, activity_axes = figure.axes
    data = chart_data(checkins)
    assert _plotted(pain_axes.get_lines()) == {"Pain": (data.pain.days, data.pain.scores)}
    assert _plotted(activity_axes.get_lines()) == {
        s.name: (s.days, s.scores) for s in data.activities
    }


def test_chart_data_follows_the_checkins() -> None:
    data = chart_data(_checkins())
    days = tuple(START + timedelta(weeks=w) for w in range(5))
    assert data.days == days
    assert data.pain.scores == (7, 6, 7, 5, 4)
    by_name = {s.name: s for s in data.activities}
    assert [s.name for s in data.activities] == ["Sitting at work", "Putting on socks", "Running"]
    assert by_name["Sitting at work"].scores == (3, 4, 5, 6, 7)
    assert by_name["Running"].days == tuple(d for w, d in enumerate(days) if w != 2)
    assert by_name["Running"].scores == (0, 1, 3, 4)


def test_every_checkin_day_is_marked() -> None:
    checkins = _checkins()
    for axes in chart_figure(checkins).axes:
        (marks,) = [c for c in axes.collections if c.get_label() == "_checkin_days"]
        marked = {num2date(segment[0][0]).date() for segment in marks.get_segments()}
        assert marked == {c.on for c in checkins}


def test_pain_only_chart_has_one_panel() -> None:
    checkins = [CheckIn(START + timedelta(weeks=w), 5, "same") for w in range(3)]
    assert len(chart_figure(checkins).axes) == 1


def test_chart_png_decodes_at_its_size_and_is_reproducible() -> None:
    checkins = _checkins()
    png = render_chart(checkins)
    assert Image.open(io.BytesIO(png)).size == SIZE
    assert render_chart(checkins) == png


@pytest.mark.parametrize(
    ("count", "expected"), [(0, False), (1, False), (2, False), (3, True), (8, True)]
)
def test_chart_makes_sense_from_three_checkins(count: int, expected: bool) -> None:
    checkins = [CheckIn(START + timedelta(weeks=w), 5, "same") for w in range(count)]
    assert MIN_CHECKINS == 3
    assert chart_makes_sense(checkins) is expected


def test_no_checkins_raise_instead_of_an_empty_chart() -> None:
    with pytest.raises(ProgressError, match="no check-ins"):
        render_chart([])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pain": 11}, "pain 11 is not between 0 and 10"),
        ({"feeling": "fine"}, "feeling 'fine' is not better, same or worse"),
        ({"activities": {"a": 1, "b": 2, "c": 3, "d": 4}}, "4 activities, at most 3"),
        ({"activities": {"Running": -1}}, "'Running' score -1 is not between 0 and 10"),
    ],
)
def test_bad_checkins_are_named(kwargs: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"on": START, "pain": 5, "feeling": "same", **kwargs}
    with pytest.raises(ProgressError, match=message):
        CheckIn(**values)  # type: ignore[arg-type]


def test_two_checkins_on_one_day_are_refused() -> None:
    with pytest.raises(ProgressError, match="two check-ins on the same day"):
        chart_data([CheckIn(START, 5, "same"), CheckIn(START, 4, "better")])
