# ruff: noqa: F811  (the dashboard tests' fixtures, imported, are redefined as arguments)
"""The dashboard's compose form when a clinic's patients use several languages: one text per
language in use (English always), the live count of those skipped for a missing language,
a preview per language, the per-language broadcast queued, and the skips in the counts and
in the staff report."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.features.clinics import broadcast as bc
from bot.features.clinics import dashboard as dash
from bot.features.clinics.rules import Counts
from bot.features.clinics.store import Broadcast, ClinicStore
from bot.model import Session
from bot.storage.sql import SqlStorage
from tests.test_clinic_dashboard import (  # noqa: F401 (fixtures)
    ADMIN_A,
    EDITOR_A,
    T0,
    Clock,
    _cookie,
    _csrf,
    _sign_in,
    bundle,
    clinics,
    storage,
    web,
)

Web = tuple[TestClient[Any, Any], Clock]


def _patients(storage: SqlStorage, clinic: int, language: str, first: int, n: int) -> None:
    store = ClinicStore(storage.db)
    for user in range(first, first + n):
        store.link(clinic, str(user), f"L-{user}", T0)
        session = Session(str(user), "hip", 1, "start", language=language, revision=1)
        storage.commit_turn(session, (), (), T0)


@pytest.fixture
def several(storage: SqlStorage, clinics: tuple[int, int]) -> int:
    """Clinic A: 3 patients in English (the dashboard fixture's), 6 in Spanish, 5 in German."""
    a, _ = clinics
    _patients(storage, a, "es", 6000, 6)
    _patients(storage, a, "de", 7000, 5)
    return a


def test_the_form_asks_for_english_and_each_language_in_use() -> None:
    assert dash.compose_languages({"en": 3}) == ["en"]
    assert dash.compose_languages({"de": 2}) == ["en", "de"]
    assert dash.compose_languages({"es": 1, "de": 0, "en": 0}) == ["en", "es"]
    form = {"text": " Hi ", "text_es": "Hola", "text_de": "  "}
    assert dash.composed_texts(form, ["en", "es", "de"]) == {"en": "Hi", "es": "Hola"}
    assert dash.stored_text({"en": "Hi"}, ["en"]) == "Hi"
    stored = dash.stored_text({"en": "Hi", "es": "Hola"}, ["en", "es", "de"])
    assert bc.texts_by_language(stored) == {"en": "Hi", "es": "Hola"}


async def test_one_language_keeps_one_text_field(
    web: Web, storage: SqlStorage, clinics: Any
) -> None:
    client, _ = web
    a, _ = clinics
    token = await _sign_in(client, storage, a, EDITOR_A)
    page = await (await client.get(f"/clinic/{a}/broadcasts", headers=_cookie(token))).text()
    assert 'name="text"' in page and "text_es" not in page and "text_de" not in page


async def test_several_languages_one_text_each_and_the_skips_counted(
    web: Web, storage: SqlStorage, several: int
) -> None:
    client, _ = web
    a = several
    token = await _sign_in(client, storage, a, ADMIN_A)
    page = await (await client.get(f"/clinic/{a}/broadcasts", headers=_cookie(token))).text()
    for field in ('name="text"', 'name="text_es"', 'name="text_de"'):
        assert field in page
    assert 'id="language-skips"' in page

    async def reach(languages: str) -> dict[str, Any]:
        url = f"/clinic/{a}/audience?name=all&languages={languages}"
        answer = await client.get(url, headers=_cookie(token))
        assert answer.status == 200
        found: dict[str, Any] = await answer.json()
        return found

    assert await reach("en,es") == {"count": "9", "skipped": "5", "skips": True}
    assert await reach("en,es,de") == {"count": "14", "skipped": "<5", "skips": False}
    assert (await reach("en"))["skipped"] == "11"

    csrf = await _csrf(client, token, a)
    form = {"csrf": csrf, "text": "Closed on Friday.", "text_es": "Cerrado el viernes."}
    form |= {"audience": "all", "when": "now"}
    preview = await client.post(
        f"/clinic/{a}/broadcasts", data={**form, "action": "preview"}, headers=_cookie(token)
    )
    shown_page = await preview.text()
    assert "Closed on Friday." in shown_page and "Cerrado el viernes." in shown_page
    assert "Español" in shown_page and 'lang="es"' in shown_page
    assert "It would go to 9 patients. 5 are skipped: no text in their language" in shown_page
    assert "Deutsch: 5" in shown_page

    sent = await client.post(
        f"/clinic/{a}/broadcasts",
        data={**form, "action": "send"},
        headers=_cookie(token),
        allow_redirects=False,
    )
    assert sent.status == 303
    bid = int(sent.headers["Location"].rsplit("/", 1)[1])
    broadcast = ClinicStore(storage.db).broadcast(a, bid)
    assert broadcast is not None
    assert bc.texts_by_language(broadcast.text) == {
        "en": "Closed on Friday.",
        "es": "Cerrado el viernes.",
    }
    counts = ClinicStore(storage.db).counts(a, bid)
    assert (counts.pending, counts.language) == (9, 5)
    progress = await (
        await client.get(f"/clinic/{a}/broadcasts/{bid}/progress", headers=_cookie(token))
    ).json()
    assert progress["total"] == "14" and progress["no_language"] == "5"
    page = await (await client.get(f"/clinic/{a}/broadcasts/{bid}", headers=_cookie(token))).text()
    assert "Skipped: no text in their language" in page and "Cerrado el viernes." in page
    assert '{"en"' not in page  # the stored form is never shown raw
    report = bc.report_text(broadcast, counts)
    assert "Skipped (no text in their language): 5" in report


async def test_english_is_needed(web: Web, storage: SqlStorage, several: int) -> None:
    client, _ = web
    token = await _sign_in(client, storage, several, ADMIN_A)
    csrf = await _csrf(client, token, several)
    form = {"csrf": csrf, "text": " ", "text_es": "Hola", "audience": "all", "action": "send"}
    answer = await client.post(f"/clinic/{several}/broadcasts", data=form, headers=_cookie(token))
    assert answer.status == 400
    assert "write the message in English" in await answer.text()
    assert storage.db.one("SELECT count(*) FROM clinic_broadcasts")[0] == 0


def test_a_report_without_language_skips_has_no_such_line() -> None:
    broadcast = Broadcast(1, 1, "1", "1", "x", "all", None, "done", T0, T0, T0)
    assert "language" not in bc.report_text(broadcast, Counts(sent=3))
