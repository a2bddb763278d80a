"""`hipbot web` over HTTP (aiohttp's test client): the cookie, CSRF and content-type
refusals, the size and rate limits, bot text rendered only from the markup subset, resume
after a reload, reminders said to be Telegram-only, /mydata and /delete."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from bot.console import console_chat_id
from bot.engine import Engine
from bot.features import load_features
from bot.features.heartbeat import holders
from bot.loader import load_bundle
from bot.model import Bundle
from bot.storage import open_storage
from bot.storage.sql import SqlStorage
from bot.texts import TELEGRAM_ONLY
from bot.web.chat import web_chat_id
from bot.web.markup import markup_tree, plain_text
from bot.web.server import COOKIE, CSRF_HEADER, WebApp, WebSettings

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"
T0 = 1_800_000_000.0


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    return load_bundle([FLOWS])


@pytest.fixture
def storage(database: str) -> Iterator[SqlStorage]:
    """A SQLite file, or a fresh PostgreSQL database (conftest's ``database``)."""
    store = open_storage(database if "://" in database else f"sqlite:///{database}")
    assert isinstance(store, SqlStorage)
    load_features().setup(store)
    yield store
    store.close()


async def _client(app: WebApp) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = TestClient(TestServer(app.build()))
    await client.start_server()
    return client


@pytest.fixture
async def web(bundle: Bundle, storage: SqlStorage) -> AsyncIterator[TestClient[Any, Any]]:
    client = await _client(WebApp(Engine(bundle), storage, load_features(), clock=lambda: T0))
    yield client
    await client.close()


async def _open(client: TestClient[Any, Any]) -> str:
    """Open the page and read the history: the person's cookie and CSRF token."""
    page = await client.get("/")
    assert page.status == 200
    history = await client.get("/api/history")
    token: str = (await history.json())["token"]
    return token


async def _post(client: TestClient[Any, Any], token: str, **body: str) -> dict[str, Any]:
    response = await client.post("/api/send", json=body, headers={CSRF_HEADER: token})
    assert response.status == 200, await response.text()
    answer: dict[str, Any] = await response.json()
    return answer


def _texts(answer: dict[str, Any]) -> str:
    return "\n".join(plain_text(m["content"]) for m in answer["messages"])


def _button(answer: dict[str, Any], label: str) -> str:
    for message in answer["messages"]:
        for row in message["buttons"]:
            for button in row:
                if button["label"] == label:
                    data: str = button["data"]
                    return data
    raise AssertionError(f"no button {label!r} in {answer}")


async def _refused(response: ClientResponse, status: int, reason: str) -> None:
    assert response.status == status
    assert response.content_type == "application/json"
    assert reason in (await response.json())["error"]


# ---------------------------------------------------------------- identity and headers


async def test_page_gives_an_httponly_strict_cookie_and_a_strict_csp(
    web: TestClient[Any, Any],
) -> None:
    page = await web.get("/")
    assert page.status == 200
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain http here
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp
    html = await page.text()
    assert '<html lang="en">' in html
    assert "<script>" not in html and "style=" not in html and "<style" not in html
    script = await web.get("/static/app.js")
    assert "innerHTML" not in await script.text()


async def test_cookie_is_secure_behind_https(web: TestClient[Any, Any]) -> None:
    page = await web.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in page.headers["Set-Cookie"]


def test_web_chat_ids_cannot_meet_telegram_or_console_ids() -> None:
    ids = {web_chat_id(f"person{n:026d}") for n in range(200)}
    assert len(ids) == 200
    assert all(i < -(10**15) for i in ids)  # Telegram: private > 0, groups > -10**13
    assert console_chat_id("me") > 0
    assert web_chat_id("a" * 32) == web_chat_id("a" * 32)


async def test_the_web_chat_marks_the_database_as_in_use(
    web: TestClient[Any, Any], storage: SqlStorage
) -> None:
    """Restore and key rotation refuse while it runs: it seals answers with its key."""
    assert await _open(web)
    assert [h.pid for h in holders(storage.db, T0)] == [os.getpid()]


# ---------------------------------------------------------------- refusals


async def test_posting_needs_the_cookie_the_token_and_json(web: TestClient[Any, Any]) -> None:
    await _refused(await web.post("/api/send", json={"text": "/start"}), 403, "no chat cookie")
    token = await _open(web)
    await _refused(await web.post("/api/send", json={"text": "/start"}), 403, "CSRF")
    wrong = {CSRF_HEADER: "0" * 64}
    await _refused(await web.post("/api/send", json={"text": "/start"}, headers=wrong), 403, "CSRF")
    form = await web.post("/api/send", data={"text": "/start"}, headers={CSRF_HEADER: token})
    await _refused(form, 415, "JSON")
    other_site = {CSRF_HEADER: token, "Origin": "https://evil.example"}
    await _refused(
        await web.post("/api/send", json={"text": "/start"}, headers=other_site),
        403,
        "another site",
    )
    for body, reason in (
        ({"text": ""}, "empty"),
        ({"text": "x" * 1001}, "over 1000"),
        ({"button": "b" * 65}, "1 to 64"),
        ({"text": "a", "button": "b"}, "send"),
        ({"hello": 1}, "send"),
    ):
        response = await web.post("/api/send", json=body, headers={CSRF_HEADER: token})
        await _refused(response, 400, reason)
    nonsense = await web.post(
        "/api/send",
        data=b"{not json",
        headers={CSRF_HEADER: token, "Content-Type": "application/json"},
    )
    await _refused(nonsense, 400, "not valid JSON")
    # none of that started a conversation
    assert (await _post(web, token, text="/start"))["messages"]


async def test_a_body_over_the_limit_is_refused(web: TestClient[Any, Any]) -> None:
    token = await _open(web)
    big = json.dumps({"text": "x" * 5000})
    response = await web.post(
        "/api/send",
        data=big,
        headers={CSRF_HEADER: token, "Content-Type": "application/json"},
    )
    await _refused(response, 413, "over 4096 bytes")


async def test_each_cookie_has_its_own_rate_limit(bundle: Bundle, storage: SqlStorage) -> None:
    app = WebApp(
        Engine(bundle), storage, load_features(), settings=WebSettings(rate=4, period=3600)
    )
    first, second = await _client(app), await _client(app)
    try:
        token = await _open(first)  # reading the history is one action
        for _ in range(3):
            await _post(first, token, text="/menu")
        refused = await first.post(
            "/api/send", json={"text": "/menu"}, headers={CSRF_HEADER: token}
        )
        await _refused(refused, 429, "too many")
        other = await _open(second)  # another person is not held back
        assert (await _post(second, other, text="/menu"))["messages"]
    finally:
        await first.close()
        await second.close()


# ---------------------------------------------------------------- bot text


def test_markup_tree_keeps_only_the_subset_and_never_makes_a_script() -> None:
    tree = markup_tree(
        'Hi <b>you</b> <script>alert(1)</script><img src=x onerror="alert(2)">'
        '<a href="javascript:alert(3)">x</a> <a href="https://nhs.uk">NHS</a> &lt;script&gt;'
    )
    flat = json.dumps(tree)
    assert '"tag": "b"' in flat
    assert "img" not in flat and "onerror" not in flat and "javascript" not in flat
    assert '"tag": "script"' not in flat
    links = [n for n in tree if isinstance(n, dict) and n["tag"] == "a"]
    assert links[0] == {"tag": "a", "children": ["x"]}  # no href: not a safe scheme
    assert links[1]["href"] == "https://nhs.uk"
    assert plain_text(tree).endswith("NHS <script>")  # an escaped tag stays words


async def test_a_bot_text_with_script_arrives_as_words(tmp_path: Path, storage: SqlStorage) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "t.yaml").write_text(
        "flow: t\nversion: 1\nentry: true\nstart: hello\nresume: hello\nsteps:\n"
        "  hello:\n"
        '    say: "Type &lt;script&gt;alert(1)&lt;/script&gt; for <b>fun</b>."\n'
        "    end: true\n",
        encoding="utf-8",
    )
    app = WebApp(Engine(load_bundle([flows])), storage, load_features())
    client = await _client(app)
    try:
        answer = await _post(client, await _open(client), text="/start")
    finally:
        await client.close()
    content = answer["messages"][0]["content"]
    assert content[0] == "Type <script>alert(1)</script> for "
    assert content[1] == {"tag": "b", "children": ["fun"]}


# ---------------------------------------------------------------- the conversation


async def test_a_reload_resumes_where_the_person_was(web: TestClient[Any, Any]) -> None:
    token = await _open(web)
    assert (await (await web.get("/api/history")).json())["messages"] == []  # new: page starts
    welcome = await _post(web, token, text="/start")
    assert "not a diagnosis" in _texts(welcome)
    menu = await _post(web, token, button=_button(welcome, "Open the menu"))
    learn = await _post(web, token, button=_button(menu, "About hip impingement"))
    assert "ball and socket" in _texts(learn)
    reloaded = await (await web.get("/api/history")).json()
    assert "ball and socket" in _texts(reloaded)
    assert _button(reloaded, "Next")


async def test_reminders_are_said_to_be_telegram_only(
    web: TestClient[Any, Any], storage: SqlStorage
) -> None:
    token = await _open(web)
    welcome = await _post(web, token, text="/start")
    menu = await _post(web, token, button=_button(welcome, "Open the menu"))
    user = _user(web)
    at_menu = storage.load_session(user)
    for answer in (
        await _post(web, token, button=_button(menu, "Reminders")),
        await _post(web, token, text="/remind"),
        await _post(web, token, text="/reminders"),
    ):
        assert TELEGRAM_ONLY.get() in _texts(answer)
        assert _button(answer, "About hip impingement")  # still at the menu
    after = storage.load_session(user)
    assert at_menu is not None and after is not None
    assert (after.flow, after.step) == (at_menu.flow, at_menu.step) == ("hip", "menu")


async def test_mydata_is_a_download_and_delete_erases_every_row(
    web: TestClient[Any, Any], storage: SqlStorage
) -> None:
    token = await _open(web)
    await _post(web, token, text="/start")
    user = _user(web)
    mydata = await _post(web, token, text="/mydata")
    (document,) = mydata["documents"]
    assert document["filename"].endswith(".json") and document["data"]
    assert _rows_about(storage, user)  # the session is there before
    asked = await _post(web, token, text="/delete")
    erased = await _post(web, token, button=_button(asked, "Yes, erase it all"))
    assert erased["messages"][0]["replace"] is True
    assert storage.load_session(user) is None
    assert _rows_about(storage, user) == {}


def _user(client: TestClient[Any, Any]) -> str:
    """The user id the web chat keeps for the client's cookie."""
    person = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE].value
    return str(web_chat_id(person))


def _rows_about(storage: SqlStorage, user: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for table in storage.db.tables():
        cursor = storage.db.execute(f"SELECT * FROM {table}")
        columns = [d[0] for d in cursor.description]
        for row in cursor.fetchall():
            values = dict(zip(columns, row, strict=True))
            if user in (str(values.get("user_id")), str(values.get("chat_id"))):
                found[table] = found.get(table, 0) + 1
    return found


async def test_menu_urgent_privacy_and_typed_warning_words(
    web: TestClient[Any, Any], storage: SqlStorage
) -> None:
    token = await _open(web)
    await _post(web, token, text="/start")
    assert _button(await _post(web, token, text="/menu"), "Check my symptoms")
    urgent = await _post(web, token, text="/urgent")
    assert "Urgent help" in _texts(urgent) and _button(urgent, "Start the questions")
    assert "What I keep about you" in _texts(await _post(web, token, text="/privacy"))
    fell = await _post(web, token, text="I fell and can't walk")
    assert "Do you need help fast?" in _texts(fell) and _button(fell, "Urgent help")
    # answered in the HTTP response: nothing waits in the outbox for Telegram's sender
    assert "outbox" not in _rows_about(storage, _user(web))


async def test_reloads_count_against_the_rate_limit(bundle: Bundle, storage: SqlStorage) -> None:
    app = WebApp(
        Engine(bundle), storage, load_features(), settings=WebSettings(rate=3, period=3600)
    )
    client = await _client(app)
    try:
        token = await _open(client)  # one
        await _post(client, token, text="/start")  # two
        assert (await client.get("/api/history")).status == 200  # three
        await _refused(await client.get("/api/history"), 429, "too many")
    finally:
        await client.close()
