"""Compact, versioned button data: what a button press means, in at most 64 bytes.

``1:hip:3:pain_now:o2`` is format 1, flow ``hip`` version 3, step ``pain_now``, option 2.
Kinds: ``b`` a step button, ``o`` a question option, ``d`` done (several choices), ``n``
none of these, ``m`` more tips. ``1:r:menu`` is a global route (valid from anywhere, at any version).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

FORMAT = "1"
MAX_BYTES = 64
STEP_KINDS = frozenset("bodnm")
MAX_DIGITS = 9  # ids, versions, positions and typed numbers: nothing real is longer


@dataclass(frozen=True, slots=True)
class StepPress:
    flow: str
    version: int
    step: str
    kind: str
    index: int


@dataclass(frozen=True, slots=True)
class RoutePress:
    command: str


def encode_step(flow: str, version: int, step: str, kind: str, index: int = 0) -> str:
    return f"{FORMAT}:{flow}:{version}:{step}:{kind}{index}"


def encode_route(command: str) -> str:
    return f"{FORMAT}:r:{command}"


@lru_cache(maxsize=4096)  # the same few hundred buttons are pressed over and over
def decode(data: str) -> StepPress | RoutePress | None:
    """The press a button's data stands for, or None when it does not parse."""
    parts = data.split(":")
    if len(data.encode()) > MAX_BYTES or not parts or parts[0] != FORMAT:
        return None
    if len(parts) == 3 and parts[1] == "r" and parts[2]:
        return RoutePress(parts[2])
    if len(parts) != 5:
        return None
    _, flow, version, step, press = parts
    number, index = small_number(version, ascii_only=True), small_number(press[1:], True)
    if number is None or index is None or press[:1] not in STEP_KINDS:
        return None
    return StepPress(flow, number, step, press[0], index)


def small_number(text: str, ascii_only: bool = False) -> int | None:
    """A whole number of at most ``MAX_DIGITS`` digits, or None. ``str.isdigit`` alone
    lets through what ``int`` cannot read (``²``, ``①``) and numbers no database column
    holds; decimal digits of any script (``٣``) count unless ``ascii_only``."""
    if not text.isdecimal() or len(text) > MAX_DIGITS or (ascii_only and not text.isascii()):
        return None
    return int(text)
