"""Languages on Telegram, end to end (the real ``hipbot run`` against the fake Bot API): the
person's ``language_code`` at first contact, kept afterwards; /language; the command menu
set per language."""

from __future__ import annotations

from bot import texts
from bot.storage import SqlStorage
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.bot_process import BotProcess
from tests.test_telegram_e2e import TIMEOUT, keyboard_with, last_id

CARLA = 5550301


def language_of(bot: BotProcess, chat: int) -> str:
    session = SqlStorage(str(bot.db_path)).load_session(str(chat))
    assert session is not None
    return session.language


def answered(fake: FakeBotApi, chat: int, send: object) -> None:
    before = last_id(fake, chat)
    send()  # type: ignore[operator]
    fake.wait_for_sync(lambda: last_id(fake, chat) > before, TIMEOUT, f"an answer in {chat}")


def test_language_code_at_first_contact_is_kept_and_commands_are_set_per_language(
    fake: FakeBotApi, bot: BotProcess
) -> None:
    fake.wait_for_sync(
        lambda: fake.commands_for(language_code="de"), TIMEOUT, "the German command menu"
    )
    codes = [call.params.get("language_code") for call in fake.calls("setMyCommands")]
    assert codes[:3] == [None, "es", "de"]
    spanish = {c["command"]: c["description"] for c in fake.commands_for(language_code="es")}
    german = {c["command"]: c["description"] for c in fake.commands_for(language_code="de")}
    english = {c["command"]: c["description"] for c in fake.commands}
    assert spanish["privacy"] == "Qué guardo sobre ti y por qué"
    assert german["delete"] == "Alles löschen, was ich über dich speichere"
    assert english["privacy"] == "What I keep about you, and why"
    assert set(spanish) == set(english) == set(german)

    user = fake.user(CARLA, language_code="es-MX")
    answered(fake, CARLA, lambda: user.send_command("/start"))
    assert language_of(bot, CARLA) == "es"
    again = fake.user(CARLA, language_code="en")  # the app's language changed since
    answered(fake, CARLA, lambda: again.send_command("/language"))
    assert language_of(bot, CARLA) == "es", "the stored language, not the update's"
    keyboard_with(fake, CARLA, "Deutsch")
    assert texts.CHOOSE_LANGUAGE.get("es") in (fake.messages(CARLA)[-1].text or "")
    again.click("Deutsch")
    fake.wait_for_sync(
        lambda: any(
            "Ab jetzt schreibe ich auf Deutsch" in (m.text or "") for m in fake.messages(CARLA)
        ),
        TIMEOUT,
        "the switch to German said",
    )
    assert language_of(bot, CARLA) == "de"
