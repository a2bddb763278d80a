"""``hipbot lint`` measures Spanish and German with formulas made for them (bot.lint_languages)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import languages, lint, lint_languages
from bot.lint import Message

COMPLETE = Path(__file__).parent / "flows" / "i18n" / "complete"

HARD_ES = (
    "La sintomatología característica del pinzamiento femoroacetabular comprende "
    "manifestaciones dolorosas inguinales, frecuentemente exacerbadas durante actividades "
    "que requieren flexión prolongada, particularmente sedestación mantenida."
)
HARD_DE = (
    "Die charakteristische Symptomatik des femoroazetabulären Impingements umfasst "
    "belastungsabhängige Leistenschmerzen, die insbesondere bei andauernder Hüftbeugung, "
    "beispielsweise während längerer Sitzphasen, zunehmende Intensität aufweisen."
)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("nltk")


def copy(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    shutil.copytree(COMPLETE, folder)
    return folder


def test_the_complete_fixture_passes_in_every_language(cache: Path) -> None:
    report = lint.lint_paths([COMPLETE], cache)
    assert report.ok, report.problems
    assert {t.language for t in report.languages} == {"es", "de"}
    table = lint.format_table(report)
    assert "Fernández Huerta" in table and "Wiener Sachtextformel" in table


def test_hard_spanish_fails_with_file_path_language_score_and_target(
    tmp_path: Path, cache: Path
) -> None:
    folder = copy(tmp_path)
    care = folder / "care.yaml"
    text = care.read_text(encoding="utf-8")
    care.write_text(text.replace("¿Qué quieres hacer?", HARD_ES), encoding="utf-8")
    problems = lint.lint_paths([folder], cache).problems
    message = [p for p in problems if p.startswith("topic (no topic): message")]
    assert len(message) == 1
    assert message[0].startswith(
        f"topic (no topic): message {care} > steps.menu > say (es): Fernández Huerta "
    )
    assert "; the target is at least 60: 'La sintomatología" in message[0]
    assert not any("(de)" in p for p in problems)


def test_hard_german_fails_on_the_wiener_sachtextformel(tmp_path: Path, cache: Path) -> None:
    folder = copy(tmp_path)
    care = folder / "care.yaml"
    text = care.read_text(encoding="utf-8")
    care.write_text(text.replace("Was möchtest du tun?", HARD_DE), encoding="utf-8")
    problems = lint.lint_paths([folder], cache).problems
    assert any(
        p.startswith(f"topic (no topic): message {care} > steps.menu > say (de): Wiener ")
        and "the target is at most 8:" in p
        for p in problems
    ), problems
    assert any(p.startswith("topic (no topic) (de): Wiener Sachtextformel") for p in problems)


def test_the_targets_rank_plain_and_hard_texts(cache: Path) -> None:
    lint.ensure_offline_cmudict(cache)
    plain_es = "Camina un poco cada día. Si te duele, para. Habla con tu médico."
    plain_de = "Geh jeden Tag ein wenig. Wenn es weh tut, mach eine Pause. Sprich mit deinem Arzt."
    for language, plain, hard in (("es", plain_es, HARD_ES), ("de", plain_de, HARD_DE)):
        scale = lint_languages.SCALES[language]
        easy, _ = lint_languages.measure(scale, [Message("t", "a", plain)])
        tough, problems = lint_languages.measure(scale, [Message("t", "b", hard)])
        assert not easy[0].failed and tough[0].failed, (language, easy, tough)
        assert len(problems) >= 2


def test_a_long_message_in_one_language_does_not_fit_a_phone(tmp_path: Path, cache: Path) -> None:
    folder = copy(tmp_path)
    care = folder / "care.yaml"
    long = " ".join(["Geh jeden Tag ein wenig."] * 20)
    text = care.read_text(encoding="utf-8")
    care.write_text(text.replace("Was möchtest du tun?", long), encoding="utf-8")
    problems = lint.lint_paths([folder], cache).problems
    assert f"{care} > steps.menu > say (de): 100 words; a phone shows about 80" in "\n".join(
        problems
    )


def test_a_language_without_a_formula_is_named(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(languages, "SUPPORTED", ("en", "es", "de", "fr"))
    problems = lint.lint_paths([COMPLETE], cache).problems
    assert problems == (
        "fr: no reading-level formula for this language: give it a Scale in SCALES in "
        "bot/lint_languages.py",
    )
