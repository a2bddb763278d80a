"""``hipbot test`` replays a transcript in each of its languages (bot/transcripts.py)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from bot import transcripts

COMPLETE = Path(__file__).parent / "flows" / "i18n" / "complete"


def copy(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    shutil.copytree(COMPLETE, folder)
    return folder


def run(folder: Path) -> tuple[int, str]:
    out = io.StringIO()
    code = transcripts.run([str(folder)], out)
    return code, out.getvalue()


def test_the_same_transcript_passes_in_three_languages() -> None:
    code, out = run(COMPLETE)
    assert code == 0, out
    for language in ("en", "es", "de"):
        assert f"PASS  the pain check in three languages [{language}]" in out
    assert "3 passed, 0 failed" in out
    assert "step coverage: 100% (6 of 6 steps)" in out
    assert "step coverage (es): 100% (6 of 6 steps)" in out
    assert "step coverage (de): 100% (6 of 6 steps)" in out


def test_a_wrong_text_fails_only_its_language(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    script = folder / "transcripts" / "pain_check.yaml"
    script.write_text(
        script.read_text(encoding="utf-8").replace('"7 de 10"', '"8 de 10"'), encoding="utf-8"
    )
    code, out = run(folder)
    assert code == 1
    assert "PASS  the pain check in three languages [en]" in out
    assert "PASS  the pain check in three languages [de]" in out
    assert "FAIL  the pain check in three languages [es]" in out
    assert (
        "      line 18 (click 'Izquierdo'): expected '8 de 10' in the reply, got: Gracias. Tu "
        "dolor es 7 de 10, en el lado Izquierdo.\n" in out
    )


def test_a_spanish_only_transcript_clicks_spanish_labels(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    (folder / "transcripts" / "pain_check.yaml").unlink()
    (folder / "transcripts" / "es.yaml").write_text(
        "transcript: solo en español\n"
        "language: es\n"
        "steps:\n"
        "  - send: /start\n"
        "    buttons: [Revisar mi cadera, Ayuda urgente]\n"
        "  - click: Revisar mi cadera\n"
        "    step: pain\n"
        "    expect: ¿Cuánto te duele ahora\n"
        "  - click: Check my hip\n",
        encoding="utf-8",
    )
    code, out = run(folder)
    assert code == 1
    assert "FAIL  solo en español" in out
    assert "line 9 (click 'Check my hip'): no button 'Check my hip' is offered" in out
    # coverage is counted for Spanish only, and short of 100% there
    assert "step coverage (es): " in out and "step coverage: " not in out
    assert "steps no transcript reaches (es): care:done, care:side, care:urgent" in out
    assert "no transcript runs in en" in out


def test_coverage_must_be_complete_in_each_language(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    (folder / "transcripts" / "de.yaml").write_text(
        "transcript: nur das Menü\nlanguage: de\nsteps:\n  - send: /start\n    step: menu\n",
        encoding="utf-8",
    )
    code, out = run(folder)
    assert "PASS  nur das Menü" in out
    assert "step coverage (de): 100% (6 of 6 steps)" in out  # the three-language one
    assert code == 0
    (folder / "transcripts" / "pain_check.yaml").unlink()
    code, out = run(folder)
    assert code == 1
    assert "1 passed, 0 failed" in out
    assert "step coverage (de): 33% (2 of 6 steps)" in out
    assert "every step must be reached in each language a transcript runs in" in out


def test_an_unsupported_language_is_named(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    (folder / "transcripts" / "fr.yaml").write_text(
        "transcript: en français\nlanguage: fr\nsteps:\n  - send: /start\n", encoding="utf-8"
    )
    code, out = run(folder)
    assert code == 1
    assert "language 'fr' is not supported (bot/languages.py has en, es, de)" in out


def test_a_per_language_text_outside_the_transcript_languages(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    (folder / "transcripts" / "bad.yaml").write_text(
        "transcript: bad\nlanguage: es\nsteps:\n  - send: /start\n    expect: {de: [Hallo]}\n",
        encoding="utf-8",
    )
    code, out = run(folder)
    assert code == 1
    assert "steps[0].expect: ['de'] not among the transcript's languages ['es']" in out
