"""The clinic dashboard end to end in a real browser: Playwright for Python driving Debian's
chromium, against the real ``hipbot run`` (on the fake Bot API) and ``hipbot web`` sharing
one SQLite file.

An admin asks the bot for a code (/login on Telegram, through the fake Bot API), signs in,
sees a red-flag alert and acknowledges it, composes a broadcast (live count, preview),
sends it and watches the progress reach 100% as the bot sends it; schedules another and
cancels it. An editor (code from ``hipbot staff login-link``) gets 404 on admin pages;
clinic B's admin gets 404 on clinic A's pages and actions; with 3 patients the overview
shows "<5". Screenshots of each page at 1280 and 390 px go to ``test-artefacts/dashboard``.

Without /usr/bin/chromium the test is skipped locally, and fails under CI=true.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.features import load_features
from bot.features.clinics import dashboard as dash
from bot.features.clinics.store import ClinicStore
from bot.features.reminders.rules import QuietHours
from bot.features.reminders.store import ReminderStore
from bot.storage.sql import SqlStorage
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.bot_process import REPO, BotProcess

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "test-artefacts" / "dashboard"
TIMEOUT = 60.0
ADMIN_A, EDITOR_A, ADMIN_B = 6_600_001, 6_600_002, 6_600_003
PATIENTS = (6_600_101, 6_600_102, 6_600_103)

if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing: CI must `apt-get install -y chromium`", pytrace=False)
    pytest.skip(
        f"{CHROMIUM} is missing: `apt-get install -y chromium` to run the browser test",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _cli(bot: BotProcess, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=bot.data_dir,
        env={**bot.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"hipbot {' '.join(args)}: {result.stderr}"
    return result.stdout


def _seed(bot: BotProcess, clinic: int) -> None:
    """Three patients of clinic A with REFs (one shares progress), awake at any hour, and
    one red-flag alert (as the red-flag effect records it)."""
    storage = SqlStorage(str(bot.db_path))
    try:
        load_features().setup(storage)
        store = ClinicStore(storage.db)
        now = time.time()
        for n, user in enumerate(PATIENTS):
            store.link(clinic, str(user), f"P-{n + 1}", now)
            ReminderStore(storage.db).save_settings(str(user), now, quiet=QuietHours(0, 0))
        with storage.db.transaction() as db:
            dash.give_share(db, clinic, str(PATIENTS[0]), now)
            db.execute(
                "INSERT INTO clinic_alert_optins (clinic_id, since) VALUES (?, ?)", (clinic, now)
            )
            dash.record_alerts(db, str(PATIENTS[1]), True, now)
    finally:
        storage.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[FakeBotApi, BotProcess, str, int, int]]:
    with FakeBotApi.in_thread() as fake:
        for user in (ADMIN_A, EDITOR_A, ADMIN_B, *PATIENTS):
            fake.user(user)
        bot = BotProcess(
            fake, tmp_path, HIPBOT_RATE_LIMIT="1000", HIPBOT_BOT_USERNAME="hipbot_test_bot"
        ).start()
        web = None
        try:
            fake.wait_for_sync(lambda: fake.commands, TIMEOUT, "setMyCommands at start")
            a = int(
                re.search(r"clinic (\d+):", _cli(bot, "clinic", "add", "Hip Clinic A")).group(1)
            )  # type: ignore[union-attr]
            b = int(
                re.search(r"clinic (\d+):", _cli(bot, "clinic", "add", "Hip Clinic B")).group(1)
            )  # type: ignore[union-attr]
            _cli(bot, "staff", "add", str(a), str(ADMIN_A), "--role", "admin")
            _cli(bot, "staff", "add", str(a), str(EDITOR_A), "--role", "editor")
            _cli(bot, "staff", "add", str(b), str(ADMIN_B), "--role", "admin")
            _seed(bot, a)
            port = _free_port()
            log = (tmp_path / "web.log").open("w")
            web = subprocess.Popen(
                [sys.executable, "-m", "bot", "web", "--port", str(port), "--dev-http-cookies"],
                cwd=REPO,
                env=bot.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + TIMEOUT
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if web.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(
                            f"hipbot web did not start: {(tmp_path / 'web.log').read_text()}"
                        )
                    time.sleep(0.2)
            yield fake, bot, f"http://127.0.0.1:{port}", a, b
        finally:
            if web is not None:
                web.terminate()
                web.wait(20)
                log.close()
            bot.stop()


def _code_from_telegram(fake: FakeBotApi, user: int) -> str:
    fake.user(user).send_text("/login")

    def find() -> str | None:
        for message in reversed(fake.messages(user)):
            found = re.search(r"dashboard: ([a-z0-9]{8})", message.text or "")
            if found:
                return found.group(1)
        return None

    code: str = fake.wait_for_sync(find, TIMEOUT, f"a sign-in code to {user}")
    return code


def _code_from_cli(bot: BotProcess, clinic: int, user: int) -> str:
    printed = _cli(bot, "staff", "login-link", str(clinic), str(user))
    return re.search(r"code=([a-z0-9]{8})", printed).group(1)  # type: ignore[union-attr]


def _sign_in(browser: Any, url: str, code: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/clinic/login")
    page.get_by_label("Sign-in code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    return page


def _shots(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_clinic_runs_its_side_from_the_browser(
    world: tuple[FakeBotApi, BotProcess, str, int, int],
) -> None:
    fake, bot, url, a, b = world
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            errors: list[str] = []
            page = _sign_in(browser, url, _code_from_telegram(fake, ADMIN_A))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            login = page.context.browser.new_page()
            login.goto(f"{url}/clinic/login")
            _shots(login, "login")
            login.close()

            # the overview: 3 patients show as "<5"
            expect(page.locator(".cards")).to_contain_text("<5 patients linked")
            assert page.locator(".cards .n").all_inner_texts() == ["<5"] * 4
            _shots(page, "overview")

            # the alert, in the title, acknowledged
            page.get_by_role("link", name=re.compile("^Alerts")).click()
            expect(page).to_have_title(re.compile(r"^\(1\) Red-flag alerts"))
            _shots(page, "alerts")
            page.set_viewport_size({"width": 390, "height": 900})  # a card per alert, no scroll
            table = page.locator("table.stack")
            wide, room = table.evaluate("t => [t.scrollWidth, t.clientWidth]")
            assert wide <= room, f"the alerts table scrolls sideways at 390 px ({wide} > {room})"
            assert (
                page.locator("table.stack tr.urgent").evaluate("r => getComputedStyle(r).display")
                == "block"
            )
            page.set_viewport_size({"width": 1280, "height": 900})
            assert page.locator("table.stack thead").is_visible()
            page.get_by_role("button", name="Acknowledge P-2").click()
            expect(page.locator("main")).to_contain_text(f"Acknowledged by {ADMIN_A}")
            expect(page).to_have_title(re.compile(r"^Red-flag alerts"))

            page.get_by_role("link", name="Patients").click()
            expect(page.locator("main")).to_contain_text("P-1")
            assert "P-3" not in page.locator("main").inner_text()  # did not agree to share
            _shots(page, "patients")

            # a broadcast: live count, preview, send, progress to 100%
            page.get_by_role("link", name="Broadcasts").click()
            expect(page.locator("#audience-count")).to_have_text("<5")
            page.get_by_label(re.compile("^Message")).fill(
                "Our <b>new</b> exercise class starts Monday."
            )
            page.get_by_role("button", name="Preview").click()
            expect(page.locator(".bubble")).to_contain_text("new exercise class")
            _shots(page, "broadcast-preview")
            page.get_by_role("button", name="Send").click()
            expect(page.locator("#percent")).to_have_text("100%", timeout=TIMEOUT * 1000)
            expect(page.locator("#state")).to_have_text("done", timeout=TIMEOUT * 1000)
            expect(page.get_by_role("button", name="Cancel this broadcast")).to_have_count(0)
            _shots(page, "broadcast-done")
            for patient in PATIENTS:
                fake.wait_for_sync(
                    lambda p=patient: any(
                        "exercise class" in (m.text or "") for m in fake.messages(p)
                    ),
                    TIMEOUT,
                    f"the broadcast to {patient}",
                )

            # a scheduled one, cancelled
            page.get_by_role("link", name="Broadcasts").click()
            page.get_by_label(re.compile("^Message")).fill("Clinic closed on the holiday.")
            page.get_by_label("At", exact=True).check()
            page.get_by_label(re.compile("^Time")).fill("2099-01-05 09:30")
            page.get_by_role("button", name="Send").click()
            expect(page.locator("#state")).to_have_text("queued")
            page.get_by_role("button", name="Cancel this broadcast").click()
            expect(page.locator("#state")).to_have_text("cancelled")

            page.get_by_role("link", name="Links").click()
            expect(page.locator("main")).to_contain_text("https://t.me/hipbot_test_bot?start=c_")
            qr = page.get_by_role("img", name="QR code of the join link")
            assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
            page.get_by_label(re.compile("^Patient REF")).fill("P-77")
            page.get_by_role("button", name="Make a personal link").click()
            expect(page.locator("main")).to_contain_text("start=p_")
            _shots(page, "links")
            page.get_by_role("link", name="Staff").click()
            _shots(page, "staff")
            page.get_by_role("link", name="Audit log").click()
            for action in (
                "sign-in",
                "alert-acknowledged",
                "broadcast-sent",
                "broadcast-cancelled",
            ):
                expect(page.locator("main")).to_contain_text(action)
            _shots(page, "audit")
            assert errors == []  # no CSP violation, no script error

            # an editor: no admin pages
            editor = _sign_in(browser, url, _code_from_cli(bot, a, EDITOR_A))
            for path in ("audit", "staff", "export.csv"):
                assert editor.goto(f"{url}/clinic/{a}/{path}").status == 404, path
            assert editor.get_by_role("link", name="Audit log").count() == 0

            # clinic B's admin: 404 on clinic A's pages and actions
            other = _sign_in(browser, url, _code_from_cli(bot, b, ADMIN_B))
            for path in ("", "alerts", "patients", "broadcasts", "links", "broadcasts/1"):
                assert other.goto(f"{url}/clinic/{a}/{path}").status == 404, path
            action = other.request.post(f"{url}/clinic/{a}/broadcasts/1/cancel", form={"csrf": "x"})
            assert action.status == 404

            # sign out: the cookie no longer opens anything
            page.get_by_role("button", name="Sign out", exact=True).click()
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            page.goto(f"{url}/clinic/{a}/")
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        finally:
            browser.close()
