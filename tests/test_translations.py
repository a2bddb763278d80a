"""``hipbot validate`` keeps translations complete: every text in every supported language
(``bot.languages.SUPPORTED``), with the same placeholders and markup, within the limits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import content, languages, translations
from bot.cli import main
from bot.errors import FlowErrors
from bot.loader import load_bundle

COMPLETE = Path(__file__).parent / "flows" / "i18n" / "complete"


def copy(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    shutil.copytree(COMPLETE, folder)
    return folder


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def validate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["validate", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_the_complete_fixture_validates_in_every_language(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, said = validate(capsys, str(COMPLETE))
    assert code == 0, said
    assert said.startswith("OK: 1 flow(s), 6 steps")


def test_a_missing_translation_names_file_path_language_and_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy(tmp_path)
    edit(folder / "care.yaml", ', de: "Was möchtest du tun?"}', "}")
    code, said = validate(capsys, str(folder))
    assert code == 1
    assert (
        f"{folder / 'care.yaml'} > steps.menu > say (de): missing the Deutsch (de) text: write "
        "the text as {en: ..., de: ...} with a translation of 'What would you like?'"
    ) in said
    assert "\nTranslations: es: 0, de: 1 text missing\n" in said
    assert said.endswith("\n1 problem(s) found.\n")


def test_the_bot_itself_falls_back_to_english_but_validate_does_not(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    edit(folder / "care.yaml", ', es: "Izquierdo"', "")
    assert load_bundle([folder]).entry == "care"  # the runtime's default: English required
    with pytest.raises(FlowErrors) as caught:
        load_bundle([folder], languages=languages.SUPPORTED)
    [problem] = caught.value.errors
    assert isinstance(problem, translations.MissingTranslation)
    assert problem.language == "es"
    assert problem.path == "steps.side > ask > options[0].label (es)"


def test_only_the_languages_asked_for(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = copy(tmp_path)
    edit(folder / "care.yaml", ', de: "Was möchtest du tun?"}', "}")
    assert validate(capsys, "--languages", "es", str(folder))[0] == 0
    assert validate(capsys, "--languages", "de", str(folder))[0] == 1
    assert main(["validate", "--languages", "fr", str(folder)]) == 2
    assert "fr not supported; bot/languages.py SUPPORTED has en, es, de" in capsys.readouterr().err


def test_a_placeholder_that_differs_between_languages(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    edit(folder / "care.yaml", "Tu dolor es {pain} de 10", "Tu dolor es alto")
    with pytest.raises(FlowErrors) as caught:
        load_bundle([folder])  # always a problem: the Spanish reader would miss the value
    assert str(caught.value) == (
        f"{folder / 'care.yaml'} > steps.done > say (es): placeholders differ from the English: "
        "en has {pain}, {side}, es has {side}; keep every {name} as it is and translate only "
        "the words around it"
    )


def test_markup_that_differs_between_languages(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    edit(
        folder / "care.yaml",
        "rufe jetzt <b>{emergency_number}</b> an",
        "rufe {emergency_number} an",
    )
    with pytest.raises(FlowErrors) as caught:
        load_bundle([folder])
    assert str(caught.value) == (
        f"{folder / 'care.yaml'} > steps.urgent > say (de): markup differs from the English: "
        "en has <b>, de has none; use the same tags (<b>, <i>, links) in every language"
    )


def test_a_button_label_too_long_in_one_language_only(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    long = "Revisar mi cadera, mi pierna, mi espalda y todo lo que me duele hoy"
    assert len(long) > 64
    edit(folder / "care.yaml", '"Revisar mi cadera"', f'"{long}"')
    with pytest.raises(FlowErrors) as caught:
        load_bundle([folder])
    [problem] = caught.value.errors
    assert problem.path == "steps.menu"
    assert f"(es) is {len(long)} characters; keep it under 64" in problem.message


def test_a_texts_label_too_long_in_one_language_only() -> None:
    long = "Ja, das mache ich gerne heute und morgen und auch an jedem anderen Tag"
    document = {"texts": "engine", "items": {"yes_button": {"en": "Yes", "es": "Sí", "de": long}}}
    _, problems = content.build_kit([("texts_engine.yaml", document)])
    said = [str(problem) for problem in problems]
    assert (
        f"texts_engine.yaml > items.yes_button (de): {len(long)} characters; Telegram allows 64 "
        "here: shorten the Deutsch (de) text"
    ) in said
    assert not any("items.yes_button (es)" in line for line in said)


def test_the_safety_net_needs_words_in_every_language(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    edit(
        folder / "safety.yaml",
        "  de: {phrases: [gestürzt, fieber*], negations: [kein*, nicht], breaks: [aber]}\n",
        "",
    )
    edit(folder / "safety.yaml", ', es: "Ayuda urgente"', "")
    with pytest.raises(FlowErrors) as caught:
        load_bundle([folder], languages=languages.SUPPORTED)
    said = [str(problem) for problem in caught.value.errors]
    file = folder / "safety.yaml"
    assert said == [
        f"{file} > button (es): missing the Español (es) text: write the text as "
        "{en: ..., es: ...} with a translation of 'Urgent help'",
        f"{file} > languages (de): no emergency words in Deutsch (de): add 'de:' under "
        "'languages' with the words people type in that language",
    ]


def test_a_fourth_language_lists_everything_it_lacks(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(languages, "SUPPORTED", ("en", "es", "de", "fr"))
    monkeypatch.setattr(languages, "NATIVE_NAMES", {**languages.NATIVE_NAMES, "fr": "Français"})
    code, said = validate(capsys, str(COMPLETE))
    assert code == 1
    missing = [line for line in said.splitlines() if "(fr): missing the Français (fr) text" in line]
    # every text of the fixture: 2 route descriptions, 6 says, 6 labels, 1 re-ask, and the
    # safety net's 3 texts and its word lists
    assert len(missing) == 18
    assert f"{COMPLETE / 'safety.yaml'} > languages (fr): no emergency words" in said
    assert "\nTranslations: es: 0, de: 0, fr: 19 texts missing\n" in said


def test_gaps_counts_per_language() -> None:
    problems = [
        translations.MissingTranslation("f", "p", "es", "m"),
        translations.MissingTranslation("f", "q", "es", "m"),
    ]
    assert translations.gaps(problems, ("en", "es", "de")) == "es: 2 texts missing, de: 0"


def test_a_message_too_long_in_one_language_only(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    long = "Camina un poco. " * 260  # 4160 characters
    edit(folder / "care.yaml", '"¿Qué quieres hacer?"', f'"{long.strip()}"')
    with pytest.raises(FlowErrors) as caught:
        load_bundle([folder])
    assert [str(problem) for problem in caught.value.errors] == [
        f"{folder / 'care.yaml'} > steps.menu > say (es): text is {len(long.strip())} "
        "characters; Telegram allows 4096: split it into steps"
    ]
