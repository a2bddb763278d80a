"""The tests find the shared folder beside the repository, wherever the checkout is, and say
plainly what is missing when it is not there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.bot_api import ApiSpec
from tests.fakes.shared import REPO, SharedFileMissing, shared_file


def test_the_shared_folder_is_found_beside_the_repository(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HIPBOT_SHARED_DIR", raising=False)
    spec = shared_file("telegram-bot-api/api.min.json")
    assert spec == REPO.parent / "shared" / "telegram-bot-api" / "api.min.json"
    assert ApiSpec.load().method("sendMessage") is not None


def test_a_missing_shared_folder_is_named_in_one_sentence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HIPBOT_SHARED_DIR", str(tmp_path))
    monkeypatch.delenv("TELEGRAM_API_SPEC", raising=False)
    with pytest.raises(SharedFileMissing, match=r"seed/x\.txt .*HIPBOT_SHARED_DIR") as error:
        shared_file("seed/x.txt")
    assert str(tmp_path / "seed" / "x.txt") in str(error.value)
    with pytest.raises(SharedFileMissing, match=r"api\.min\.json"):
        ApiSpec.load()


def test_another_copy_of_the_shared_folder_can_be_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "seed").mkdir()
    (tmp_path / "seed" / "x.txt").write_text("hip", encoding="utf-8")
    monkeypatch.setenv("HIPBOT_SHARED_DIR", str(tmp_path))
    assert shared_file("seed/x.txt").read_text(encoding="utf-8") == "hip"
