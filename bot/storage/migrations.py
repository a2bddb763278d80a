"""Migrations of the core store (sessions, journal, flags, outbox), applied in order.

Never edit a released step: add a new one. ``{id}`` and ``{real}`` are dialect words
(see ``bot.storage.db``).
"""

from __future__ import annotations

CORE: list[str] = [
    # 1: sessions, the effects journal, per-person flags and the outbox
    """
    CREATE TABLE sessions (
        user_id    TEXT PRIMARY KEY,
        data       TEXT NOT NULL,
        revision   INTEGER NOT NULL,
        updated_at {real} NOT NULL
    );
    CREATE TABLE journal (
        id      {id},
        user_id TEXT NOT NULL,
        kind    TEXT NOT NULL,
        data    TEXT NOT NULL,
        at      {real} NOT NULL
    );
    CREATE INDEX journal_user ON journal (user_id, id);
    CREATE TABLE flags (
        user_id TEXT NOT NULL,
        name    TEXT NOT NULL,
        value   INTEGER NOT NULL,
        PRIMARY KEY (user_id, name)
    );
    CREATE TABLE outbox (
        id            {id},
        chat_id       BIGINT NOT NULL,
        priority      INTEGER NOT NULL DEFAULT 0,
        method        TEXT NOT NULL,
        params        TEXT NOT NULL,
        state         TEXT NOT NULL DEFAULT 'pending',
        attempts      INTEGER NOT NULL DEFAULT 0,
        due_at        {real} NOT NULL,
        claimed_until {real} NOT NULL DEFAULT 0,
        created_at    {real} NOT NULL,
        sent_at       {real},
        error         TEXT
    );
    CREATE INDEX outbox_due ON outbox (state, priority, due_at, id);
    CREATE INDEX outbox_chat ON outbox (chat_id);
    """,
    # 2: update ids handled lately, per bot (bot.storage.updates): a redelivered update acts
    # once even after Telegram starts its numbering again
    """
    CREATE TABLE seen_updates (
        bot       BIGINT NOT NULL,
        update_id BIGINT NOT NULL,
        seen_at   {real} NOT NULL,
        PRIMARY KEY (bot, update_id)
    );
    CREATE INDEX seen_updates_age ON seen_updates (seen_at);
    """,
    # 3: Telegram's file ids of the pictures a bot uploaded (bot.telegram.files): a picture
    # goes up once per bot and its content, then is sent by id
    """
    CREATE TABLE telegram_files (
        bot      BIGINT NOT NULL,
        picture  TEXT NOT NULL,
        digest   TEXT NOT NULL,
        file_id  TEXT NOT NULL,
        saved_at {real} NOT NULL,
        PRIMARY KEY (bot, picture, digest)
    );
    """,
]


SQLITE = CORE  # earlier name, kept for tests written against it
