"""What the bot says it keeps is what it keeps (issue 12).

Each consent and age path is walked through the real engine, flows, features and a SQLite
file; then every table is read (sealed values opened) and compared with the sentences the
bot said on that path, and with the privacy policy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import crypto
from bot.engine import Engine
from bot.features import load_features
from bot.features.privacy.rules import render_policy
from bot.loader import load_bundle
from bot.model import Bundle
from bot.storage.sql import SqlStorage
from tests.test_privacy import (
    RED_FLAG_NOS,
    SHIPPED_VERSION,
    USER,
    Clock,
    Person,
    consent_and_answer,
    to_consent,
)

FLOWS = Path(__file__).resolve().parent.parent / "flows"
# stored forms of symptom answers (names and values; labels on screen are capitalised)
HEALTH_ANSWERS = ('\\"signs\\"', "pain_now", "stiffness", "front_pain")
RED_FLAG_NAMES = ("rf_fall", "rf_fever", "rf_sudden", "rf_child", "rf_nerves", "rf_weak")


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    return load_bundle([FLOWS])


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[SqlStorage]:
    store = SqlStorage(str(tmp_path / "hipbot.db"))
    load_features().setup(store)
    yield store
    store.close()


@pytest.fixture
def person(bundle: Bundle, storage: SqlStorage) -> Person:
    return Person(Engine(bundle), storage, load_features(), Clock())


def stored(storage: SqlStorage, user: str = USER) -> dict[str, list[str]]:
    """Every row of every table that is about ``user`` (by user id or chat id), with sealed
    values opened, as text: {table: [row, ...]} for the tables that hold any."""
    found: dict[str, list[str]] = {}
    codec = storage.codec
    for table in storage.db.tables():
        cursor = storage.db.execute(f"SELECT * FROM {table}")
        columns = [d[0] for d in cursor.description]
        for row in cursor.fetchall():
            values = dict(zip(columns, row, strict=True))
            if str(values.get("user_id")) != user and str(values.get("chat_id")) != user:
                continue
            opened = {
                k: codec.open(v) if isinstance(v, str) and crypto.is_sealed(v) else v
                for k, v in values.items()
            }
            found.setdefault(table, []).append(json.dumps(opened, default=str))
    return found


def journal_kinds(storage: SqlStorage) -> set[str]:
    return {kind for kind, _ in storage.journal(USER)}


def session_answers(storage: SqlStorage) -> dict[str, Any]:
    session = storage.load_session(USER)
    return dict(session.answers) if session else {}


def holds_any(rows: dict[str, list[str]], words: tuple[str, ...]) -> list[str]:
    return [f"{t}: {w}" for t, texts in rows.items() for text in texts for w in words if w in text]


def policy_text(bundle: Bundle) -> str:
    assert bundle.policy is not None
    return "\n".join(render_policy(bundle.policy, "en", 365))


# ---------------------------------------------------------------- the paths


def test_no_thanks_keeps_only_the_warning_answers_as_it_says(
    person: Person, storage: SqlStorage, bundle: Bundle
) -> None:
    to_consent(person)
    person.click("No thanks")
    said = person.text()
    assert "not saved any answers about them" in said
    assert "only keep your yes or no to the warning questions" in said
    rows = stored(storage)
    # no symptom answer and no consent anywhere; the session holds no answer at all
    assert session_answers(storage) == {}
    assert "consents" not in rows and "red_flag_audit" not in rows
    assert not holds_any(rows, HEALTH_ANSWERS)
    # the warning answers are kept, as said: each yes or no, in the audit trail
    assert len(rows["red_flag_answers"]) == 8
    assert set(rows) <= {"sessions", "journal", "red_flag_answers", "outbox"}
    assert journal_kinds(storage) <= {"started", "answer_audited", "answers_cleared"}
    # and the policy says the same
    policy = policy_text(bundle)
    assert "yes or no to each warning question" in policy.lower()
    assert "even if you do not let me save your other answers" in policy


def test_under_16_at_the_age_question_erases_all_as_it_says(
    person: Person, storage: SqlStorage, bundle: Bundle
) -> None:
    person.send("/urgent")
    person.walk("Start the questions", "No", "Yes")  # an earlier red flag: audit row
    consent_and_answer(person)  # an earlier consent with answers
    assert {"red_flag_audit", "red_flag_answers", "consents"} <= set(stored(storage))
    person.send("/check")
    person.walk("Start", *RED_FLAG_NOS, "Check my symptoms", "Under 16")
    assert "erased your answers and all else" in person.text()
    assert set(stored(storage)) == {"outbox"}  # only the reply itself, not sent yet
    person.deliver()
    assert stored(storage) == {}
    assert "If you tell me your age is under 16, I erase all I have about you" in policy_text(
        bundle
    )


def test_a_yes_to_the_child_question_is_kept_like_every_warning_answer_as_the_policy_says(
    person: Person, storage: SqlStorage, bundle: Bundle
) -> None:
    person.send("/urgent")
    person.walk("Start the questions", "No", "No", "No", "Yes")
    assert "If you are a parent" in person.text() and "If you are under 16" in person.text()
    rows = stored(storage)
    assert len(rows["red_flag_answers"]) == 4  # rf_fall ... rf_child
    (audit,) = rows["red_flag_audit"]
    assert "under_16" in audit
    assert "consents" not in rows and not holds_any(rows, HEALTH_ANSWERS)
    policy = policy_text(bundle)
    assert "a parent may answer it, so I keep that answer like the other warning answers" in (
        policy
    )


def test_i_agree_keeps_the_answers_with_the_time_and_version_as_it_says(
    person: Person, storage: SqlStorage
) -> None:
    to_consent(person)
    consent_text = person.text()
    assert "your answers" in consent_text and "which version of this note you saw" in consent_text
    assert "yes or no to each warning question is kept as a safety record" in consent_text
    person.click("I agree")
    person.walk("Stiffness", "Clicking", "Done")
    person.send("6")
    rows = stored(storage)
    assert len(rows["consents"]) == 1
    assert f'"policy_version": {SHIPPED_VERSION}' in rows["consents"][0]
    answers = session_answers(storage)
    assert answers["signs"] == ["stiffness", "clicking"] and answers["pain_now"] == 6
    assert len(rows["red_flag_answers"]) == 8


def test_withdraw_erases_the_answers_and_the_warning_answers_as_it_says(
    person: Person, storage: SqlStorage
) -> None:
    person.send("/urgent")
    person.walk("Start the questions", "No", "Yes")  # a red flag on the way: fever
    consent_and_answer(person)
    person.deliver()
    person.send("/withdraw")
    said = person.text()
    assert "I have erased them, with your answers to the warning questions" in said
    rows = stored(storage)
    assert session_answers(storage) == {}
    assert "red_flag_answers" not in rows and "red_flag_audit" not in rows
    # no answer is left in any table: not a symptom, not a warning answer, not in the journal
    assert not holds_any(rows, HEALTH_ANSWERS + RED_FLAG_NAMES + ("fever_hot_joint",))
    assert "answer_audited" not in journal_kinds(storage)
    # the record that a yes was given and taken back stays (the policy's "Your yes to saving")
    (consent,) = rows["consents"]
    assert '"withdrawn_at": null' not in consent
