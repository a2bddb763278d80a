"""What the reading-level lints measure: one text a person reads (``bot.lint`` for English,
``bot.lint_languages`` for the others), and how many words fit on a phone screen."""

from __future__ import annotations

from dataclasses import dataclass

MAX_WORDS = 80  # about one phone screen of chat text


@dataclass(frozen=True)
class Message:
    """One text a person reads, cleaned for measuring."""

    topic: str
    where: str  # breadcrumb, e.g. "flows/hip.yaml > steps.learn_cam > say[0]"
    text: str


def words(text: str) -> int:
    return len(text.split())
