# ruff: noqa: F811  (the dashboard tests' fixtures, imported, are redefined as arguments)
"""A clinic's time zone: an admin sets it (audited), the compose form shows it next to the
time, and a broadcast "at" a time goes out at that moment in the clinic's zone for everyone,
each patient's quiet hours still holding it. The clock is injected (T0)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient

from bot.features.clinics import broadcast as bc
from bot.features.clinics import dashboard as dash
from bot.features.reminders.rules import QuietHours
from bot.storage.sql import SqlStorage
from tests.test_clinic_dashboard import (  # noqa: F401 (fixtures)
    ADMIN_A,
    EDITOR_A,
    T0,
    Clock,
    _audit,
    _cookie,
    _csrf,
    _sign_in,
    bundle,
    clinics,
    storage,
    web,
)

Web = tuple[TestClient[Any, Any], Clock]
NIGHT = QuietHours(21 * 60, 8 * 60)


def _at(zone: str, text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def test_the_clinic_time_is_one_moment_held_by_each_patients_quiet_hours() -> None:
    at = bc.parse_local_time("2027-02-01 09:30")
    madrid = _at("Europe/Madrid", "2027-02-01 09:30")
    assert bc.clinic_due(T0, at, "Europe/Madrid", "Europe/Berlin", NIGHT) == madrid
    assert bc.clinic_due(T0, at, "Europe/Madrid", "UTC", QuietHours(0, 0)) == madrid
    # 03:30 in New York: held to 08:00 there
    held = bc.clinic_due(T0, at, "Europe/Madrid", "America/New_York", NIGHT)
    assert held == _at("America/New_York", "2027-02-01 08:00")
    # the old meaning (each patient's own 09:30) differs for New York
    assert bc.local_due(T0, at, "America/New_York", NIGHT) == _at(
        "America/New_York", "2027-02-01 09:30"
    )


def test_a_zone_is_checked() -> None:
    assert dash.check_zone(" Europe/Madrid ") == "Europe/Madrid"
    for bad in ("", "Mars/Base", "../etc/passwd", "/etc/localtime"):
        with pytest.raises(ValueError, match="is not a time zone: write a name like"):
            dash.check_zone(bad)


async def test_an_admin_sets_the_zone_and_broadcasts_use_it(
    web: Web, storage: SqlStorage, clinics: tuple[int, int]
) -> None:
    client, _ = web
    a, b = clinics
    assert dash.clinic_zone(storage.db, a, "UTC") == "UTC"
    editor = await _sign_in(client, storage, a, EDITOR_A)
    denied = await client.get(f"/clinic/{a}/settings", headers=_cookie(editor))
    assert denied.status == 404
    token = await _sign_in(client, storage, a, ADMIN_A)
    csrf = await _csrf(client, token, a)
    bad = await client.post(
        f"/clinic/{a}/settings", data={"csrf": csrf, "time_zone": "Mars/Base"},
        headers=_cookie(token),
    )  # fmt: skip
    assert bad.status == 400 and "&#x27;Mars/Base&#x27; is not a time zone" in await bad.text()
    good = await client.post(
        f"/clinic/{a}/settings", data={"csrf": csrf, "time_zone": "Europe/Madrid"},
        headers=_cookie(token),
    )  # fmt: skip
    assert good.status == 200 and "Europe/Madrid" in await good.text()
    assert dash.clinic_zone(storage.db, a, "UTC") == "Europe/Madrid"
    assert dash.clinic_zone(storage.db, b, "UTC") == "UTC"  # only this clinic's
    assert _audit(storage, a)[0] == "time-zone-changed"

    page = await (await client.get(f"/clinic/{a}/broadcasts", headers=_cookie(token))).text()
    assert '<span class="zone">Europe/Madrid</span>' in page
    form = {"csrf": csrf, "text": "Closed on Friday.", "audience": "all", "when": "at"}
    form |= {"at": "2027-02-01 09:30", "action": "send"}
    sent = await client.post(
        f"/clinic/{a}/broadcasts", data=form, headers=_cookie(token), allow_redirects=False
    )
    assert sent.status == 303
    due = {row[0] for row in storage.db.all("SELECT due_at FROM clinic_deliveries")}
    # the patients never set a zone (UTC, quiet 21:00-08:00): 08:30 UTC is not quiet
    assert due == {_at("Europe/Madrid", "2027-02-01 09:30")}
    assert datetime.fromtimestamp(due.pop(), UTC).hour == 8
