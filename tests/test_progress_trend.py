"""The worse-trend rule at each boundary, and that a run of worse check-ins is told once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.model import Session
from bot.trend import (
    Point,
    last_per_day,
    pick_activities,
    recent,
    track_checkin,
    worse_run,
)


def _points(*pairs: tuple[int | None, str | None]) -> list[Point]:
    return [Point(pain, feeling) for pain, feeling in pairs]


@pytest.mark.parametrize(
    ("pains", "worse"),
    [
        ((4, 5, 6), True),  # up by 2, steadily
        ((4, 4, 6), True),  # a flat week then up: still never down
        ((4, 6, 6), True),
        ((4, 5, 5), False),  # up by only 1
        ((4, 7, 6), False),  # up by 2 overall, but down in between
        ((6, 5, 4), False),
        ((0, 1, 2), True),
        ((8, 9, 10), True),
    ],
)
def test_pain_up_by_two_over_three_checkins(pains: tuple[int, int, int], worse: bool) -> None:
    assert worse_run(_points(*((p, "same") for p in pains))) is worse


def test_worse_three_times_even_with_pain_going_down() -> None:
    assert worse_run(_points((6, "worse"), (5, "worse"), (4, "worse")))
    assert not worse_run(_points((6, "worse"), (5, "worse"), (4, "same")))
    assert not worse_run(_points((6, "same"), (5, "worse"), (4, "worse")))


def test_only_the_last_three_count_and_fewer_are_never_a_run() -> None:
    assert not worse_run(_points((4, "worse"), (5, "worse")))
    assert not worse_run(_points((2, "same"), (9, "same"), (5, "same"), (6, "same")))
    assert worse_run(_points((9, "same"), (4, "same"), (5, "same"), (6, "same")))


def test_a_missing_pain_score_is_no_pain_run() -> None:
    assert not worse_run(_points((4, "same"), (None, "same"), (6, "same")))


def _tells(checkins: list[tuple[int, str]]) -> list[str]:
    """ci_worse_run after each check-in, as the flow's action saves it."""
    session = Session("1", "reminders", 1, "rem_ci_saved")
    told = []
    for pain, feeling in checkins:
        session = session.with_answer("ci_pain", pain).with_answer("ci_trend", feeling)
        session = track_checkin(session, {})
        told.append(str(session.answers["ci_worse_run"]))
    return told


def test_told_once_per_episode_and_again_after_it_ended() -> None:
    weeks = [(4, "same"), (5, "same"), (6, "same"), (7, "same"), (7, "same"), (7, "same")]
    weeks += [(8, "same"), (9, "same")]
    # 4 5 6: a run (told); 5 6 7 still a run (not told again); 6 7 7 and 7 7 7 are not (the
    # episode ends); 7 7 8 is not; 7 8 9 is a new run: told again
    assert _tells(weeks) == ["no", "no", "yes", "no", "no", "no", "no", "yes"]


def test_worse_three_times_is_told_once_while_it_lasts() -> None:
    weeks = [(5, "worse")] * 5 + [(5, "same"), (5, "worse"), (5, "worse"), (5, "worse")]
    assert _tells(weeks) == ["no", "no", "yes", "no", "no", "no", "no", "no", "yes"]


def test_the_count_goes_up_and_only_four_checkins_are_remembered() -> None:
    session = Session("1", "reminders", 1, "rem_ci_saved")
    for week in range(6):
        session = session.with_answer("ci_pain", week).with_answer("ci_trend", "same")
        session = track_checkin(session, {})
    assert session.answers["ci_count"] == 6
    assert session.answers["ci_recent"] == ["2:same", "3:same", "4:same", "5:same"]


def test_up_to_three_activities_are_named_in_words_and_old_scores_go() -> None:
    session = Session("1", "reminders", 1, "rem_ci_acts_set", answers={"ci_score3": 4})
    session = session.with_answer("ci_acts", ["stairs", "sitting", "running", "standing"])
    picked = pick_activities(session, {}).answers
    assert [picked.get(f"ci_act{n}") for n in (1, 2, 3)] == [
        "going up and down stairs",
        "sitting",
        "running",
    ]
    assert "ci_score3" not in picked


def _at(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC).timestamp()


def _checkin_at(session: Session, pain: int, feeling: str, now: float) -> Session:
    session = session.with_answer("ci_pain", pain).with_answer("ci_trend", feeling)
    return track_checkin(session, {"now": now})


def test_a_second_checkin_on_one_day_replaces_the_first_and_is_not_counted() -> None:
    session = Session("1", "reminders", 1, "rem_ci_saved", answers={"timezone": "Europe/Berlin"})
    session = _checkin_at(session, 4, "same", _at(1, 9))
    session = _checkin_at(session, 5, "same", _at(1, 20))  # the same day in Berlin
    assert session.answers["ci_count"] == 1
    assert session.answers["ci_recent"] == ["5:same:2026-03-01"]
    session = _checkin_at(session, 6, "same", _at(1, 23, 30))  # 00:30 on 2 March in Berlin
    assert session.answers["ci_count"] == 2
    assert [p.pain for p in recent(session.answers)] == [5, 6]
    # 4, 5, 6 would be a worse run; one check-in a day leaves 5, 6: not three days yet
    assert session.answers["ci_worse_run"] == "no"


def test_last_per_day_keeps_unknown_days_apart() -> None:
    assert last_per_day(["a", "b", "c"], lambda _: "") == ["a", "b", "c"]
    assert last_per_day([(1, "x"), (1, "y"), (2, "z")], lambda p: p[0]) == [(1, "y"), (2, "z")]
