"""``hipbot web``: the same conversation as Telegram and ``hipbot chat``, in a browser.

A third adapter over the same engine, features and storage (issue 13):

* ``chat.py``: one turn for a web person, driven the way ``bot/console.py`` drives it;
* ``markup.py``: the bot's HTML subset as a tree of safe nodes the page builds DOM from;
* ``server.py``: the aiohttp app (page, JSON API, cookie, CSRF, limits, headers);
* ``static/``: the page, its script and its style (no inline script or style).

Reminders and follow-ups stay Telegram-only for now: where a person would set one, the web
chat says so (``texts.TELEGRAM_ONLY``, in flows/texts_privacy.yaml).
"""
