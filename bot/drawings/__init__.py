"""Pictures for the flows, drawn in code with matplotlib (Agg, offline, no pyplot).

Each picture is one function of the label texts (``labels.LABELS``, or a translation with the
same keys) returning PNG bytes. Same code and same matplotlib give the same bytes: fixed
sizes and DPI, no randomness, no date in the metadata. ``hipbot pictures`` writes them all;
the PNGs are build output, never committed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.drawings import hip, people, style
from bot.drawings.labels import ALT_TEXTS, LABELS


@dataclass(frozen=True)
class Picture:
    name: str  # also the alt text key
    size: tuple[int, int]  # width, height in pixels
    draw: Callable[[Mapping[str, str]], bytes]

    @property
    def file_name(self) -> str:
        return f"{self.name.replace('_', '-')}.png"


PICTURES: tuple[Picture, ...] = (
    Picture("hip_normal", style.SQUARE, hip.normal),
    Picture("hip_cam", style.SQUARE, hip.cam),
    Picture("hip_pincer", style.SQUARE, hip.pincer),
    Picture("hip_both", style.SQUARE, hip.both),
    Picture("pain_where", style.WIDE, people.pain_where),
    Picture("sitting", style.WIDE, people.sitting),
    Picture("car", style.WIDE, people.car),
    Picture("sleeping", style.WIDE, people.sleeping),
)


def render(picture: Picture, labels: Mapping[str, str] = LABELS) -> bytes:
    return picture.draw(labels)


def alt_text(picture: Picture, alt_texts: Mapping[str, str] = ALT_TEXTS) -> str:
    return alt_texts[picture.name]


def render_all(folder: Path, labels: Mapping[str, str] = LABELS) -> list[Path]:
    """Write every picture into ``folder`` (created if missing); the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for picture in PICTURES:
        path = folder / picture.file_name
        path.write_bytes(render(picture, labels))
        written.append(path)
    return written
