"""Which Telegram updates were handled lately, per bot: how a redelivered update (the
process died before Telegram heard it was handled) acts once.

Telegram numbers updates one after another, but after a week without updates it may start
anywhere (lower too), so "at most the last id handled" would ignore everyone from then on.
A set of the ids handled in the last ``KEEP`` seconds does not: Telegram keeps an update at
most 24 hours, so no redelivery is older, and a week's silence empties the set before any
new numbering can meet an old id. Ids hold no personal data (no user, no chat).
"""

from __future__ import annotations

from bot.storage.db import Database

KEEP = 2 * 24 * 3600.0  # seconds an update id is remembered: twice Telegram's 24 hours


def seen(db: Database, bot: int, update_id: int, now: float) -> bool:
    """Whether this bot handled this update in the last ``KEEP`` seconds."""
    row = db.one(
        "SELECT seen_at FROM seen_updates WHERE bot = ? AND update_id = ?", (bot, update_id)
    )
    return row is not None and float(row[0]) >= now - KEEP


def remember(db: Database, bot: int, update_id: int, now: float) -> None:
    """Record an update as handled; call in the transaction that stores what it did."""
    db.defer(
        "INSERT INTO seen_updates (bot, update_id, seen_at) VALUES (?, ?, ?)"
        " ON CONFLICT (bot, update_id) DO UPDATE SET seen_at = excluded.seen_at",
        (bot, update_id, now),
    )


def forget_old(db: Database, now: float) -> int:
    """Drop the ids older than ``KEEP``; how many went."""
    with db.transaction():
        count = db.one("SELECT count(*) FROM seen_updates WHERE seen_at < ?", (now - KEEP,))
        db.execute("DELETE FROM seen_updates WHERE seen_at < ?", (now - KEEP,))
    return int(count[0])
