"""The web chat end to end in a real browser: Playwright for Python driving Debian's
chromium (`apt-get install chromium`; Playwright's own browser download cannot work here)
against `hipbot web` started as a process on a SQLite file.

A patient walks learn -> red-flag screen -> consent -> symptom check -> tips, partly by
keyboard only; reloads mid-way and resumes; gets their data; /delete leaves no row about
them in any table. Screenshots at 360 px and 1280 px go to the test's tmp dir.

Without /usr/bin/chromium the test is skipped locally, and fails under CI=true.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.features import load_features
from bot.storage.sql import SqlStorage
from bot.web.chat import web_chat_id
from bot.web.server import COOKIE

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")

if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing: CI must `apt-get install -y chromium`", pytrace=False)
    pytest.skip(
        f"{CHROMIUM} is missing: `apt-get install -y chromium` to run the browser test",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    db = tmp_path / "hipbot.db"
    port = _free_port()
    env = {**os.environ, "HIPBOT_DATA_DIR": str(tmp_path)}
    log = (tmp_path / "web.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "web", "--port", str(port), "--db", f"sqlite:///{db}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = (tmp_path / "web.log").read_text()
                    pytest.fail(f"hipbot web did not start on port {port}: {output}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", db
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_a_patient_walks_the_chat_reloads_and_erases_everything(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    url, db = server
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 360, "height": 740})
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            _walk(page, url, tmp_path)
            person = next(c["value"] for c in context.cookies() if c["name"] == COOKIE)
            user = str(web_chat_id(person))
            storage = SqlStorage(str(db))
            load_features().setup(storage)
            try:
                session = storage.load_session(user)
                assert session is not None and session.answers.get("pain_now") == 4
                assert _rows_about(storage, user)
                _erase(page)
                assert _rows_about(storage, user) == {}
            finally:
                storage.close()
            assert errors == []  # no CSP violation, no script error
        finally:
            browser.close()


def _last(page: Any) -> Any:
    return page.locator("#log li.bot").last


def _press(page: Any, label: str) -> None:
    last = page.locator("#log li.bot").last
    last.get_by_role("button", name=label, exact=True).click()


def _said(page: Any, words: str) -> None:
    sync_api.expect(page.locator("#log")).to_contain_text(words)


def _walk(page: Any, url: str, shots: Path) -> None:
    page.goto(url)
    _said(page, "not a diagnosis")
    # keyboard only: the first choice has the focus; Enter presses it
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Open the menu"
    page.keyboard.press("Enter")
    _said(page, "What would you like to do?")
    page.screenshot(path=str(shots / "menu-360.png"))
    _press(page, "About hip impingement")
    _said(page, "ball and socket")
    _press(page, "Next")
    _said(page, "does not glide smoothly")
    page.reload()
    _said(page, "does not glide smoothly")  # resumed where they were
    assert "ball and socket" not in page.locator("#log").inner_text()
    _press(page, "Back to menu")
    _press(page, "Check my symptoms")
    _said(page, "8 quick questions")
    page.keyboard.press("Enter")  # "Start" has the focus
    for _ in range(8):
        count = page.locator("#log li.bot").count()
        _press(page, "No")
        sync_api.expect(page.locator("#log li.bot")).not_to_have_count(count)
    _press(page, "Check my symptoms")
    _press(page, "16 or older")
    _said(page, "name or phone number")
    _press(page, "I agree")
    _said(page, "1 of 6")
    _press(page, "Stiffness")
    sync_api.expect(_last(page).get_by_role("button", name="✅ Stiffness")).to_be_visible()
    page.screenshot(path=str(shots / "several-360.png"))
    # the pressed choice keeps the focus: Tab, Tab, Enter picks "Front pain" by keyboard
    assert page.evaluate("document.activeElement.textContent") == "✅ Stiffness"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    sync_api.expect(_last(page).get_by_role("button", name="✅ Front pain")).to_be_visible()
    _press(page, "Done")
    _said(page, "0 to 10")
    page.fill("#text", "4")
    page.keyboard.press("Enter")
    _press(page, "Sitting")
    sync_api.expect(_last(page).get_by_role("button", name="✅ Sitting")).to_be_visible()
    _press(page, "Done")
    _press(page, "Yes")
    _press(page, "Not yet")
    _press(page, "Less than 2 weeks")
    _press(page, "No")
    _said(page, "Pain right now: 4 out of 10")
    _press(page, "Show my tips")
    _said(page, "wedge cushion")
    page.screenshot(path=str(shots / "tips-360.png"))
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=str(shots / "tips-1280.png"))
    page.set_viewport_size({"width": 360, "height": 740})
    with page.expect_download() as download:
        page.fill("#text", "/mydata")
        page.keyboard.press("Enter")
        page.get_by_role("link", name="Download").click()
    saved = shots / "mydata.json"
    download.value.save_as(saved)
    assert '"pain_now": 4' in saved.read_text(encoding="utf-8")


def _erase(page: Any) -> None:
    page.fill("#text", "/delete")
    page.keyboard.press("Enter")
    _press(page, "Yes, erase it all")
    sync_api.expect(page.locator("#log li.bot").last).not_to_contain_text("erase it all")


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
