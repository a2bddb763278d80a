"""What progress keeps: a person's activity scores at each check-in, sealed at rest like the
check-ins they go with.

``activity_scores`` holds, per check-in (the same ``at`` as its row in ``checkin_answers``),
the activities the person named and their 0-10 scores (Patient-Specific Functional Scale
style). Health data: sealed with the data key, erased by /delete and by a consent
withdrawal, and shown in /mydata. ``questions_opened`` holds the Common questions a person
opened (the step of each answer, once, sealed), under the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot import crypto
from bot.storage.db import Database

STORE = "progress"
MIGRATIONS = [
    # 1: activity scores per check-in
    """
    CREATE TABLE activity_scores (
        id      {id},
        user_id TEXT NOT NULL,
        at      {real} NOT NULL,
        data    TEXT NOT NULL
    );
    CREATE INDEX activity_scores_user ON activity_scores (user_id, at);
    """,
    # 2: the Common questions a person opened (the step of each answer, sealed)
    """
    CREATE TABLE questions_opened (
        id      {id},
        user_id TEXT NOT NULL,
        at      {real} NOT NULL,
        data    TEXT NOT NULL
    );
    CREATE INDEX questions_opened_user ON questions_opened (user_id, at);
    """,
]
TABLES = ("activity_scores", "questions_opened")

crypto.sealed_column("activity_scores", "id", "data")  # scores are health data
crypto.sealed_column("questions_opened", "id", "data")  # what someone reads up on tells much


@dataclass(frozen=True)
class Scores:
    at: float  # the check-in's time (UTC seconds)
    scores: Mapping[str, int]  # activity (the person's words) -> 0-10


def migrate(db: Database) -> None:
    db.migrate(STORE, MIGRATIONS)


def record_scores(db: Database, user_id: str, at: float, scores: Mapping[str, int]) -> None:
    db.execute(
        "INSERT INTO activity_scores (user_id, at, data) VALUES (?, ?, ?)",
        (user_id, at, crypto.encrypt_json(db, dict(scores))),
    )


def scores(db: Database, user_id: str) -> list[Scores]:
    """Every check-in's activity scores, oldest first."""
    rows = db.all(
        "SELECT at, data FROM activity_scores WHERE user_id = ? ORDER BY at, id", (user_id,)
    )
    found = []
    for at, data in rows:
        value = crypto.decrypt_json(db, data)
        kept = {str(k): int(v) for k, v in value.items() if isinstance(v, int)}
        found.append(Scores(float(at), kept))
    return found


def questions_opened(db: Database, user_id: str) -> list[tuple[float, str]]:
    """The Common questions a person opened: (when first, the answer's step), oldest first."""
    rows = db.all(
        "SELECT at, data FROM questions_opened WHERE user_id = ? ORDER BY at, id", (user_id,)
    )
    return [(float(at), str(crypto.decrypt_json(db, data))) for at, data in rows]


def record_opened(db: Database, user_id: str, at: float, step: str) -> None:
    """Keep that the person opened the Common question answered at ``step`` (once)."""
    if any(seen == step for _, seen in questions_opened(db, user_id)):
        return
    db.execute(
        "INSERT INTO questions_opened (user_id, at, data) VALUES (?, ?, ?)",
        (user_id, at, crypto.encrypt_json(db, step)),
    )


def erase(db: Database, user_id: str) -> None:
    """Everything progress keeps about a person (/delete, consent withdrawn)."""
    for table in TABLES:
        db.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))


def export(db: Database, user_id: str) -> dict[str, Any]:
    """/mydata: the activity scores, with the time of their check-in."""
    return {
        "activity_scores": [{"at": s.at, "scores": dict(s.scores)} for s in scores(db, user_id)],
        "questions_opened": [
            {"at": at, "step": step} for at, step in questions_opened(db, user_id)
        ],
    }
