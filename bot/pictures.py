"""Pictures a flow step shows: a drawing by name (``bot.drawings``) or a PNG/JPEG file.

A step's ``image:`` is either a drawing's name (``hip_normal``) or a file under the
``images/`` folder next to the flow file (``images/knee.png``). The loader resolves it to a
reference (the name, or the file's absolute path) that travels in the outbox rows; the
bytes never do. ``load`` gives a picture's bytes: drawings are rendered once per process (the
same code gives the same bytes), files are read once. ``check_file`` holds a file to
Telegram's photo limits; ``public_name`` is the picture's file name for the web chat and the
terminal.

A *personal* picture (``PERSONAL``: ``progress``, a person's check-in chart) is drawn for
one person when it is sent, from their sealed data, by the maker its feature registered
(``register_personal``); ``load_for`` gives its bytes, which are never cached or stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image as PilImage
from PIL import UnidentifiedImageError

from bot.drawings.labels import ALT_TEXTS

MAX_BYTES = 10 * 1024 * 1024  # Telegram's photo limits (sendPhoto)
MAX_SIDES = 10_000  # width + height
MAX_RATIO = 20
MAX_CAPTION = 1024
FOLDER = "images"  # where picture files live, next to the flow files
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
SUFFIXES = frozenset({".png", ".jpg", ".jpeg"})
DRAWINGS = tuple(ALT_TEXTS)  # every drawing has an alt text (tests/test_drawings.py)
PERSONAL = ("progress",)  # drawn per person when sent (bot.features.progress), never stored
PersonalMaker = Callable[[Any, str], bytes]  # (storage, user id) -> PNG bytes
_makers: dict[str, PersonalMaker] = {}


@dataclass(frozen=True)
class Picture:
    """One picture's bytes and what identifies them."""

    ref: str  # a drawing's name or a file's absolute path
    name: str  # the file name shown and served: hip-normal.png, knee.png
    content: bytes
    mime: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.content).hexdigest()[:32]


def register_personal(name: str, maker: PersonalMaker) -> None:
    """The maker of a personal picture (a feature's setup calls this)."""
    if name not in PERSONAL:
        raise KeyError(f"{name!r} is not a personal picture; personal pictures: {PERSONAL}")
    _makers[name] = maker


def is_personal(ref: str) -> bool:
    return ref in PERSONAL


def load_for(ref: str, storage: Any, user_id: str) -> Picture:
    """The picture ``ref`` names, a personal one drawn now for ``user_id`` (slow: call it in
    a worker thread). Raises KeyError when no feature makes that personal picture."""
    if not is_personal(ref):
        return load(ref)
    maker = _makers.get(ref)
    if maker is None:
        raise KeyError(f"no maker for the personal picture {ref!r}: is its feature loaded?")
    return Picture(ref, public_name(ref), maker(storage, user_id), "image/png")


def is_file(ref: str) -> bool:
    return Path(ref).suffix.lower() in SUFFIXES


def public_name(ref: str) -> str:
    if is_file(ref):
        return Path(ref).name
    return f"{ref.replace('_', '-')}.png"


@lru_cache(maxsize=32)
def load(ref: str) -> Picture:
    """The picture ``ref`` names. Raises KeyError for an unknown drawing, OSError for a file
    that cannot be read."""
    if not is_file(ref):
        if ref not in DRAWINGS:
            raise KeyError(f"no drawing named {ref!r}; drawings: {', '.join(DRAWINGS)}")
        from bot import drawings  # matplotlib: imported only when a drawing is needed

        picture = next(p for p in drawings.PICTURES if p.name == ref)
        return Picture(ref, public_name(ref), drawings.render(picture), "image/png")
    content = Path(ref).read_bytes()
    mime = "image/png" if content.startswith(b"\x89PNG") else "image/jpeg"
    return Picture(ref, public_name(ref), content, mime)


def write(ref: str, folder: Path, storage: Any = None, user_id: str = "") -> Path:
    """The picture as a file in ``folder`` (written when missing or changed); its path. A
    personal picture is drawn for ``user_id`` from ``storage``."""
    picture = load_for(ref, storage, user_id)
    path = folder / picture.name
    if not path.exists() or path.read_bytes() != picture.content:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(picture.content)
    return path


def check_file(path: Path) -> str | None:
    """What keeps this file from being sent as a Telegram photo, or None."""
    if not path.is_file():
        return f"no file {path}: put the PNG or JPEG there, or fix the name"
    size = path.stat().st_size
    if size > MAX_BYTES:
        return (
            f"{path} is {size / 1024 / 1024:.1f} MB; Telegram takes photos up to 10 MB: "
            "save it smaller (fewer pixels, or JPEG)"
        )
    try:
        with PilImage.open(path) as image:
            found, (width, height) = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        return f"{path} is not a PNG or JPEG picture that can be read ({error}): save it again as PNG or JPEG"
    if found not in FORMATS:
        return f"{path} is a {found} picture: save it as PNG or JPEG"
    if width + height > MAX_SIDES:
        return (
            f"{path} is {width}×{height} pixels; Telegram needs width + height of at most "
            f"{MAX_SIDES}: scale it down"
        )
    if max(width, height) > MAX_RATIO * min(width, height):
        return (
            f"{path} is {width}×{height} pixels, more than {MAX_RATIO} times as long as it is "
            "wide: crop it"
        )
    return None
