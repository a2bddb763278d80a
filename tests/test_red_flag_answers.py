"""Every answer to the red-flag screen, yes or no, is kept for the audit trail, sealed."""

from __future__ import annotations

from pathlib import Path

from bot import crypto
from bot.conversation import Conversation
from bot.engine import Engine
from bot.features import load_features
from bot.loader import load_bundle
from bot.storage import SqlStorage

REPO = Path(__file__).resolve().parents[1]


def test_all_eight_answers_are_audited_and_erased_with_the_person(tmp_path: Path) -> None:
    storage = SqlStorage(str(tmp_path / "a.db"))
    load_features().setup(storage)
    chat = Conversation(Engine(load_bundle([REPO / "flows"])), storage, "555")
    chat.send("/urgent")
    chat.click("Start the questions")
    for _ in range(8):
        chat.click("No")
    rows = storage.db.all("SELECT data FROM red_flag_answers WHERE user_id = '555' ORDER BY id")
    assert len(rows) == 8
    assert all(crypto.is_sealed(data) for (data,) in rows)
    answers = [crypto.decrypt_json(storage.db, data) for (data,) in rows]
    assert answers[0]["flag"] == "rf_fall" and all(a["answer"] is False for a in answers)
    assert storage.db.one("SELECT count(*) FROM red_flag_audit")[0] == 0  # no flag was raised
    assert len(storage.export_user("555")["privacy"]["red_flag_answers"]) == 8
    storage.delete_user("555")
    assert storage.db.one("SELECT count(*) FROM red_flag_answers")[0] == 0
