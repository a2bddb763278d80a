"""The Telegram channel: the only package that imports ``telegram`` or names a Bot API method.

* ``app``: updates in, as ``bot.turns`` inbound actions; polling, webhook, start and stop;
* ``render``: channel-neutral outbox rows (``bot.outgoing``) as Bot API calls;
* ``sender``: delivers the outbox within Telegram's rate limits;
* ``updates``: reads raw update batches (skips what the library cannot read);
* ``request``: the HTTP client under the library.
"""
