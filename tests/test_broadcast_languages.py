"""A clinic broadcast with one text per language: each patient gets theirs, patients in a
language it lacks get nothing, and the CLI says how many were skipped for language."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.errors import HipbotError
from bot.features.clinics import broadcast as bc
from bot.features.clinics.cli import _broadcast_text
from bot.features.clinics.rules import EVERYONE
from tests.fakes.clinics import World, telegram_params
from tests.test_broadcast import AUTHOR, setup_clinic


def speak(world: World, user: int, language: str) -> None:
    session = world.storage.load_session(str(user))
    assert session is not None
    changed = replace(session, language=language, revision=session.revision + 1)
    world.storage.commit_turn(changed, (), (), world.now)


def test_each_patient_gets_the_text_in_their_language_and_others_are_skipped(
    world: World,
) -> None:
    clinic_id, users = setup_clinic(world, 3)
    for user, language in zip(users, ("en", "es", "de"), strict=True):
        speak(world, user, language)
    text = bc.encode_texts({"en": "Clinic news", "es": "Noticias de la clínica"})
    people, left_out = bc.split_by_language(
        bc.recipients(world.storage, clinic_id, EVERYONE, world.now), text
    )
    assert [p.user_id for p in people] == [str(users[0]), str(users[1])]
    assert left_out == {"de": 1}
    draft = world.store.create_draft(clinic_id, str(AUTHOR), world.now)
    world.store.update_draft(clinic_id, draft, text=text, audience="all")
    count = bc.queue(world.storage, clinic_id, draft, EVERYONE, None, world.now, str(AUTHOR), text)
    assert count == 2
    bc.sweep(world.storage, world.now)
    said = {params["chat_id"]: params["text"] for params in map(telegram_params, world.outbox())}
    assert "Clinic news" in said[users[0]] and "Noticias de la clínica" in said[users[1]]
    assert users[2] not in said


def test_one_text_for_all_reaches_every_language(world: World) -> None:
    clinic_id, users = setup_clinic(world, 2)
    speak(world, users[1], "de")
    people, left_out = bc.split_by_language(
        bc.recipients(world.storage, clinic_id, EVERYONE, world.now), "Clinic news"
    )
    assert len(people) == 2 and not left_out
    assert bc.text_for("Clinic news", "de") == "Clinic news"
    assert bc.text_for(bc.encode_texts({"es": "Hola"}), "de") is None


def test_a_broadcast_file_may_give_one_text_per_language(tmp_path: Path) -> None:
    one = tmp_path / "one.txt"
    one.write_text("Note: the clinic is closed on Friday.", encoding="utf-8")
    assert _broadcast_text(str(one)) == ("Note: the clinic is closed on Friday.", None)
    several = tmp_path / "several.yaml"
    several.write_text("en: Closed on Friday.\nes: Cerrado el viernes.\n", encoding="utf-8")
    stored, texts = _broadcast_text(str(several))
    assert texts == {"en": "Closed on Friday.", "es": "Cerrado el viernes."}
    assert bc.texts_by_language(stored) == texts
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("en: Closed.\nfr: Fermé.\n", encoding="utf-8")
    with pytest.raises(HipbotError, match=r"wrong.yaml > fr: not a language the bot speaks"):
        _broadcast_text(str(wrong))
