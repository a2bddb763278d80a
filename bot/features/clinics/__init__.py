"""Clinics: rules (``rules``), store (``store``), broadcasts (``broadcast``), chat handlers (``chat``), command line (``cli``)."""

from __future__ import annotations

from bot.features import Feature
from bot.features.clinics.chat import (
    DECLINE,
    JOIN,
    LEAVE,
    STOP,
    WIZARD,
    broadcast_command,
    broadcasts_command,
    cancel_command,
    decline_button,
    join_button,
    leave_button,
    leave_command,
    login_command,
    read_text,
    setup,
    stats_command,
    stop_button,
    sweep_job,
    wizard_button,
)
from bot.features.clinics.cli import add_cli


def feature() -> Feature:
    """The clinics feature, as ``bot.features.load_features`` wires it."""
    return Feature(
        name="clinics",
        setup=setup,
        commands={
            "leave": leave_command,
            "broadcast": broadcast_command,
            "broadcasts": broadcasts_command,
            "cancel": cancel_command,
            "stats": stats_command,
            "login": login_command,
        },
        descriptions={"leave": "Stop messages from a clinic"},
        buttons={
            JOIN: join_button,
            DECLINE: decline_button,
            LEAVE: leave_button,
            WIZARD: wizard_button,
            STOP: stop_button,
        },
        jobs=[sweep_job],
        cli=add_cli,
        text=read_text,
    )
