"""The Common questions a person opened (issue 14): kept only with consent to keep answers,
listed on the /summary page and in /mydata, and erased by /delete and a withdrawal."""

from __future__ import annotations

import io

from pypdf import PdfReader

from bot import outgoing
from bot.engine import Engine
from bot.features import Features
from bot.features.privacy.chat import collect
from bot.features.progress import store
from bot.features.progress.chat import faq_titles
from bot.storage import SqlStorage
from tests import test_progress_feature as progress
from tests.test_progress_feature import CHAT, Clock, _agree_and_set_checkin, _say, _turns

engine = progress.engine  # the same fixtures
storage = progress.storage
features = progress.features


def _summary_text(rows: list[outgoing.Row]) -> str:
    _, content, _ = outgoing.document_of(rows[-1][2])
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 1
    return " ".join(reader.pages[0].extract_text().split())


def test_the_answers_are_found_with_their_menu_titles(engine: Engine) -> None:
    titles = {step: text.get("en") for step, text in faq_titles(engine.bundle).items()}
    assert titles["faq_scan"] == "Is a scan enough?"
    assert titles["faq_ice_heat"] == "Ice or heat?"
    assert not any(step.endswith("menu") for step in titles)  # menus are not questions


def test_opened_questions_are_on_the_summary_and_in_mydata_then_erased(
    engine: Engine, storage: SqlStorage, features: Features
) -> None:
    turns = _turns(engine, storage, features, Clock())
    _agree_and_set_checkin(turns)
    _say(turns, "/questions", "Scans and diagnosis", "Is a scan enough?", "More questions")
    _say(turns, "Is a scan enough?")  # opened twice: listed once
    _say(turns, "/questions", "Treatment and pain", "Ice or heat?")
    text = _summary_text(_say(turns, "/summary"))
    assert "Questions I read about • Is a scan enough? • Ice or heat?" in text
    exported = collect(storage, str(CHAT))["progress"]["questions_opened"]
    assert [(q["step"], q["question"]) for q in exported] == [
        ("faq_scan", "Is a scan enough?"),
        ("faq_ice_heat", "Ice or heat?"),
    ]
    sealed = storage.db.all("SELECT data FROM questions_opened")
    assert len(sealed) == 2 and not any("faq_" in str(row[0]) for row in sealed)
    storage.delete_user(str(CHAT))
    assert storage.db.all("SELECT * FROM questions_opened") == []


def test_without_consent_nothing_is_kept(
    engine: Engine, storage: SqlStorage, features: Features
) -> None:
    turns = _turns(engine, storage, features, Clock())
    _say(turns, "/start", "/questions", "Scans and diagnosis", "Is a scan enough?")
    assert store.questions_opened(storage.db, str(CHAT)) == []


def test_withdrawing_consent_erases_the_opened_questions(
    engine: Engine, storage: SqlStorage, features: Features
) -> None:
    turns = _turns(engine, storage, features, Clock())
    _agree_and_set_checkin(turns)
    _say(turns, "/questions", "Scans and diagnosis", "Is a scan enough?")
    assert [s for _, s in store.questions_opened(storage.db, str(CHAT))] == ["faq_scan"]
    rows = _say(turns, "/withdraw")
    yes = next((label for _, _, p in rows for r in p.get("buttons") or [] for label, _ in r), "")
    _say(turns, yes)
    assert store.questions_opened(storage.db, str(CHAT)) == []
    _say(turns, "/questions", "Scans and diagnosis", "Is a scan enough?")
    assert store.questions_opened(storage.db, str(CHAT)) == []
