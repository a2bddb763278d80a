"""The turn service every channel shares (bot/turns.py), the channel-neutral outbox rows
(bot/outgoing.py) and their Telegram rendering (bot/telegram/render.py)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from telegram import InputFile

from bot import outgoing
from bot.engine import Engine
from bot.features import load_features
from bot.features.clinics.chat import JOIN
from bot.features.clinics.store import ClinicStore
from bot.loader import load_bundle
from bot.model import Reply, ReplyButton
from bot.storage import SqlStorage
from bot.telegram.render import render
from bot.turns import Channel, Inbound, Turns
from tests.fakes.shared import REPO, shared_file

NOW = 1_796_000_000.0
BUNDLE = load_bundle([REPO / "flows"])
DURABLE = Channel("telegram", durable=True)
AT_ONCE = Channel("console", durable=False)
NO_REMINDERS = Channel("web", durable=False, reminders=False)


def turns(tmp_path: Path, channel: Channel, name: str = "t.db") -> Turns:
    storage = SqlStorage(str(tmp_path / name))
    features = load_features()
    features.setup(storage)
    return Turns(Engine(BUNDLE), storage, features, channel, clock=lambda: NOW)


def outbox(t: Turns) -> list[tuple[int, str, str]]:
    rows = t.storage.claim_outbox(1000, NOW + 1)
    return [(r.chat_id, r.method, r.params.get("text", "")) for r in rows]


# ---------------------------------------------------------------- one service, two channels


def test_a_durable_channel_gets_its_replies_in_the_outbox_and_one_at_once_gets_them_back(
    tmp_path: Path,
) -> None:
    telegram, console = turns(tmp_path, DURABLE, "a.db"), turns(tmp_path, AT_ONCE, "b.db")
    said = [t.handle(Inbound(5, "start")).rows for t in (telegram, console)]
    assert said[0] == said[1] and said[0], "the same turn says the same on every channel"
    assert [(chat, kind) for chat, kind, _ in said[0]] == [(5, "say")] * len(said[0])
    assert outbox(telegram) == [(5, "say", p["text"]) for _, _, p in said[0]]
    assert outbox(console) == []  # shown at once, never queued
    assert telegram.storage.load_session("5") == console.storage.load_session("5")


def test_a_redelivered_update_acts_once(tmp_path: Path) -> None:
    t = turns(tmp_path, DURABLE)
    first = t.handle(Inbound(5, "start", seen=(1, 100)))
    again = t.handle(Inbound(5, "start", seen=(1, 100)))
    assert first.rows and not first.repeated
    assert again.repeated and again.rows == []
    assert len(outbox(t)) == len(first.rows)
    session = t.storage.load_session("5")
    assert session is not None and session.last_update == 100


def test_a_pressed_choice_edits_the_pressed_message_then_says_the_next_step(
    tmp_path: Path,
) -> None:
    t = turns(tmp_path, DURABLE)
    start = t.handle(Inbound(5, "start")).rows
    label, data = start[-1][2]["buttons"][0][0]
    done = t.handle(Inbound(5, "button", name=data, pressed=77, pressed_text="Hello"))
    kind, payload = done.rows[0][1], done.rows[0][2]
    assert kind == "edit" and payload["message_id"] == 77 and payload["_choice"] is True
    assert payload["text"].startswith("Hello\n\n✓ ") and label in payload["text"]
    assert done.rows[1][1] == "say"


def test_a_channel_without_reminders_says_so_and_nothing_changes(tmp_path: Path) -> None:
    t = turns(tmp_path, NO_REMINDERS)
    t.handle(Inbound(5, "start"))
    before = t.storage.load_session("5")
    rows = t.handle(Inbound(5, "command", name="reminders")).rows
    assert "Telegram" in rows[0][2]["text"]
    after = t.storage.load_session("5")
    assert before is not None and after is not None
    assert (after.flow, after.step) == (before.flow, before.step)


def test_stop_and_a_note_said_once(tmp_path: Path) -> None:
    t = turns(tmp_path, AT_ONCE)
    assert t.handle(Inbound(5, "stop")).rows
    assert t.storage.get_flag("5", "stopped")
    assert t.handle(Inbound(5, "note", text="Edits are not read", flag="edit_noted")).rows
    assert t.handle(Inbound(5, "note", text="Edits are not read", flag="edit_noted")).rows == []


def test_a_deep_link_payload_that_is_not_a_code_is_dropped(tmp_path: Path) -> None:
    t = turns(tmp_path, AT_ONCE)
    t.handle(Inbound(5, "start", text="<b>not a code</b>"))
    session = t.storage.load_session("5")
    assert session is not None and "<b>" not in json.dumps(session.answers)


# ---------------------------------------------------------------- rows and their rendering


def test_a_long_reply_is_split_with_the_buttons_on_the_last_part() -> None:
    buttons = ((ReplyButton("OK", "ok"),),)
    rows = outgoing.say(9, Reply("word " * 1000, buttons, step="s1"), reminder=4)
    assert len(rows) == 2 and all(len(r[2]["text"]) <= 4096 for r in rows)
    assert " ".join(r[2]["text"].strip() for r in rows).split() == ["word"] * 1000
    assert "buttons" not in rows[0][2] and rows[1][2]["buttons"] == [[["OK", "ok"]]]
    assert all(r[2]["_reminder"] == 4 and r[2]["_step"] == "s1" for r in rows)


def test_rows_render_to_the_bot_api_calls_telegram_expects() -> None:
    reply = Reply("<b>Hi</b>", ((ReplyButton("Yes", "y"), ReplyButton("No", "n")),))
    (say,) = outgoing.say(9, reply)
    call = render(*say)
    assert call.method == "sendMessage"
    assert call.params == {
        "chat_id": 9,
        "text": "<b>Hi</b>",
        "parse_mode": "HTML",
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "Yes", "callback_data": "y"}, {"text": "No", "callback_data": "n"}]
            ]
        },
    }
    toggle = render(*outgoing.edit(9, 3, reply, buttons_only=True))
    assert toggle.method == "editMessageReplyMarkup" and "text" not in toggle.params
    assert toggle.params["message_id"] == 3
    chosen = render(*outgoing.edit(9, 3, Reply("✓ Yes")))
    assert chosen.method == "editMessageText" and "reply_markup" not in chosen.params
    file = render(*outgoing.document(9, "mydata.json", b"{}", "Your data"))
    assert file.method == "sendDocument" and isinstance(file.params["document"], InputFile)
    assert file.params["caption"] == "Your data"


def test_a_row_queued_before_the_neutral_outbox_still_goes_out() -> None:
    legacy = {"chat_id": 9, "text": "hi", "parse_mode": "HTML", "_step": "s"}
    call = render(9, "sendMessage", legacy)
    assert (call.method, call.params) == (
        "sendMessage",
        {k: legacy[k] for k in legacy if k != "_step"},
    )
    with pytest.raises(ValueError, match="sendSticker"):
        render(9, "sendSticker", {})


# ---------------------------------------------------------------- the shape of the house


def test_no_bot_api_method_is_named_outside_the_telegram_package() -> None:
    methods = set(json.loads(shared_file("telegram-bot-api/api.min.json").read_text())["methods"])
    found = []
    for path in sorted((REPO / "bot").rglob("*.py")):
        if "telegram" in path.relative_to(REPO / "bot").parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                named = set(re.findall(r"[A-Za-z]+", node.value)) & methods
                found += [f"{path.relative_to(REPO)}:{node.lineno} {w}" for w in sorted(named)]
    assert found == []


def test_a_web_person_pressing_a_clinic_join_button_is_not_linked(tmp_path: Path) -> None:
    """Clinics reach their patients on Telegram: a join button's data posted from the web
    chat (whose ids are negative) links nobody, so no broadcast is queued for them."""
    t = turns(tmp_path, NO_REMINDERS)
    store = ClinicStore(t.storage.db)
    clinic = store.add_clinic("Hip Clinic", NOW)
    web_person, telegram_person = -(10**15 + 5), 4242
    for chat in (web_person, telegram_person):
        t.handle(Inbound(chat, "start"))
        t.handle(Inbound(chat, "button", name=f"x:{JOIN}:{clinic.code}", pressed=0))
    assert not store.is_linked(clinic.id, str(web_person))
    assert store.is_linked(clinic.id, str(telegram_person))
