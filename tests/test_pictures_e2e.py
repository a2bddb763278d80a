"""A flow step's picture over real HTTP: the real ``hipbot run`` process against the fake Bot
API. The first patient's picture is uploaded; the second gets it by the stored file id."""

from __future__ import annotations

from bot import pictures
from bot.storage import SqlStorage
from tests.fakes.bot_api import FakeBotApi, SentMessage, UploadedFile
from tests.fakes.bot_process import BotProcess
from tests.test_telegram_e2e import TIMEOUT, keyboard_with

FIRST, SECOND = 5151, 5252


def open_the_joint_step(fake: FakeBotApi, chat: int) -> SentMessage:
    """/start, the menu, About hip impingement: the step with the normal hip's picture."""
    user = fake.user(chat)
    user.send_command("/start")
    keyboard_with(fake, chat, "Open the menu")
    user.click("Open the menu")
    menu = keyboard_with(fake, chat, "About hip impingement")
    user.click("About hip impingement", message_id=menu.message_id)

    def photo() -> SentMessage | None:
        return next((m for m in fake.messages(chat) if m.kind == "photo"), None)

    return fake.wait_for_sync(photo, TIMEOUT, "the picture of the hip")


def test_a_picture_goes_up_once_then_by_file_id(fake: FakeBotApi, bot: BotProcess) -> None:
    first = open_the_joint_step(fake, FIRST)
    assert "The hip joint" in (first.text or "")  # the step's message is the caption
    assert first.parse_mode == "HTML"
    assert "Next" in first.button_texts
    upload = first.file
    assert isinstance(upload, UploadedFile)
    assert upload.content == pictures.load("hip_normal").content  # the right picture
    assert first.media is not None
    file_id = first.media["photo"][-1]["file_id"]

    second = open_the_joint_step(fake, SECOND)
    assert second.file == file_id  # sent by the stored id: no second upload
    sent = [call.params["photo"] for call in fake.calls("sendPhoto")]
    assert [isinstance(photo, UploadedFile) for photo in sent] == [True, False]
    stored = SqlStorage(str(bot.db_path)).db.all("SELECT picture, file_id FROM telegram_files")
    assert [tuple(row) for row in stored] == [("hip-normal.png", file_id)]


def test_pressing_a_button_under_a_picture_shows_the_choice_in_its_caption(
    fake: FakeBotApi, bot: BotProcess
) -> None:
    photo = open_the_joint_step(fake, FIRST)
    fake.user(FIRST).click("Next", message_id=photo.message_id)
    keyboard_with(fake, FIRST, "Back", after=photo.message_id)

    def pressed() -> SentMessage | None:
        now = next(m for m in fake.messages(FIRST) if m.message_id == photo.message_id)
        return now if now.edits else None

    edited = fake.wait_for_sync(pressed, TIMEOUT, "the picture's caption edited")
    assert "The hip joint" in (edited.text or "")
    assert "✓ Next" in (edited.text or "")
    assert not edited.has_inline_keyboard
    assert not fake.calls("editMessageText") or all(
        call.status == 200 for call in fake.calls("editMessageText")
    )


def test_a_refused_file_id_is_forgotten_and_the_picture_goes_up_again(
    fake: FakeBotApi, bot: BotProcess
) -> None:
    first = open_the_joint_step(fake, FIRST)
    assert first.media is not None
    old_id = first.media["photo"][-1]["file_id"]
    storage = SqlStorage(str(bot.db_path))

    def stored() -> list[tuple[str, str]] | None:  # kept just after the photo is answered
        rows = storage.db.all("SELECT picture, file_id FROM telegram_files")
        return [tuple(row) for row in rows] or None

    assert fake.wait_for_sync(stored, TIMEOUT, "the file id stored") == [("hip-normal.png", old_id)]
    with storage.db.transaction() as db:  # an id Telegram no longer knows (another bot, say)
        db.execute("UPDATE telegram_files SET file_id = 'AgACgone'")

    second = open_the_joint_step(fake, SECOND)
    assert "The hip joint" in (second.text or "")  # the photo still arrives, with its caption
    upload = second.file
    assert isinstance(upload, UploadedFile)
    assert upload.content == pictures.load("hip_normal").content
    refused = [c for c in fake.calls("sendPhoto") if c.params["photo"] == "AgACgone"]
    assert [c.status for c in refused] == [400]  # asked once by the refused id, then uploaded
    assert second.media is not None
    new_id = second.media["photo"][-1]["file_id"]
    assert new_id != old_id

    def stored_anew() -> list[tuple[str, str]] | None:
        rows = stored()
        return rows if rows and rows[0][1] != "AgACgone" else None

    kept = fake.wait_for_sync(stored_anew, TIMEOUT, "the new file id stored")
    assert kept == [("hip-normal.png", new_id)]
