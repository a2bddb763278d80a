"""Every picture renders, decodes, has its size, fits Telegram's photo limits, and renders
the same bytes twice (no date, no randomness)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from bot.drawings import PICTURES, Picture, alt_text, render, render_all
from bot.drawings.labels import ALT_TEXTS, LABELS

TELEGRAM_PHOTO_BYTES = 10 * 1024 * 1024
TELEGRAM_SIDES_SUM = 10_000
TELEGRAM_RATIO = 20


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes]:
    return {picture.name: render(picture) for picture in PICTURES}


@pytest.mark.parametrize("picture", PICTURES, ids=lambda p: p.name)
def test_picture_decodes_at_its_size_within_telegram_limits(
    picture: Picture, rendered: dict[str, bytes]
) -> None:
    data = rendered[picture.name]
    image = Image.open(io.BytesIO(data))
    image.verify()
    assert Image.open(io.BytesIO(data)).format == "PNG"
    assert image.size == picture.size
    width, height = image.size
    assert len(data) < TELEGRAM_PHOTO_BYTES
    assert width + height <= TELEGRAM_SIDES_SUM
    assert max(width, height) / min(width, height) <= TELEGRAM_RATIO


@pytest.mark.parametrize("picture", PICTURES, ids=lambda p: p.name)
def test_picture_is_not_blank(picture: Picture, rendered: dict[str, bytes]) -> None:
    image = Image.open(io.BytesIO(rendered[picture.name])).convert("L")
    low, high = image.getextrema()
    assert (low, high) != (255, 255)
    assert low < 60  # dark outlines and text are there


@pytest.mark.parametrize("picture", PICTURES, ids=lambda p: p.name)
def test_rendering_twice_gives_identical_bytes(
    picture: Picture, rendered: dict[str, bytes]
) -> None:
    assert render(picture) == rendered[picture.name]


def test_labels_change_the_picture_so_a_translation_can_be_drawn(
    rendered: dict[str, bytes],
) -> None:
    picture = PICTURES[0]
    translated = {**LABELS, "ball": "Kugel", "socket": "Pfanne"}
    assert render(picture, translated) != rendered[picture.name]


def test_every_picture_has_a_short_alt_text() -> None:
    assert {p.name for p in PICTURES} == set(ALT_TEXTS)
    for picture in PICTURES:
        words = alt_text(picture)
        assert 10 < len(words) <= 300, picture.name


def test_png_has_no_date_in_its_metadata(rendered: dict[str, bytes]) -> None:
    info = Image.open(io.BytesIO(rendered["hip_normal"])).info
    assert not {"Creation Time", "date:create", "Software"} & set(info)


def test_render_all_writes_one_file_per_picture(tmp_path: Path) -> None:
    paths = render_all(tmp_path / "out")
    assert [p.name for p in paths] == [p.file_name for p in PICTURES]
    assert all(p.stat().st_size > 10_000 for p in paths)


def test_cli_pictures_prints_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pictures", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / p.file_name) for p in PICTURES]
