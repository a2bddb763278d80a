"""The activity scores on SQLite and PostgreSQL: kept per check-in, sealed, in /mydata,
gone with /delete."""

from __future__ import annotations

from bot.features import load_features
from bot.features.progress import store
from bot.storage import SqlStorage, open_storage


def _open(database: str) -> SqlStorage:
    opened = open_storage(database if "://" in database else f"sqlite:///{database}")
    assert isinstance(opened, SqlStorage)
    load_features().setup(opened)
    return opened


def test_scores_are_kept_sealed_exported_and_erased(database: str) -> None:
    storage = _open(database)
    with storage.db.transaction() as db:
        store.record_scores(db, "7", 200.0, {"sitting": 4, "stairs": 6})
        store.record_scores(db, "7", 100.0, {"sitting": 3})
        store.record_scores(db, "8", 100.0, {"running": 9})
    assert [(s.at, dict(s.scores)) for s in store.scores(storage.db, "7")] == [
        (100.0, {"sitting": 3}),
        (200.0, {"sitting": 4, "stairs": 6}),
    ]
    raw = [row[0] for row in storage.db.all("SELECT data FROM activity_scores")]
    assert raw and not any("sitting" in text or "running" in text for text in raw)
    assert storage.export_user("7")["progress"]["activity_scores"][1]["scores"]["stairs"] == 6
    storage.delete_user("7")
    assert store.scores(storage.db, "7") == []
    assert [dict(s.scores) for s in store.scores(storage.db, "8")] == [{"running": 9}]
    storage.close()
