"""Typed answers in each person's language (bot/answer_words.py, read by bot/engine.py):
yes and no, numbers written out, times as people say them, "none" and "and"."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot import answer_words
from bot.conversation import Conversation
from bot.engine import Engine
from bot.loader import load_bundle
from bot.storage import MemoryStorage
from tests.test_engine_answers import FLOW


def chat_in(tmp_path: Path, language: str) -> Conversation:
    (tmp_path / "t.yaml").write_text(FLOW, encoding="utf-8")
    storage = MemoryStorage()
    talk = Conversation(Engine(load_bundle([tmp_path])), storage, "7")
    talk.send("/start")
    session = talk.session
    assert session is not None
    storage.commit_turn(replace(session, language=language, revision=session.revision + 1))
    return talk


def saved(talk: Conversation, name: str) -> object:
    session = talk.session
    assert session is not None
    return session.answers.get(name)


@pytest.mark.parametrize(
    ("language", "typed", "value"),
    [
        ("es", "Sí", True),
        ("es", "si", True),
        ("es", "No", False),
        ("de", "Ja", True),
        ("de", "jo", True),
        ("de", "Nein", False),
        ("es", "yes", True),  # English words work in every language
        ("de", "no", False),
    ],
)
def test_yes_and_no_in_the_persons_language(
    tmp_path: Path, language: str, typed: str, value: bool
) -> None:
    talk = chat_in(tmp_path, language)
    talk.click("Ready")
    talk.send(typed)
    assert saved(talk, "ready") is value


def test_a_word_that_is_yes_in_no_language_is_asked_again(tmp_path: Path) -> None:
    talk = chat_in(tmp_path, "de")
    talk.click("Ready")
    talk.send("vielleicht")
    assert saved(talk, "ready") is None


@pytest.mark.parametrize(
    ("language", "typed", "value"),
    [
        ("es", "siete", 7),
        ("es", "Diez", 10),
        ("es", "cero", 0),
        ("es", "siete de 10", 7),
        ("de", "sieben", 7),
        ("de", "zehn", 10),
        ("de", "fünf", 5),
        ("de", "7 von 10", 7),
        ("en", "seven", 7),
        ("en", "7 out of 10", 7),
    ],
)
def test_numbers_written_out(tmp_path: Path, language: str, typed: str, value: int) -> None:
    talk = chat_in(tmp_path, language)
    talk.click("Pain")
    talk.send(typed)
    assert saved(talk, "pain") == value


def test_a_spanish_number_word_is_not_read_in_a_german_chat(tmp_path: Path) -> None:
    talk = chat_in(tmp_path, "de")
    talk.click("Pain")
    talk.send("siete")
    assert saved(talk, "pain") is None


@pytest.mark.parametrize(
    ("language", "typed", "value"),
    [
        ("es", "a las 8", "08:00"),
        ("es", "a las 8:30", "08:30"),
        ("es", "a las 8 y media", "08:30"),
        ("es", "a las ocho y cuarto", "08:15"),
        ("es", "20 horas", "20:00"),
        ("de", "8 Uhr", "08:00"),
        ("de", "8:30 Uhr", "08:30"),
        ("de", "um 7", "07:00"),
        ("de", "halb neun", "08:30"),
        ("en", "at 9", "09:00"),
        ("en", "8pm", "20:00"),
    ],
)
def test_times_in_each_language(tmp_path: Path, language: str, typed: str, value: str) -> None:
    talk = chat_in(tmp_path, language)
    talk.click("When")
    talk.send(typed)
    assert saved(talk, "when") == value


@pytest.mark.parametrize(
    ("language", "typed", "value"),
    [
        ("es", "nada", []),
        ("de", "nichts", []),
        ("es", "sitting y stairs", ["sitting", "stairs"]),
        ("de", "sitting und stairs", ["sitting", "stairs"]),
    ],
)
def test_several_choices_with_none_and_and_words(
    tmp_path: Path, language: str, typed: str, value: list[str]
) -> None:
    talk = chat_in(tmp_path, language)
    talk.click("Hurts")
    talk.send(typed)
    assert saved(talk, "hurts") == value


def test_every_language_has_every_table() -> None:
    from bot.languages import SUPPORTED

    tables = [
        answer_words.YES,
        answer_words.NO,
        answer_words.NUMBERS,
        answer_words.NONE,
        answer_words.AND,
        answer_words.TIME_BEFORE,
        answer_words.TIME_AFTER,
    ]
    for table in tables:
        assert set(SUPPORTED) <= set(table)
    for language in SUPPORTED:
        assert sorted(answer_words.NUMBERS[language].values())[-1] == 10
        assert set(range(11)) <= set(answer_words.NUMBERS[language].values())
        assert not answer_words.YES[language] & answer_words.NO[language]
