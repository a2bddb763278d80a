"""Pictures in flows: what the validator says about a step's ``image:``, the ``photo`` row,
its Bot API call and stored file id, and how the terminal and the web chat show it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image
from telegram import InputFile

from bot import outgoing, pictures
from bot.engine import Engine
from bot.errors import FlowErrors
from bot.features import load_features
from bot.loader import load_bundle
from bot.model import Reply, ReplyButton
from bot.storage import open_storage
from bot.storage.sql import SqlStorage
from bot.telegram import files
from bot.telegram.render import render
from bot.web.server import CSRF_HEADER, WebApp

REPO = Path(__file__).resolve().parents[1]
STEP = "steps.hello"


def flow(folder: Path, step: str) -> Path:
    """A one-step flow file in ``folder`` whose step has the YAML lines ``step``."""
    folder.mkdir(parents=True, exist_ok=True)
    body = "".join(f"    {line}\n" for line in step.strip().splitlines())
    path = folder / "pics.yaml"
    path.write_text(
        "flow: pics\nversion: 1\nstart: hello\nsteps:\n  hello:\n" + body + "    end: true\n",
        encoding="utf-8",
    )
    return path


def problems(folder: Path) -> list[str]:
    with pytest.raises(FlowErrors) as caught:
        load_bundle([folder])
    return [str(error) for error in caught.value.errors]


def png(path: Path, size: tuple[int, int], kind: str = "PNG") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, "white").save(path, kind)
    return path


# ---------------------------------------------------------------- the validator


def test_a_drawing_and_a_file_load_with_their_alt_texts(tmp_path: Path) -> None:
    png(tmp_path / "images" / "knee.png", (40, 30))
    flow(tmp_path, 'say: Hi\nimage: hip_cam\nalt: {en: "A hip", de: "Eine Hüfte"}')
    step = load_bundle([tmp_path]).flows["pics"].steps["hello"]
    assert step.image == "hip_cam" and step.alt is not None
    assert step.alt.get("de") == "Eine Hüfte"
    flow(tmp_path, "say: Hi\nimage: images/knee.png\nalt: A knee")
    step = load_bundle([tmp_path]).flows["pics"].steps["hello"]
    assert step.image == str((tmp_path / "images" / "knee.png").resolve())


def test_a_missing_file_is_named_with_its_path(tmp_path: Path) -> None:
    file = flow(tmp_path, "say: Hi\nimage: images/knee.png\nalt: A knee")
    (found,) = problems(tmp_path)
    assert found.startswith(f"{file} > {STEP} > image: no file ")
    assert "images/knee.png: put the PNG or JPEG there, or fix the name" in found


def test_an_unknown_drawing_gets_a_suggestion(tmp_path: Path) -> None:
    flow(tmp_path, "say: Hi\nimage: hip_cams\nalt: A hip")
    (found,) = problems(tmp_path)
    assert "unknown picture 'hip_cams' (did you mean 'hip_cam'?)" in found
    assert "images/knee.png" in found  # how to name a file instead


def test_a_file_that_is_not_png_or_jpeg_is_refused(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "notes.png").write_text("not a picture")
    png(tmp_path / "images" / "anim.png", (20, 20), kind="GIF")
    flow(tmp_path, "say: Hi\nimage: images/notes.png\nalt: Notes")
    (found,) = problems(tmp_path)
    assert "notes.png is not a PNG or JPEG picture that can be read" in found
    assert found.endswith("save it again as PNG or JPEG")
    flow(tmp_path, "say: Hi\nimage: images/anim.png\nalt: A moving picture")
    (found,) = problems(tmp_path)
    assert found.endswith("anim.png is a GIF picture: save it as PNG or JPEG")


def test_a_jpeg_is_fine(tmp_path: Path) -> None:
    png(tmp_path / "images" / "room.jpg", (60, 40), kind="JPEG")
    flow(tmp_path, "say: Hi\nimage: images/room.jpg\nalt: A room")
    assert load_bundle([tmp_path]).flows["pics"].steps["hello"].image


@pytest.mark.parametrize(
    ("size", "rule"),
    [
        ((9000, 1001), "9000×1001 pixels; Telegram needs width + height of at most 10000"),
        ((2100, 100), "2100×100 pixels, more than 20 times as long as it is wide: crop it"),
    ],
)
def test_a_picture_outside_telegrams_shape_limits_is_refused(
    tmp_path: Path, size: tuple[int, int], rule: str
) -> None:
    png(tmp_path / "images" / "wide.png", size)
    flow(tmp_path, "say: Hi\nimage: images/wide.png\nalt: Wide")
    (found,) = problems(tmp_path)
    assert rule in found


def test_a_file_over_10_mb_is_refused(tmp_path: Path) -> None:
    big = png(tmp_path / "images" / "big.png", (10, 10))
    with big.open("ab") as out:  # PNG readers stop at IEND: the rest is just size
        out.write(b"\0" * pictures.MAX_BYTES)
    flow(tmp_path, "say: Hi\nimage: images/big.png\nalt: Big")
    (found,) = problems(tmp_path)
    assert "big.png is 10.0 MB; Telegram takes photos up to 10 MB" in found


def test_a_file_outside_the_images_folder_is_refused(tmp_path: Path) -> None:
    png(tmp_path / "knee.png", (40, 30))
    flow(tmp_path / "flows", "say: Hi\nimage: ../knee.png\nalt: A knee")
    (found,) = problems(tmp_path / "flows")
    assert "must be in the 'images/' folder next to this flow file" in found


def test_a_caption_over_1024_characters_is_refused(tmp_path: Path) -> None:
    words = "<b>" + "a" * 1025 + "</b>"
    flow(tmp_path, f'say: ["{words}", "More"]\nimage: hip_cam\nalt: A hip')
    (found,) = problems(tmp_path)
    assert found.startswith(f"{tmp_path / 'pics.yaml'} > {STEP} > say: the first message (en)")
    assert "1025 characters; sent as the picture's caption it may have 1024" in found
    flow(tmp_path, f'say: ["{"a" * 1024}", "More"]\nimage: hip_cam\nalt: A hip')
    assert load_bundle([tmp_path])  # 1024 visible characters (tags not counted) fit


def test_a_picture_needs_an_alt_text_and_an_alt_text_a_picture(tmp_path: Path) -> None:
    flow(tmp_path, "say: Hi\nimage: hip_cam")
    (found,) = problems(tmp_path)
    assert found == (
        f"{tmp_path / 'pics.yaml'} > {STEP} > alt: the picture 'hip_cam' needs 'alt': a sentence "
        "saying what it shows, for people who cannot see it"
    )
    flow(tmp_path, 'say: Hi\nimage: hip_cam\nalt: "  "')
    assert "needs 'alt'" in problems(tmp_path)[0]
    flow(tmp_path, "say: Hi\nalt: A hip")
    assert problems(tmp_path) == [
        f"{tmp_path / 'pics.yaml'} > {STEP} > alt: 'alt' describes a picture: add 'image' or "
        "drop 'alt'"
    ]


def test_every_picture_in_the_shipped_flows_has_an_alt_text() -> None:
    bundle = load_bundle([REPO / "flows"])
    shown = [s for f in bundle.flows.values() for s in f.steps.values() if s.image]
    # every drawing is used, and the personal chart (drawn per person when sent)
    assert {s.image for s in shown} == set(pictures.DRAWINGS) | set(pictures.PERSONAL)
    assert all(s.alt is not None and len(s.alt.get("en")) > 40 for s in shown)


# ---------------------------------------------------------------- rows and Telegram

BUTTONS = ((ReplyButton("Next", "n"),),)


def test_a_reply_with_a_picture_is_one_photo_row_with_caption_and_buttons() -> None:
    reply = Reply("<b>The hip</b>", BUTTONS, step="s", image="hip_normal", alt="A hip")
    ((chat, kind, payload),) = outgoing.say(7, reply)
    assert (chat, kind) == (7, outgoing.PHOTO)
    assert payload == {
        "picture": "hip_normal",
        "alt": "A hip",
        "caption": "<b>The hip</b>",
        "buttons": [[["Next", "n"]]],
        "_step": "s",
    }
    call = render(7, kind, payload)
    assert call.method == "sendPhoto" and call.picture == "hip_normal"
    assert call.params["caption"] == "<b>The hip</b>" and call.params["parse_mode"] == "HTML"
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Next", "callback_data": "n"}]]
    }


def test_a_text_too_long_for_a_caption_follows_the_picture() -> None:
    reply = Reply("a" * 1025, BUTTONS, image="hip_normal", alt="A hip")
    rows = outgoing.say(7, reply)
    assert [kind for _, kind, _ in rows] == [outgoing.PHOTO, outgoing.SAY]
    assert rows[0][2]["caption"] == "" and "buttons" not in rows[0][2]
    assert rows[1][2]["buttons"] == [[["Next", "n"]]]
    assert "caption" not in render(7, outgoing.PHOTO, rows[0][2]).params


def test_the_pressed_pictures_caption_is_edited_not_its_text() -> None:
    row = outgoing.edit(7, 12, Reply("✓ Next"), caption=True)
    call = render(*row)
    assert call.method == "editMessageCaption"
    assert call.params == {
        "chat_id": 7,
        "message_id": 12,
        "caption": "✓ Next",
        "parse_mode": "HTML",
    }
    assert render(*outgoing.edit(7, 12, Reply("✓ Next"))).method == "editMessageText"
    # a caption near the limit with the choice added would be refused: the buttons go only
    full = render(*outgoing.edit(7, 12, Reply("a" * 1020 + "\n\n✓ Next"), caption=True))
    assert full.method == "editMessageReplyMarkup"
    assert full.params["reply_markup"] == {"inline_keyboard": []}


class FakeBot:
    id = 99


@pytest.fixture
def store(database: str) -> Iterator[SqlStorage]:
    """A SQLite file, or a fresh PostgreSQL database (conftest's ``database``)."""
    storage = open_storage(database if "://" in database else f"sqlite:///{database}")
    assert isinstance(storage, SqlStorage)
    yield storage
    storage.close()


def _sent(file_id: str) -> dict[str, Any]:
    return {"photo": [{"file_id": f"{file_id}_small"}, {"file_id": file_id}]}


def test_a_picture_is_uploaded_once_per_bot_then_sent_by_file_id(
    store: SqlStorage, tmp_path: Path
) -> None:
    call = render(7, outgoing.PHOTO, {"picture": "hip_cam", "alt": "A hip", "caption": "Hi"})
    first = files.prepare(store, FakeBot(), call)
    assert isinstance(first.params["photo"], InputFile)
    assert first.params["photo"].input_file_content == pictures.load("hip_cam").content
    files.remember(store, FakeBot(), first, _sent("AgAC-cam"), now=1.0)
    again = files.prepare(store, FakeBot(), call)
    assert again.params["photo"] == "AgAC-cam"  # the largest size's id
    files.remember(store, FakeBot(), again, _sent("AgAC-other"), now=2.0)  # a re-send: kept
    assert files.prepare(store, FakeBot(), call).params["photo"] == "AgAC-cam"

    class OtherBot:
        id = 100

    assert isinstance(files.prepare(store, OtherBot(), call).params["photo"], InputFile)


def test_a_changed_picture_file_is_uploaded_again(store: SqlStorage, tmp_path: Path) -> None:
    path = png(tmp_path / "images" / "knee.png", (40, 30))
    call = render(7, outgoing.PHOTO, {"picture": str(path), "alt": "A knee", "caption": ""})
    files.remember(store, FakeBot(), files.prepare(store, FakeBot(), call), _sent("AgAC-k1"))
    assert files.prepare(store, FakeBot(), call).params["photo"] == "AgAC-k1"
    png(path, (41, 30))
    pictures.load.cache_clear()  # a new process: the file is read again
    assert isinstance(files.prepare(store, FakeBot(), call).params["photo"], InputFile)


def test_a_picture_that_cannot_be_read_is_a_value_error(store: SqlStorage) -> None:
    call = render(7, outgoing.PHOTO, {"picture": "/nowhere/gone.png", "alt": "", "caption": ""})
    with pytest.raises(ValueError, match=r"gone\.png"):
        files.prepare(store, FakeBot(), call)


# ---------------------------------------------------------------- terminal and web


def test_the_terminal_shows_the_alt_text_and_the_file(tmp_path: Path) -> None:
    env = {**os.environ, "HIPBOT_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--db", f"sqlite:///{tmp_path / 'c.db'}"],
        input="/start\nOpen the menu\nAbout hip impingement\n",
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    path = tmp_path / "data" / "pictures" / "hip-normal.png"
    assert "bot> [picture: A drawing of a hip from the front." in result.stdout
    assert str(path) in result.stdout
    assert path.read_bytes() == pictures.load("hip_normal").content


async def test_the_web_chat_shows_the_picture_with_its_alt_text(tmp_path: Path) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 'web.db'}")
    assert isinstance(storage, SqlStorage)
    load_features().setup(storage)
    app = WebApp(Engine(load_bundle([REPO / "flows"])), storage, load_features())
    client: TestClient[Any, Any] = TestClient(TestServer(app.build()))
    await client.start_server()
    try:
        await client.get("/")
        token = (await (await client.get("/api/history")).json())["token"]

        async def send(**body: str) -> list[dict[str, Any]]:
            answer = await client.post("/api/send", json=body, headers={CSRF_HEADER: token})
            messages: list[dict[str, Any]] = (await answer.json())["messages"]
            return messages

        def button(messages: list[dict[str, Any]], label: str) -> str:
            found = [b["data"] for m in messages for r in m["buttons"] for b in r]
            labels = [b["label"] for m in messages for r in m["buttons"] for b in r]
            return found[labels.index(label)]

        welcome = await send(text="/start")
        menu = await send(button=button(welcome, "Open the menu"))
        learn = await send(button=button(menu, "About hip impingement"))
        (shown,) = [m for m in learn if "image" in m]
        assert shown["image"]["url"] == "/pictures/hip-normal.png"
        assert shown["image"]["alt"].startswith("A drawing of a hip from the front.")
        served = await client.get(shown["image"]["url"])
        assert served.status == 200 and served.content_type == "image/png"
        assert "img-src 'self'" in served.headers["Content-Security-Policy"]
        body = await served.read()
        assert Image.open(io.BytesIO(body)).format == "PNG"
        assert body == pictures.load("hip_normal").content
        assert (await client.get("/pictures/..%2Fhipbot.db")).status == 404
        assert (await client.get("/pictures/not-shown.png")).status == 404
    finally:
        await client.close()
        storage.close()
