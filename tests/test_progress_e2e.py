"""/progress over real HTTP: the real ``hipbot run`` process against the fake Bot API. After
five check-ins the person gets exactly one photo: their chart, drawn when it was sent and
uploaded (no file id of a personal chart is kept)."""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfReader

from bot.features import load_features
from bot.features.progress import store
from bot.features.progress.chat import make_chart
from bot.features.reminders.store import ReminderStore
from bot.model import Session
from bot.storage import SqlStorage
from tests.fakes.bot_api import FakeBotApi, SentMessage, UploadedFile
from tests.fakes.bot_process import BotProcess
from tests.test_privacy import SHIPPED_VERSION
from tests.test_telegram_e2e import TIMEOUT

CHAT = 6161
WEEK = 7 * 86400.0
START = 1_790_000_000.0
CHECKINS = [(6, "same", 3), (6, "worse", 3), (5, "better", 4), (4, "better", 6), (3, "same", 7)]


def _five_checkins(storage: SqlStorage) -> None:
    reminders = ReminderStore(storage.db)
    for week, (pain, feeling, sitting) in enumerate(CHECKINS):
        at = START + week * WEEK
        reminders.record_checkin(str(CHAT), pain, feeling, at)
        with storage.db.transaction() as db:
            store.record_scores(db, str(CHAT), at, {"sitting": sitting})


def test_progress_after_five_checkins_sends_one_photo(fake: FakeBotApi, bot: BotProcess) -> None:
    storage = SqlStorage(str(bot.db_path))
    load_features().setup(storage)
    _five_checkins(storage)
    fake.user(CHAT).send_command("/progress")

    def photo() -> SentMessage | None:
        return next((m for m in fake.messages(CHAT) if m.kind == "photo"), None)

    sent = fake.wait_for_sync(photo, TIMEOUT, "the progress chart")
    assert "Your progress" in (sent.text or "")
    calls = fake.calls("sendPhoto")
    assert len(calls) == 1
    upload = calls[0].params["photo"]
    assert isinstance(upload, UploadedFile)
    with Image.open(io.BytesIO(upload.content)) as image:
        assert (image.format, image.size) == ("PNG", (1080, 1080))
    assert upload.content == make_chart(storage, str(CHAT))  # the person's five check-ins
    assert [m.kind for m in fake.messages(CHAT)] == ["photo"]  # and nothing else
    assert storage.db.all("SELECT * FROM telegram_files") == []  # no file id of a chart kept


def test_summary_is_made_when_sent_and_arrives_as_one_page(
    fake: FakeBotApi, bot: BotProcess
) -> None:
    storage = SqlStorage(str(bot.db_path))
    load_features().setup(storage)
    _five_checkins(storage)
    agreed = Session(str(CHAT), "hip", 1, "menu", revision=1, answers={"_consent": SHIPPED_VERSION})
    storage.commit_turn(agreed, now=START)
    fake.user(CHAT).send_command("/summary")
    sent = fake.wait_for_sync(lambda: fake.calls("sendDocument"), TIMEOUT, "the summary PDF")
    upload = sent[0].params["document"]
    assert isinstance(upload, UploadedFile) and upload.filename
    assert upload.filename.endswith(".pdf")
    reader = PdfReader(io.BytesIO(upload.content))
    assert len(reader.pages) == 1
    assert "My weekly check-ins" in reader.pages[0].extract_text()
