"""Each person in their own language (issue 15): picked at first contact from the channel's
hint, kept in the session, changed with /language (buttons or a typed name)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot import texts
from bot.engine import Engine
from bot.features import load_features
from bot.features.language import language_named
from bot.languages import NATIVE_NAMES
from bot.loader import load_bundle
from bot.storage import SqlStorage
from bot.turns import Channel, Inbound, Turns
from tests.fakes.shared import REPO

NOW = 1_796_000_000.0
BUNDLE = load_bundle([REPO / "flows"])
CONSOLE = Channel("console", durable=False)


def turns(tmp_path: Path) -> Turns:
    storage = SqlStorage(str(tmp_path / "t.db"))
    features = load_features()
    features.setup(storage)
    return Turns(Engine(BUNDLE), storage, features, CONSOLE, clock=lambda: NOW)


def language_of(t: Turns, chat: int) -> str:
    session = t.storage.load_session(str(chat))
    assert session is not None
    return session.language


def texts_of(rows: list[tuple[int, str, dict[str, object]]]) -> list[str]:
    return [str(payload.get("text", "")) for _, _, payload in rows]


def test_a_new_person_gets_the_language_of_their_first_contact(tmp_path: Path) -> None:
    t = turns(tmp_path)
    t.handle(Inbound(5, "start", language="es"))
    t.handle(Inbound(6, "start", language="de-AT"))
    t.handle(Inbound(7, "start", language="pt-BR"))
    assert [language_of(t, c) for c in (5, 6, 7)] == ["es", "de", "en"]


def test_later_updates_keep_the_stored_language_not_the_channels_hint(tmp_path: Path) -> None:
    t = turns(tmp_path)
    t.handle(Inbound(5, "start", language="de"))
    t.handle(Inbound(5, "text", text="hello", language="en"))  # Telegram switched to English
    t.handle(Inbound(5, "start", language="es"))
    assert language_of(t, 5) == "de"


def test_stop_says_its_words_in_the_stored_language(tmp_path: Path) -> None:
    t = turns(tmp_path)
    t.handle(Inbound(5, "start", language="de"))
    said = texts_of(t.handle(Inbound(5, "stop", language="en")).rows)
    assert said == [texts.STOPPED.get("de")]


def test_language_shows_one_button_per_language_named_in_its_own(tmp_path: Path) -> None:
    t = turns(tmp_path)
    t.handle(Inbound(5, "start"))
    [(_, _, payload)] = t.handle(Inbound(5, "command", name="language")).rows
    labels = [row[0][0] for row in payload["buttons"]]  # type: ignore[index, attr-defined]
    assert labels == ["English", "Español", "Deutsch"]
    assert payload["text"] == texts.CHOOSE_LANGUAGE.get("en")


def test_pressing_a_language_stores_it_and_shows_the_same_step_again_in_it(
    tmp_path: Path,
) -> None:
    t = turns(tmp_path)
    t.handle(Inbound(5, "start"))
    step_before = t.storage.load_session("5")
    assert step_before is not None
    [(_, _, payload)] = t.handle(Inbound(5, "command", name="language")).rows
    data = payload["buttons"][2][0][1]  # type: ignore[index]
    rows = t.handle(Inbound(5, "button", name=data, pressed=41)).rows
    after = t.storage.load_session("5")
    assert after is not None and after.language == "de"
    assert (after.flow, after.step) == (step_before.flow, step_before.step)
    kinds = [kind for _, kind, _ in rows]
    assert kinds[0] == "edit" and rows[0][2]["text"] == "✓ Deutsch"
    said = texts_of(rows[1:])
    assert said[0] == "Gut. Ab jetzt schreibe ich auf Deutsch."
    again = Engine(BUNDLE).repeat(after).replies
    assert said[1:] == [r.text for r in again if not r.edit], "the step again, in German"


def test_typing_a_language_name_switches_to_it(tmp_path: Path) -> None:
    t = turns(tmp_path)
    t.handle(Inbound(5, "start"))
    said = texts_of(t.handle(Inbound(5, "text", text="Español")).rows)
    assert language_of(t, 5) == "es"
    assert said[0] == "Muy bien. Desde ahora te escribo en Español."
    t.handle(Inbound(5, "text", text="english"))
    assert language_of(t, 5) == "en"
    t.handle(Inbound(5, "command", name="language", text="deutsch"))
    assert language_of(t, 5) == "de"


def test_a_new_person_choosing_a_language_starts_in_it(tmp_path: Path) -> None:
    t = turns(tmp_path)
    said = texts_of(t.handle(Inbound(8, "text", text="deutsch", language="en")).rows)
    assert language_of(t, 8) == "de"
    assert said[0].startswith("Gut.") and len(said) > 1, "then the start, in German"


def test_language_words_are_folded_and_nothing_else_is_a_language() -> None:
    assert [language_named(w) for w in ("ESPAÑOL", "Deutsch!", "inglés", "alemán")] == [
        "es",
        "de",
        "en",
        "de",
    ]
    assert language_named("yes") is None and language_named("deutschland") is None
    assert set(NATIVE_NAMES) == {"en", "es", "de"}


# ---------------------------------------------------------------- the web chat and the console


async def test_the_web_chat_follows_accept_language_for_a_new_person(tmp_path: Path) -> None:
    from bot.web.server import CSRF_HEADER, WebApp
    from tests.test_web import _client, _open

    storage = SqlStorage(str(tmp_path / "w.db"))
    features = load_features()
    features.setup(storage)
    client = await _client(WebApp(Engine(BUNDLE), storage, features, clock=lambda: NOW))
    try:
        token = await _open(client)
        headers = {CSRF_HEADER: token, "Accept-Language": "de-CH,de;q=0.9,en;q=0.5"}
        answer = await client.post("/api/send", json={"text": "/start"}, headers=headers)
        assert answer.status == 200
        [session] = [
            storage.load_session(u) for (u,) in storage.db.all("SELECT user_id FROM sessions")
        ]
        assert session is not None and session.language == "de"
        headers["Accept-Language"] = "es"  # later: the stored language stays
        await client.post("/api/send", json={"text": "/menu"}, headers=headers)
        session = storage.load_session(session.user_id)
        assert session is not None and session.language == "de"
    finally:
        await client.close()


def test_the_console_starts_in_the_language_asked_for(tmp_path: Path) -> None:
    import io

    from bot.console import Console
    from bot.conversation import Conversation

    storage = SqlStorage(str(tmp_path / "c.db"))
    features = load_features()
    features.setup(storage)
    engine = Engine(BUNDLE)
    out = io.StringIO()
    chat = Conversation(engine, storage, "9")
    console = Console(chat, features, 9, out, clock=lambda: NOW, files=tmp_path, language="es")
    console.act("/start")
    session = storage.load_session("9")
    assert session is not None and session.language == "es"


@pytest.mark.parametrize("language", ["en", "es", "de"])
def test_the_safety_net_hears_the_persons_language_and_english(
    tmp_path: Path, language: str
) -> None:
    net = BUNDLE.safety
    assert net is not None
    t = turns(tmp_path)
    t.handle(Inbound(5, "start", language=language))
    # each language's words are heard whatever the person's language (a Spanish speaker with
    # an English phone types Spanish), and the offer is in the person's language
    for typed in ("I fell and can't get up", "me caí en la calle", "ich bin gestürzt"):
        rows = t.handle(Inbound(5, "text", text=typed)).rows
        buttons = [label for _, _, p in rows for row in p.get("buttons", ()) for label, _ in row]  # type: ignore[attr-defined]
        assert net.button.get(language) in buttons, (language, typed)


def test_the_emergency_number_stays_and_the_unset_urgent_care_is_translated() -> None:
    from bot.settings import DEFAULT_URGENT_CARE

    assert texts.URGENT_CARE_UNSET == DEFAULT_URGENT_CARE
    engine = Engine(BUNDLE, {"emergency_number": "911"})
    session = engine.new_session("5", "es")
    assert engine._placeholder("emergency_number", session) == "911"
    assert engine._placeholder("urgent_care", session) == "tu médico"
    assert engine._placeholder("urgent_care", replace(session, language="de")) == "deine Arztpraxis"
    configured = Engine(BUNDLE, {"urgent_care": "116117"})
    assert configured._placeholder("urgent_care", session) == "116117"


def test_mydata_says_what_the_file_is_in_the_persons_language(tmp_path: Path) -> None:
    import json

    t = turns(tmp_path)
    t.handle(Inbound(5, "start", language="es"))
    rows = t.handle(Inbound(5, "command", name="mydata")).rows
    [document] = [payload for _, kind, payload in rows if kind == "document"]
    from bot import outgoing

    _, content, _ = outgoing.document_of(document)
    assert json.loads(content)["about"] == texts.MYDATA_ABOUT.get("es")
    assert texts.MYDATA_ABOUT.get("es").startswith("Todo lo que hipbot guarda")
