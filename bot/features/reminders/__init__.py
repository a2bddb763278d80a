"""Reminders: rules (``rules``), their store (``store``), the chat side (``chat``) and ``hipbot reminders`` (``cli``)."""

from __future__ import annotations

from bot.features import Feature
from bot.features.reminders.chat import (
    list_reminders,
    press,
    set_timezone,
    setup,
    stores,
    sweep,
)
from bot.features.reminders.cli import add_cli
from bot.features.reminders.store import BUTTON_KEY


def feature() -> Feature:
    """The reminders feature, as ``bot.features.load_features`` wires it."""
    return Feature(
        name="reminders",
        stores=stores,
        setup=setup,
        commands={"reminders": list_reminders, "timezone": set_timezone},
        descriptions={
            "reminders": "My reminders: see, change or stop them",
            "timezone": "Set my time zone, like /timezone Berlin",
        },
        buttons={BUTTON_KEY: press},
        jobs=[sweep],
        cli=add_cli,
    )
