"""The clinic dashboard over HTTP (aiohttp's test client): sign-in codes (expired, reused,
rate-limited), the session cookie's flags, sign-out everywhere, CSRF, a forged clinic id, a
cookie of another clinic, an editor on admin pages, an oversized form: each refused with
nothing changed. Also the pages' counts ("<5"), the alert inbox and a broadcast sent and
cancelled through the shared broadcast machinery. SQLite and PostgreSQL (conftest)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.engine import Engine
from bot.features import load_features
from bot.features.clinics import dashboard as dash
from bot.features.clinics.store import ClinicStore
from bot.features.reminders.store import ReminderStore
from bot.loader import load_bundle
from bot.model import Bundle, Effect, Session
from bot.storage import open_storage
from bot.storage.sql import SqlStorage
from bot.web.clinic import COOKIE, MAX_FORM
from bot.web.server import WebApp

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_800_000_000.0
ADMIN_A, EDITOR_A, ADMIN_B = "1001", "1002", "2001"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    return load_bundle([ROOT / "flows"])


@pytest.fixture
def storage(database: str) -> Iterator[SqlStorage]:
    store = open_storage(database if "://" in database else f"sqlite:///{database}")
    assert isinstance(store, SqlStorage)
    load_features().setup(store)
    yield store
    store.close()


@pytest.fixture
def clinics(storage: SqlStorage) -> tuple[int, int]:
    store = ClinicStore(storage.db)
    a = store.add_clinic("Clinic A", T0).id
    b = store.add_clinic("Clinic B", T0).id
    store.add_staff(a, ADMIN_A, "admin", T0)
    store.add_staff(a, EDITOR_A, "editor", T0)
    store.add_staff(b, ADMIN_B, "admin", T0)
    for n in range(3):  # three patients of clinic A, one sharing progress with a REF
        user = str(5000 + n)
        store.link(a, user, f"P-{n}", T0)
    with storage.db.transaction():
        dash.give_share(storage.db, a, "5000", T0)
    return a, b


@pytest.fixture
async def web(
    bundle: Bundle, storage: SqlStorage, clinics: tuple[int, int]
) -> AsyncIterator[tuple[TestClient[Any, Any], Clock]]:
    clock = Clock()
    app = WebApp(Engine(bundle), storage, load_features(), clock=clock)
    client: TestClient[Any, Any] = TestClient(TestServer(app.build()))
    await client.start_server()
    yield client, clock
    await client.close()


async def _sign_in(
    client: TestClient[Any, Any], storage: SqlStorage, clinic: int, user: str
) -> str:
    code = dash.issue_code(storage.db, clinic, user, T0)
    response = await client.post("/clinic/login", data={"code": code}, allow_redirects=False)
    assert response.status == 303, await response.text()
    token = response.cookies[COOKIE].value
    assert token
    return token


def _cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"{COOKIE}={token}"}


async def _csrf(client: TestClient[Any, Any], token: str, clinic: int) -> str:
    page = await client.get(f"/clinic/{clinic}/", headers=_cookie(token))
    assert page.status == 200
    found = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert found
    return found.group(1)


def _audit(storage: SqlStorage, clinic: int) -> list[str]:
    return [e.action for e in dash.audit_log(storage.db, clinic)]


# ---------------------------------------------------------------- sign-in


async def test_a_code_signs_in_once_with_a_strict_secure_cookie(
    web: tuple[TestClient[Any, Any], Clock], storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    client, _ = web
    a, _b = clinics
    code = dash.issue_code(storage.db, a, ADMIN_A, T0)
    stored = storage.db.all("SELECT code_hash FROM staff_login_codes")
    assert stored and all(code not in row[0] for row in stored)  # kept hashed
    first = await client.post("/clinic/login", data={"code": code}, allow_redirects=False)
    assert first.status == 303
    assert first.headers["Location"] == f"/clinic/{a}/"
    cookie = first.headers["Set-Cookie"]
    for flag in ("HttpOnly", "Secure", "SameSite=Strict", "Max-Age="):
        assert flag in cookie, cookie
    again = await client.post("/clinic/login", data={"code": code}, allow_redirects=False)
    assert again.status == 403
    assert COOKIE not in again.cookies
    assert _audit(storage, a) == ["sign-in"]


async def test_an_expired_code_is_refused(
    web: tuple[TestClient[Any, Any], Clock], storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    client, clock = web
    a, _b = clinics
    code = dash.issue_code(storage.db, a, ADMIN_A, T0)
    clock.now = T0 + dash.CODE_TTL + 1
    response = await client.post("/clinic/login", data={"code": code}, allow_redirects=False)
    assert response.status == 403
    assert storage.db.one("SELECT count(*) FROM staff_web_sessions")[0] == 0


async def test_codes_are_rate_limited_per_person_and_tries_per_address(
    web: tuple[TestClient[Any, Any], Clock], storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    client, _ = web
    a, _b = clinics
    for _ in range(dash.CODES_PER_WINDOW):
        dash.issue_code(storage.db, a, ADMIN_A, T0)
    with pytest.raises(dash.TooManyCodes, match="the limit is 5"):
        dash.issue_code(storage.db, a, ADMIN_A, T0)
    for _ in range(10):
        wrong = await client.post("/clinic/login", data={"code": "zzzzzzzz"})
        assert wrong.status == 403
    good = dash.issue_code(storage.db, a, EDITOR_A, T0)
    limited = await client.post("/clinic/login", data={"code": good}, allow_redirects=False)
    assert limited.status == 429
    assert storage.db.one("SELECT count(*) FROM staff_web_sessions")[0] == 0


async def test_someone_not_staff_gets_no_code(
    storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    a, _b = clinics
    with pytest.raises(LookupError):
        dash.issue_code(storage.db, a, "5000", T0)


async def test_sign_out_everywhere_ends_every_session(
    web: tuple[TestClient[Any, Any], Clock], storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    client, _ = web
    a, _b = clinics
    one = await _sign_in(client, storage, a, ADMIN_A)
    two = await _sign_in(client, storage, a, ADMIN_A)
    csrf = await _csrf(client, one, a)
    out = await client.post(
        "/clinic/logout-everywhere",
        data={"csrf": csrf},
        headers=_cookie(one),
        allow_redirects=False,
    )
    assert out.status == 303
    for token in (one, two):
        page = await client.get(f"/clinic/{a}/", headers=_cookie(token), allow_redirects=False)
        assert page.status == 303 and page.headers["Location"] == "/clinic/login"


async def test_a_session_expires(
    web: tuple[TestClient[Any, Any], Clock], storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    client, clock = web
    a, _b = clinics
    token = await _sign_in(client, storage, a, ADMIN_A)
    clock.now = T0 + dash.SESSION_TTL + 1
    page = await client.get(f"/clinic/{a}/", headers=_cookie(token), allow_redirects=False)
    assert page.status == 303


# ---------------------------------------------------------------- authorization


async def test_other_clinics_pages_are_404_however_written(
    web: tuple[TestClient[Any, Any], Clock], storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    client, _ = web
    a, b = clinics
    token_b = await _sign_in(client, storage, b, ADMIN_B)
    for path in (
        f"/clinic/{a}/", f"/clinic/{a}/alerts", f"/clinic/{a}/patients", f"/clinic/0{a}/",
        f"/clinic/{a}/patients/P-0/chart.png", f"/clinic/{a}/broadcasts", f"/clinic/{a}/links",
        f"/clinic/{a}/audit", f"/clinic/{a}/audience?name=all", f"/clinic/{a}/export.csv",
        f"/clinic/%20{a}/", f"/clinic/{a}.0/",
    ):  # fmt: skip
        response = await client.get(path, headers=_cookie(token_b), allow_redirects=False)
        assert response.status == 404, path


async def test_a_forged_clinic_id_in_an_action_changes_nothing(
    web: tuple[TestClient[Any, Any], Clock], storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    client, _ = web
    a, b = clinics
    with storage.db.transaction():
        storage.db.execute(
            "INSERT INTO clinic_alert_optins (clinic_id, since) VALUES (?, ?)", (a, T0)
        )
        dash.record_alerts(storage.db, "5000", True, T0)
    alert = dash.alerts(storage.db, a)[0]
    token_b = await _sign_in(client, storage, b, ADMIN_B)
    csrf_b = await _csrf(client, token_b, b)
    for path in (f"/clinic/{a}/alerts/{alert.id}/ack", f"/clinic/{b}/alerts/{alert.id}/ack"):
        response = await client.post(
            path, data={"csrf": csrf_b}, headers=_cookie(token_b), allow_redirects=False
        )
        assert response.status == 404, path
    sent = await client.post(
        f"/clinic/{a}/broadcasts",
        data={"csrf": csrf_b, "text": "Hi", "audience": "all", "when": "now", "action": "send"},
        headers=_cookie(token_b),
        allow_redirects=False,
    )
    assert sent.status == 404
    assert dash.alerts(storage.db, a)[0].acked_at is None
    assert storage.db.one("SELECT count(*) FROM clinic_broadcasts")[0] == 0


async def test_an_editor_cannot_reach_admin_pages(
    web: tuple[TestClient[Any, Any], Clock], storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    client, _ = web
    a, _b = clinics
    token = await _sign_in(client, storage, a, EDITOR_A)
    for path in (f"/clinic/{a}/audit", f"/clinic/{a}/staff", f"/clinic/{a}/export.csv"):
        response = await client.get(path, headers=_cookie(token))
        assert response.status == 404, path
    csrf = await _csrf(client, token, a)
    changed = await client.post(
        f"/clinic/{a}/staff",
        data={"csrf": csrf, "user_id": "3003", "role": "admin"},
        headers=_cookie(token),
        allow_redirects=False,
    )
    assert changed.status == 404
    assert ClinicStore(storage.db).roles_of("3003") == {}
    overview = await (await client.get(f"/clinic/{a}/", headers=_cookie(token))).text()
    assert "Audit log" not in overview


async def test_taking_someone_off_the_staff_ends_their_session(
    web: tuple[TestClient[Any, Any], Clock], storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    client, _ = web
    a, _b = clinics
    token = await _sign_in(client, storage, a, EDITOR_A)
    ClinicStore(storage.db).remove_staff(a, EDITOR_A)
    page = await client.get(f"/clinic/{a}/", headers=_cookie(token), allow_redirects=False)
    assert page.status == 303


async def test_a_missing_or_wrong_csrf_token_changes_nothing(
    web: tuple[TestClient[Any, Any], Clock], storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    client, _ = web
    a, _b = clinics
    token = await _sign_in(client, storage, a, ADMIN_A)
    for data in ({}, {"csrf": "forged"}):
        response = await client.post(
            f"/clinic/{a}/staff",
            data={**data, "user_id": "3003", "role": "admin"},
            headers=_cookie(token),
            allow_redirects=False,
        )
        assert response.status == 403
        out = await client.post("/clinic/logout-everywhere", data=data, headers=_cookie(token))
        assert out.status == 403
    assert ClinicStore(storage.db).roles_of("3003") == {}
    assert (await client.get(f"/clinic/{a}/", headers=_cookie(token))).status == 200


async def test_a_post_from_another_site_is_refused(
    web: tuple[TestClient[Any, Any], Clock], storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    client, _ = web
    a, _b = clinics
    token = await _sign_in(client, storage, a, ADMIN_A)
    csrf = await _csrf(client, token, a)
    response = await client.post(
        f"/clinic/{a}/staff",
        data={"csrf": csrf, "user_id": "3003", "role": "admin"},
        headers={**_cookie(token), "Origin": "https://evil.example"},
    )
    assert response.status == 403
    assert ClinicStore(storage.db).roles_of("3003") == {}


async def test_an_oversized_form_changes_nothing(
    web: tuple[TestClient[Any, Any], Clock], storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    client, _ = web
    a, _b = clinics
    token = await _sign_in(client, storage, a, ADMIN_A)
    csrf = await _csrf(client, token, a)
    response = await client.post(
        f"/clinic/{a}/broadcasts",
        data={"csrf": csrf, "text": "x" * (MAX_FORM + 1), "audience": "all", "action": "send"},
        headers=_cookie(token),
        allow_redirects=False,
    )
    assert response.status == 413
    assert storage.db.one("SELECT count(*) FROM clinic_broadcasts")[0] == 0


# ---------------------------------------------------------------- pages


async def test_small_counts_show_as_under_five_and_only_sharing_patients_by_ref(
    web: tuple[TestClient[Any, Any], Clock], storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    client, _ = web
    a, _b = clinics
    token = await _sign_in(client, storage, a, ADMIN_A)
    overview = await (await client.get(f"/clinic/{a}/", headers=_cookie(token))).text()
    assert "&lt;5" in overview and ">3<" not in overview
    patients = await (await client.get(f"/clinic/{a}/patients", headers=_cookie(token))).text()
    assert "P-0" in patients
    assert "P-1" not in patients and "P-2" not in patients and "5001" not in patients
    chart = await client.get(f"/clinic/{a}/patients/P-1/chart.png", headers=_cookie(token))
    assert chart.status == 404  # not sharing: no chart, however the REF is known


async def test_an_alert_shows_in_the_title_and_is_acknowledged_once(
    web: tuple[TestClient[Any, Any], Clock], storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    client, clock = web
    a, _b = clinics
    with storage.db.transaction():
        storage.db.execute(
            "INSERT INTO clinic_alert_optins (clinic_id, since) VALUES (?, ?)", (a, T0)
        )
        dash.record_alerts(storage.db, "5001", True, T0)
        dash.record_alerts(storage.db, "5002", False, T0 + 60)
    token = await _sign_in(client, storage, a, ADMIN_A)
    page = await (await client.get(f"/clinic/{a}/alerts", headers=_cookie(token))).text()
    assert "<title>(2) Red-flag alerts" in page
    assert page.index("P-2") < page.index("P-1")  # newest first
    alert = next(x for x in dash.alerts(storage.db, a) if x.patient_ref == "P-1")
    csrf = await _csrf(client, token, a)
    clock.now = T0 + 120
    done = await client.post(
        f"/clinic/{a}/alerts/{alert.id}/ack", data={"csrf": csrf}, headers=_cookie(token)
    )
    assert done.status == 200
    text = await done.text()
    assert "<title>(1) Red-flag alerts" in text and f"Acknowledged by {ADMIN_A}" in text
    assert _audit(storage, a).count("alert-acknowledged") == 1


async def test_a_broadcast_goes_through_the_shared_machinery_and_can_be_cancelled(
    web: tuple[TestClient[Any, Any], Clock], storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    client, _ = web
    a, _b = clinics
    token = await _sign_in(client, storage, a, EDITOR_A)
    csrf = await _csrf(client, token, a)
    form = {"csrf": csrf, "text": "<b>Hello</b>", "audience": "all", "when": "at", "at": "09:30"}
    preview = await client.post(
        f"/clinic/{a}/broadcasts", data={**form, "action": "preview"}, headers=_cookie(token)
    )
    assert "<b>Hello</b>" in await preview.text()
    assert storage.db.one("SELECT count(*) FROM clinic_broadcasts")[0] == 0
    sent = await client.post(
        f"/clinic/{a}/broadcasts",
        data={**form, "action": "send"},
        headers=_cookie(token),
        allow_redirects=False,
    )
    assert sent.status == 303
    bid = int(sent.headers["Location"].rsplit("/", 1)[1])
    progress = await (
        await client.get(f"/clinic/{a}/broadcasts/{bid}/progress", headers=_cookie(token))
    ).json()
    assert progress["total"] == "<5" and progress["state"] == "queued"
    cancel = await client.post(
        f"/clinic/{a}/broadcasts/{bid}/cancel", data={"csrf": csrf}, headers=_cookie(token)
    )
    assert cancel.status == 200
    assert ClinicStore(storage.db).broadcast(a, bid).state == "cancelled"  # type: ignore[union-attr]
    assert _audit(storage, a)[:2] == ["broadcast-cancelled", "broadcast-sent"]


async def test_a_sharing_patients_chart_is_drawn_for_their_clinic_only(
    web: tuple[TestClient[Any, Any], Clock], storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    client, _ = web
    a, b = clinics
    reminders = ReminderStore(storage.db)
    for day, pain in enumerate((6, 5, 3)):
        reminders.record_checkin("5000", pain, "better", T0 - 86400 * (3 - day))
    token = await _sign_in(client, storage, a, ADMIN_A)
    page = await (await client.get(f"/clinic/{a}/patients", headers=_cookie(token))).text()
    assert f"/clinic/{a}/patients/P-0/chart.png" in page
    chart = await client.get(f"/clinic/{a}/patients/P-0/chart.png", headers=_cookie(token))
    assert chart.status == 200 and (await chart.read()).startswith(b"\x89PNG")
    token_b = await _sign_in(client, storage, b, ADMIN_B)
    other = await client.get(f"/clinic/{a}/patients/P-0/chart.png", headers=_cookie(token_b))
    assert other.status == 404


def test_a_red_flag_lands_in_the_inbox_of_clinics_that_asked(
    storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    a, b = clinics
    with storage.db.transaction() as db:
        db.execute("INSERT INTO clinic_alert_optins (clinic_id, since) VALUES (?, ?)", (a, T0))
    session = Session(user_id="5001", flow="hip", version=1, step="start")
    with storage.db.transaction() as db:
        for handler in storage.effect_handlers["red_flag"]:
            handler(db, session, Effect("red_flag", {"urgent": False}), T0)
    (alert,) = dash.alerts(storage.db, a)
    assert (alert.patient_ref, alert.urgent, alert.acked_at) == ("P-1", False, None)
    assert dash.alerts(storage.db, b) == []
    storage.delete_user("5001")
    assert dash.alerts(storage.db, a) == []


def test_the_overview_counts_each_step_in_one_pass(
    storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    a, b = clinics
    store = ClinicStore(storage.db)
    users = [str(6000 + n) for n in range(8)]
    for user in users:
        store.link(a, user, None, T0)
    store.link(b, "6100", None, T0)
    with storage.db.transaction() as db:
        for n, user in enumerate(users):
            db.execute(
                "INSERT INTO sessions (user_id, data, revision, updated_at) VALUES (?, ?, 1, ?)",
                (user, "{{}}", T0 - 86400 * (2 if n < 6 else 20)),
            )
            db.execute(
                "INSERT INTO journal (user_id, kind, data, at) VALUES (?, 'consent_given', ?, ?)",
                (user, "{{}}", T0),
            )
        for user in users[:5]:
            db.execute(
                "INSERT INTO journal (user_id, kind, data, at) VALUES (?, 'check_finished', ?, ?)",
                (user, "{{}}", T0),
            )
        db.execute(
            "INSERT INTO journal (user_id, kind, data, at) VALUES ('6100', 'check_finished', ?, ?)",
            ("{{}}", T0),
        )
    found = dash.overview(storage.db, a, T0)
    assert (found.linked, found.active_7, found.active_30) == (11, 6, 8)
    assert dict(found.funnel) == {
        "Joined the clinic": 11,
        "Agreed to the privacy terms": 8,
        "Finished the symptom check": 5,
        "Sent a progress check-in": 0,
    }
    assert found.shown()["reminders_on"] == "<5"
