"""Forged clinic buttons (issue 11, faults 6 and 10): a stranger's ``x:cn:<id>`` or
``x:cl:<id>`` names no clinic; odd digits in any clinic button's data are no crash."""

from __future__ import annotations

import pytest

from bot.features import load_features
from bot.features.clinics import broadcast as bc
from tests.fakes.clinics import World
from tests.test_clinics import reply_text

STRANGER = 901
ODD = ["²", "①", "9" * 20, "", "-1", "1.²", "².1.x", "c.1.²"]


def test_a_forged_no_thanks_does_not_tell_a_strangers_clinic(world: World) -> None:
    clinic = world.clinic("Secret Hip Clinic")
    answer = reply_text(world.press(STRANGER, f"x:cn:{clinic.id}"))
    assert "Secret Hip Clinic" not in answer
    assert "will not get messages" in answer


def test_no_thanks_under_the_question_names_the_clinic(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    world.start(902, clinic.code)
    question = world.messages_to(902)[-1]
    data = question["reply_markup"]["inline_keyboard"][1][0]["callback_data"]
    assert "will not get messages from Hip Clinic" in reply_text(world.press(902, data))
    assert world.store.patients(clinic.id) == []


def test_a_forged_leave_does_not_tell_a_strangers_clinic(world: World) -> None:
    clinic = world.clinic("Secret Hip Clinic")
    answer = reply_text(world.press(STRANGER, bc.stop_data(clinic.id)))
    assert "Secret Hip Clinic" not in answer


def test_leave_still_names_the_persons_own_clinic(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    world.join(903, clinic.code)
    assert "Hip Clinic" in reply_text(world.press(903, bc.stop_data(clinic.id)))
    assert "Hip Clinic" in reply_text(world.press(903, bc.stop_data(clinic.id)))  # again


@pytest.mark.parametrize("argument", ODD)
@pytest.mark.parametrize("key", ["cn", "cl", "bw", "bx"])
def test_odd_digits_in_clinic_buttons_are_no_crash(world: World, key: str, argument: str) -> None:
    clinic = world.clinic("Hip Clinic")
    world.store.add_staff(clinic.id, str(STRANGER), "admin", world.now)
    world.command(STRANGER, "broadcast")  # a wizard waiting, so its buttons are read
    world.press(STRANGER, f"x:{key}:{argument}")
    world.press(904, f"x:{key}:{argument}")  # and from someone who is not staff


@pytest.mark.parametrize("argument", ODD)
def test_odd_digits_after_cancel_are_no_crash(world: World, argument: str) -> None:
    clinic = world.clinic("Hip Clinic")
    world.store.add_staff(clinic.id, str(STRANGER), "admin", world.now)
    world.command(STRANGER, "cancel", argument)


def test_odd_digits_in_reminder_buttons_are_no_crash() -> None:
    world = World()
    features = load_features(["bot.features.reminders"])
    features.setup(world.storage)
    for verb in ("off", "done", "snooze"):
        for argument in ODD:
            response = features.press(world.ctx(905), f"x:rem:{verb}:{argument}")
            assert response is not None and response.edit is not None, (verb, argument)
