# ruff: noqa: F811  (test_web's fixtures, imported, are redefined as arguments)
"""`hipbot web --clinic-only` serves only /clinic and `--chat-only` only the web chat, so a
deployment can run them as separate processes: the other side's paths are 404."""

from __future__ import annotations

import pytest

from bot.cli import build_parser
from bot.engine import Engine
from bot.features import load_features
from bot.model import Bundle
from bot.storage.sql import SqlStorage
from bot.web.server import WebApp, WebSettings
from tests.test_web import _client, bundle, storage  # noqa: F401 (fixtures)

CHAT_PATHS = ("/", "/api/history")
CLINIC_PATHS = ("/clinic", "/clinic/login")


async def _statuses(bundle: Bundle, storage: SqlStorage, serves: str) -> dict[str, int]:
    app = WebApp(Engine(bundle), storage, load_features(), settings=WebSettings(serves=serves))
    client = await _client(app)
    try:
        found = {}
        for path in (*CHAT_PATHS, *CLINIC_PATHS, "/static/clinic.css"):
            answer = await client.get(path, allow_redirects=False)
            found[path] = answer.status
        send = await client.post("/api/send", json={"text": "hi"})
        found["POST /api/send"] = send.status
        return found
    finally:
        await client.close()


async def test_clinic_only_serves_no_web_chat(bundle: Bundle, storage: SqlStorage) -> None:
    found = await _statuses(bundle, storage, "clinic")
    assert found["/"] == 404 and found["/api/history"] == 404 and found["POST /api/send"] == 404
    assert found["/clinic"] == 303 and found["/clinic/login"] == 200
    assert found["/static/clinic.css"] == 200


async def test_chat_only_serves_no_dashboard(bundle: Bundle, storage: SqlStorage) -> None:
    found = await _statuses(bundle, storage, "chat")
    assert found["/clinic"] == 404 and found["/clinic/login"] == 404
    assert found["/"] == 200 and found["/api/history"] == 200


async def test_both_by_default(bundle: Bundle, storage: SqlStorage) -> None:
    found = await _statuses(bundle, storage, "both")
    assert found["/"] == 200 and found["/clinic/login"] == 200


def test_an_unknown_choice_is_refused(bundle: Bundle, storage: SqlStorage) -> None:
    app = WebApp(Engine(bundle), storage, load_features(), settings=WebSettings(serves="all"))
    with pytest.raises(ValueError, match="serves is 'all': it must be one of both, chat, clinic"):
        app.build()


def test_the_flags_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    assert parser.parse_args(["web", "--clinic-only"]).clinic_only
    assert parser.parse_args(["web", "--chat-only"]).chat_only
    with pytest.raises(SystemExit):
        parser.parse_args(["web", "--clinic-only", "--chat-only"])
    assert "not allowed with argument" in capsys.readouterr().err
