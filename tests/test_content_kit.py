"""The content kit (bot.content): ``texts:`` files in flows/, declared by key in bot/texts.py,
checked by the loader, looked up by the engine, reminders and clinics."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import texts
from bot.content import Kit, build_kit, declared_sets, shipped_kit
from bot.conversation import Conversation
from bot.engine import Engine
from bot.errors import FlowErrors
from bot.features import load_features
from bot.loader import load_bundle
from bot.model import Text
from bot.storage import MemoryStorage
from tests.fakes.clinics import World

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"
GOOD = ROOT / "tests" / "flows" / "good"


def problems(folder: Path) -> list[str]:
    with pytest.raises(FlowErrors) as caught:
        load_bundle([folder])
    return [str(error) for error in caught.value.errors]


def copy_flows(tmp_path: Path) -> Path:
    for path in FLOWS.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def test_every_declared_key_has_a_shipped_text() -> None:
    kit = shipped_kit()
    for text_set in declared_sets().values():
        for key in text_set.keys.values():
            if key.many:
                assert kit.rotation(key), key.id
            else:
                assert kit.text(key).get("en").strip(), key.id


def test_the_bundle_carries_the_kit_of_its_folder(tmp_path: Path) -> None:
    folder = copy_flows(tmp_path)
    engine_file = folder / "texts_engine.yaml"
    engine_file.write_text(
        engine_file.read_text(encoding="utf-8").replace(
            'en: "That button', 'en: "Old button! That button'
        ),
        encoding="utf-8",
    )
    bundle = load_bundle([folder])
    assert bundle.kit is not None
    assert Engine(bundle).text(texts.STALE_BUTTON).get("en").startswith("Old button!")


def test_a_folder_without_texts_files_gets_the_shipped_ones() -> None:
    bundle = load_bundle([GOOD])
    assert bundle.kit is not None
    assert bundle.kit.text(texts.DONE).get("en") == shipped_kit().text(texts.DONE).get("en")


def test_unknown_and_missing_keys_are_named_with_file_and_path(tmp_path: Path) -> None:
    folder = copy_flows(tmp_path)
    path = folder / "texts_engine.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("  reask_time:", "  reask_tme:")
    path.write_text(text, encoding="utf-8")
    found = problems(folder)
    assert any(
        p.endswith(
            "texts_engine.yaml > items.reask_tme: unknown key 'reask_tme' in set "
            "'engine' (did you mean 'reask_time'?)"
        )
        for p in found
    ), found
    assert any(
        "texts_engine.yaml > items: missing key 'reask_time': the code looks up "
        "'engine.reask_time'" in p
        for p in found
    ), found


def test_a_placeholder_the_key_does_not_take_is_named(tmp_path: Path) -> None:
    folder = copy_flows(tmp_path)
    path = folder / "texts_engine.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("from {min} to {max}", "from {min} to {maxi}"),
        encoding="utf-8",
    )
    found = problems(folder)
    assert any(
        "items.reask_integer (en): unknown placeholder '{maxi}': 'engine.reask_integer' takes max, min"
        in p
        for p in found
    ), found


def test_html_in_a_label_and_yes_as_a_key_are_named() -> None:
    kit, found = build_kit(
        [
            ("f.yaml", {"texts": "engine", "items": {"done": "<b>Done</b>"}}),
            ("g.yaml", {"texts": "reminders", "items": {True: "Yes"}}),
        ]
    )
    said = [str(p) for p in found]
    assert any("f.yaml > items.done: '<b>': a button label is plain text" in p for p in said)
    assert any("g.yaml" in p and "yes, no, on and off" in p for p in said), said
    assert isinstance(kit, Kit)


def test_a_rotation_must_be_a_list_and_a_single_text_must_not() -> None:
    _, found = build_kit(
        [("f.yaml", {"texts": "reminders", "items": {"sitting": "One.", "checkin": ["A.", "B."]}})]
    )
    said = [str(p) for p in found]
    assert "f.yaml > items.sitting: should be a list of texts (one per use)" in said
    assert "f.yaml > items.checkin: should be one text, not a list" in said


def test_a_set_given_twice_or_unknown_is_refused() -> None:
    doc = {"texts": "clinics", "items": {"alerts_note": "{clinic} gets alerts."}}
    _, found = build_kit(
        [("a.yaml", doc), ("b.yaml", doc), ("c.yaml", {"texts": "nope", "items": {"x": "y"}})]
    )
    said = [str(p) for p in found]
    assert "b.yaml > texts: set 'clinics' is also in a.yaml" in said
    assert any(p.startswith("c.yaml > texts: unknown set 'nope'") for p in said)


def test_the_engine_speaks_from_the_kit() -> None:
    kit = shipped_kit()
    chat = Conversation(Engine(load_bundle([FLOWS])), MemoryStorage(), "1")
    chat.send("/start")
    chat.send("what?")
    assert (
        kit.text(texts.PICK_A_BUTTON).get("en") in chat.text()
        or kit.text(texts.REASK_CHOICE).get("en") in chat.text()
    )


def test_a_kit_falls_back_to_english_for_a_missing_language() -> None:
    kit = Kit({texts.DONE.id: Text({"en": "Done", "de": "Fertig"})})
    assert kit.text(texts.DONE).get("de") == "Fertig"
    assert kit.text(texts.DONE).get("es") == "Done"
    with pytest.raises(KeyError, match=r"engine\.menu"):
        kit.text(texts.MENU)


# ---------------------------------------------------------------- clinic wording, only when linked


def test_only_a_patient_whose_clinic_gets_alerts_reads_about_alerts(world: World) -> None:
    clinic = world.clinic("Hip Clinic")
    load_features(["bot.features.privacy"]).setup(
        world.storage
    )  # its table of clinics that get alerts
    world.storage.db.execute(
        "INSERT INTO clinic_alert_optins (clinic_id, since) VALUES (?, ?)", (clinic.id, 0)
    )
    personal = world.store.add_invite(clinic.id, "P-7", world.now)
    joined = world.join(201, personal)
    said = joined.edit.text if joined.edit else ""
    assert "Hip Clinic asked to hear about warning signs" in said
    assert "says nothing about your health" in said
    plain = world.join(202, clinic.code)  # no reference: no alert can name this patient
    assert "warning signs" not in (plain.edit.text if plain.edit else "")


def test_no_alert_wording_when_the_clinic_did_not_ask_for_alerts(world: World) -> None:
    clinic = world.clinic("Knee Clinic")
    personal = world.store.add_invite(clinic.id, "P-8", world.now)
    joined = world.join(203, personal)
    assert "warning signs" not in (joined.edit.text if joined.edit else "")
