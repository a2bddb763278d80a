"""The patient's own consent to share check-ins with a clinic (dashboard's Patients page),
asked after joining with a personal link, revocable with /share; and /login for staff."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.features.clinics import dashboard as dash
from bot.features.clinics.chat import SHARE
from tests.fakes.clinics import World


@pytest.fixture
def world() -> Iterator[World]:
    found = World()
    yield found
    found.storage.close()


def _buttons(response: object) -> list[str]:
    replies = getattr(response, "replies", [])
    return [b.data for r in replies for row in r.buttons for b in row]


def test_a_patient_with_a_ref_is_asked_and_may_share_then_stop(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    code = world.store.add_invite(clinic.id, "P-7", world.now)
    answer = world.join(301, code)
    assert f"x:{SHARE}:y.{clinic.id}" in _buttons(answer)
    assert not dash.shares(world.storage.db, clinic.id, "301")  # asking is not agreeing
    said = world.press(301, f"x:{SHARE}:y.{clinic.id}")
    assert said.edit is not None and "can see your check-ins" in said.edit.text
    assert dash.shares(world.storage.db, clinic.id, "301")
    assert [p.ref for p in dash.shared_patients(world.storage.db, clinic.id)[0]] == ["P-7"]
    again = world.command(301, "share")
    assert f"x:{SHARE}:n.{clinic.id}" in _buttons(again)
    world.press(301, f"x:{SHARE}:n.{clinic.id}")
    assert not dash.shares(world.storage.db, clinic.id, "301")
    assert dash.shared_patients(world.storage.db, clinic.id) == ([], 1)


def test_no_share_question_without_a_ref_and_no_sharing_with_another_clinic(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    other = world.clinic("Other Clinic")
    answer = world.join(302, clinic.code)
    assert not _buttons(answer)
    forged = world.press(302, f"x:{SHARE}:y.{other.id}")
    assert forged.then is not None  # answered like a stale button
    assert not dash.shares(world.storage.db, other.id, "302")


def test_login_sends_staff_a_code_and_nobody_else_learns_it_exists(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    world.store.add_staff(clinic.id, "401", "admin", world.now)
    answer = world.command(401, "login")
    (reply,) = answer.replies
    assert "sign-in code" in reply.text
    code = reply.text.split("<code>")[1].split("</code>")[0]
    assert dash.redeem_code(world.storage.db, code, world.now) == (clinic.id, "401")
    assert dash.redeem_code(world.storage.db, code, world.now) is None
    stranger = world.command(402, "login")
    assert stranger.then is not None and not stranger.replies  # as an unknown command
