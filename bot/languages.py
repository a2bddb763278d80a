"""The languages hipbot speaks, and how a person's language is picked.

Every patient-facing text exists in each of ``SUPPORTED``; ``hipbot validate`` names any text
that lacks one. A person's language comes from their Telegram ``language_code`` (or the
browser's ``Accept-Language``) at first contact and can be changed with ``/language``.

Adding a language: add its code and its own name here, then translate what
``hipbot validate flows/`` lists as missing (README, "Adding a language").
"""

from __future__ import annotations

from bot.model import DEFAULT_LANGUAGE

SUPPORTED: tuple[str, ...] = ("en", "es", "de")
"""Language codes, English first (the fallback)."""

NATIVE_NAMES: dict[str, str] = {"en": "English", "es": "Español", "de": "Deutsch"}
"""Each language's name in that language (the ``/language`` buttons)."""


def pick(code: str | None) -> str:
    """The supported language for a tag like ``es``, ``de-AT`` or ``pt-BR`` (else English)."""
    if not code:
        return DEFAULT_LANGUAGE
    base = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return base if base in SUPPORTED else DEFAULT_LANGUAGE


def from_accept_language(header: str | None) -> str:
    """The best supported language in an HTTP ``Accept-Language`` header (else English)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag and weight > 0:
            ranked.append((-weight, position, tag))
    for _, _, tag in sorted(ranked):
        base = tag.split("-", 1)[0].lower()
        if base in SUPPORTED:
            return base
    return DEFAULT_LANGUAGE
