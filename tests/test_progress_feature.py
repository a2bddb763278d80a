"""Progress in the chat: activity scores kept with each check-in, /progress (a chart drawn
when sent, never stored; a short text under 3 check-ins), /summary (one page, only with
consent), and /mydata and /delete covering what progress keeps."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from bot import outgoing, pictures
from bot.console import Console
from bot.conversation import Conversation
from bot.engine import Engine
from bot.features import Features, load_features
from bot.features.privacy.chat import collect
from bot.features.progress import store
from bot.features.progress.chat import checkins_of, make_chart
from bot.loader import load_bundle
from bot.model import Session
from bot.progress.chart import chart_data, chart_figure
from bot.storage import SqlStorage
from bot.turns import Channel, Inbound, Turns
from bot.web.chat import WebChat
from tests.test_privacy import SHIPPED_VERSION

REPO = Path(__file__).resolve().parents[1]
DAY = 86400.0
WEEK = 7 * DAY
START = 1_790_000_000.0  # a Sunday evening in 2026 (UTC); the person's time zone is UTC
CHAT = 4242


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def engine() -> Engine:
    bundle = load_bundle([str(REPO / "flows")])
    return Engine(bundle, {"emergency_number": "112", "urgent_care": "your doctor"})


@pytest.fixture
def storage(tmp_path: Path) -> SqlStorage:
    opened = SqlStorage(str(tmp_path / "p.db"))
    load_features().setup(opened)
    return opened


@pytest.fixture
def features() -> Features:
    return load_features()


def _turns(engine: Engine, storage: SqlStorage, features: Features, clock: Clock) -> Turns:
    return Turns(engine, storage, features, Channel("test"), clock)


_SHOWN: dict[int, list[outgoing.Row]] = {}  # what each Turns showed last (its buttons)


def _say(turns: Turns, *typed: str) -> list[outgoing.Row]:
    """Type each text (a command, a shown button's label or an answer); the last turn's rows.
    The labels of every button shown since the last new message can be pressed."""
    rows: list[outgoing.Row] = []
    for text in typed:
        shown = _SHOWN.get(id(turns), [])
        if text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            rows = turns.handle(Inbound(CHAT, "command", text=args, name=name)).rows
        elif (button := _button(shown, text)) is not None:
            rows = turns.handle(Inbound(CHAT, "button", name=button, pressed=1)).rows
        else:
            rows = turns.handle(Inbound(CHAT, "text", text=text)).rows
        _SHOWN[id(turns)] = rows if any(k != outgoing.EDIT for _, k, _ in rows) else shown + rows
    return rows


def _button(rows: list[outgoing.Row], label: str) -> str | None:
    for _, _, payload in rows:
        for row in payload.get("buttons") or []:
            for shown, data in row:
                if shown == label:
                    return str(data)
    return None


def _text(rows: list[outgoing.Row]) -> str:
    return "\n".join(str(p.get("text") or p.get("caption") or "") for _, _, p in rows)


def _agree_and_set_checkin(turns: Turns) -> None:
    _say(turns, "/remind", "Europe", "London", "Yes, that is fine", "A weekly check-in")
    _say(turns, "Sunday")
    rows = _say(turns, "19:00", "Do a check-in now")
    if _button(rows, "I agree"):
        _say(turns, "I agree")


def _checkin(turns: Turns, pain: int, feeling: str, *scores: int) -> list[outgoing.Row]:
    _say(turns, "/remind", "A weekly check-in", "Sunday", "19:00")
    rows = _say(turns, "Do a check-in now", str(pain), feeling)
    if _button(rows, "Skip this"):  # the first check-in: pick the activities
        rows = _say(turns, "Sitting", "Stairs", "Done", "Nothing else")
    for score in scores:
        rows = _say(turns, str(score))
    return rows


def _weeks(
    engine: Engine, storage: SqlStorage, features: Features, plan: list[tuple[int, str, int, int]]
) -> tuple[Turns, Clock]:
    clock = Clock()
    turns = _turns(engine, storage, features, clock)
    _agree_and_set_checkin(turns)
    for pain, feeling, sitting, stairs in plan:
        _checkin(turns, pain, feeling, sitting, stairs)
        clock.now += WEEK
    return turns, clock


PLAN = [
    (6, "About the same", 3, 4),
    (5, "Better", 4, 4),
    (4, "Better", 6, 5),
    (4, "About the same", 7, 5),
]


def test_the_chart_plots_exactly_the_stored_checkins_and_scores(
    engine: Engine, storage: SqlStorage, features: Features
) -> None:
    _weeks(engine, storage, features, PLAN)
    stored = store.scores(storage.db, str(CHAT))
    assert [dict(s.scores) for s in stored] == [
        {"sitting": a, "going up and down stairs": b} for _, _, a, b in PLAN
    ]
    assert all(s.at for s in stored)
    sealed = storage.db.all("SELECT data FROM activity_scores")
    assert all("sitting" not in row[0] for row in sealed)  # sealed at rest
    checkins = checkins_of(storage, str(CHAT))
    data = chart_data(checkins)
    assert list(data.pain.scores) == [pain for pain, _, _, _ in PLAN]
    assert [c.feeling for c in checkins] == ["same", "better", "better", "same"]
    assert [s.name for s in data.activities] == ["sitting", "going up and down stairs"]
    assert list(data.activities[0].scores) == [a for _, _, a, _ in PLAN]
    figure = chart_figure(checkins)
    drawn = [list(line.get_ydata()) for axes in figure.axes for line in axes.get_lines()]
    assert drawn == [list(data.pain.scores), *[list(s.scores) for s in data.activities]]
    png = make_chart(storage, str(CHAT))
    with Image.open(io.BytesIO(png)) as image:
        assert (image.format, image.size) == ("PNG", (1080, 1080))


def test_progress_is_a_kind_text_under_three_checkins(
    engine: Engine, storage: SqlStorage, features: Features
) -> None:
    turns, _ = _weeks(engine, storage, features, PLAN[:2])
    rows = _say(turns, "/progress")
    assert [kind for _, kind, _ in rows] == [outgoing.SAY]
    assert "You have done 2 so far" in _text(rows)


def test_progress_names_the_picture_and_never_carries_its_bytes(
    engine: Engine, storage: SqlStorage, features: Features
) -> None:
    turns, _ = _weeks(engine, storage, features, PLAN)
    rows = _say(turns, "/progress")
    assert [kind for _, kind, _ in rows] == [outgoing.PHOTO]
    payload = rows[0][2]
    assert payload["picture"] == "progress"
    assert "Your progress" in payload["caption"]
    assert len(json.dumps(payload)) < 1000  # a name and words, not a PNG
    picture = pictures.load_for("progress", storage, str(CHAT))
    assert picture.content == make_chart(storage, str(CHAT))  # drawn from the stored data


def test_see_my_progress_after_a_checkin_shows_the_chart(
    engine: Engine, storage: SqlStorage, features: Features
) -> None:
    turns, _ = _weeks(engine, storage, features, PLAN[:2])
    rows = _checkin(turns, 4, "Better", 6, 5)
    rows = _say_button(turns, rows, "See my progress")
    assert [kind for _, kind, _ in rows] == [outgoing.EDIT, outgoing.PHOTO]  # the choice shown
    assert rows[1][2]["picture"] == "progress"


def _say_button(turns: Turns, rows: list[outgoing.Row], label: str) -> list[outgoing.Row]:
    assert _button(rows, label) is not None, f"no button {label!r} in {_text(rows)!r}"
    return _say(turns, label)


def test_summary_needs_consent(engine: Engine, storage: SqlStorage, features: Features) -> None:
    turns = _turns(engine, storage, features, Clock())
    _say(turns, "/start")
    rows = _say(turns, "/summary")
    assert [kind for _, kind, _ in rows] == [outgoing.SAY]
    assert "/privacy" in _text(rows) and "I agree" in _text(rows)


def test_summary_is_one_page_with_what_the_person_said(
    engine: Engine, storage: SqlStorage, features: Features
) -> None:
    turns, _ = _weeks(engine, storage, features, PLAN)
    rows = _say(turns, "/summary")
    assert [kind for _, kind, _ in rows] == [outgoing.DOCUMENT]
    assert rows[0][2]["made"] == "summary"  # the row holds the data; the PDF is made when sent
    assert not base64.b64decode(rows[0][2]["content"]).startswith(b"%PDF")
    name, content, caption = outgoing.document_of(rows[0][2])
    assert content.startswith(b"%PDF")
    assert name.endswith(".pdf") and "physio" in caption
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    for expected in (
        "My hip: what I told hipbot",
        "I made this page myself",
        "not a diagnosis",
        "sitting, going up and down stairs",
        "My weekly check-ins",
        "A weekly check-in (every Sun at 19:00): done 0 of 0 times",  # a reminder, how often
    ):
        assert expected in text, expected
    assert "Questions I read about • None" in text  # none opened (tests/test_questions_opened.py)


def test_mydata_and_delete_cover_the_activity_scores(
    engine: Engine, storage: SqlStorage, features: Features
) -> None:
    _weeks(engine, storage, features, PLAN[:2])
    data = collect(storage, str(CHAT))
    assert [s["scores"] for s in data["progress"]["activity_scores"]] == [
        {"sitting": 3, "going up and down stairs": 4},
        {"sitting": 4, "going up and down stairs": 4},
    ]
    storage.delete_user(str(CHAT))
    assert store.scores(storage.db, str(CHAT)) == []
    assert storage.db.all("SELECT * FROM activity_scores") == []


def test_withdrawing_consent_erases_the_activity_scores(
    engine: Engine, storage: SqlStorage, features: Features
) -> None:
    turns, _ = _weeks(engine, storage, features, PLAN[:1])
    assert store.scores(storage.db, str(CHAT))
    rows = _say(turns, "/withdraw")
    yes = next((label for _, _, p in rows for r in p.get("buttons") or [] for label, _ in r), "")
    _say(turns, yes)
    assert store.scores(storage.db, str(CHAT)) == []


def test_console_shows_the_alt_text_and_saves_the_chart(
    engine: Engine, storage: SqlStorage, features: Features, tmp_path: Path
) -> None:
    _weeks(engine, storage, features, PLAN)
    out = io.StringIO()
    conversation = Conversation(engine, storage, str(CHAT))
    console = Console(conversation, features, CHAT, out, Clock(), files=tmp_path / "files")
    console.act("/progress")
    shown = out.getvalue()
    assert "[picture: A chart of your weekly check-ins" in shown
    saved = tmp_path / "files" / "pictures" / "progress.png"
    assert str(saved) in shown
    assert saved.read_bytes() == make_chart(storage, str(CHAT))


def test_web_chat_gets_the_chart_in_the_answer(
    engine: Engine, storage: SqlStorage, features: Features
) -> None:
    _weeks(engine, storage, features, PLAN)
    web = WebChat(engine, storage, features, CHAT, Clock())
    turn = web.send("/progress")
    image = turn.messages[0]["image"]
    assert image["url"].startswith("data:image/png;base64,")
    assert "weekly check-ins" in image["alt"]


def test_summary_lists_the_symptom_answers_and_the_safety_questions_outcome(
    engine: Engine, storage: SqlStorage, features: Features
) -> None:
    answers = {
        "_consent": SHIPPED_VERSION,
        "hurts": ["sitting", "stairs"],
        "rf_fall": False,
        "rf_fever": False,
    }
    session = Session(str(CHAT), "hip", 1, "menu", revision=1, answers=answers)
    storage.commit_turn(session, now=START - 3 * DAY)  # 3 days before the summary
    rows = _say(_turns(engine, storage, features, Clock()), "/summary")
    _, content, _ = outgoing.document_of(rows[0][2])
    text = " ".join(PdfReader(io.BytesIO(content)).pages[0].extract_text().split())
    assert "What I notice Sitting, Stairs" in text
    assert "No to all 2 warning questions asked (18 Sep 2026)" in text
    assert "Fewer than 3 check-ins so far" in text
    yes = Session(str(CHAT), "hip", 1, "menu", revision=2, answers={**answers, "rf_fever": True})
    storage.commit_turn(yes, now=START)
    rows = _say(_turns(engine, storage, features, Clock()), "/summary")
    _, content, _ = outgoing.document_of(rows[0][2])
    text = " ".join(PdfReader(io.BytesIO(content)).pages[0].extract_text().split())
    assert "Said yes to 1 of 2 warning questions" in text


def test_two_checkins_on_one_day_are_one_point_for_the_count_and_the_chart(
    engine: Engine, storage: SqlStorage, features: Features
) -> None:
    clock = Clock()
    turns = _turns(engine, storage, features, clock)
    _agree_and_set_checkin(turns)
    _checkin(turns, 6, "About the same", 3, 4)
    clock.now += 3600  # an hour later, the same day
    _checkin(turns, 5, "Better", 4, 4)
    clock.now += WEEK
    _checkin(turns, 4, "Better", 5, 5)
    session = storage.load_session(str(CHAT))
    assert session is not None
    checkins = checkins_of(storage, str(CHAT))
    assert [c.pain for c in checkins] == [5, 4]
    assert session.answers["ci_count"] == len(checkins) == 2  # so no chart yet
    rows = _say(turns, "/progress")
    assert not any(kind == outgoing.PHOTO for _, kind, _ in rows)
