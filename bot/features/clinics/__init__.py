"""Clinics: rules (``rules``), store (``store``), broadcasts (``broadcast``), chat handlers (``chat``), command line (``cli``)."""

from __future__ import annotations

from bot.features import Feature
from bot.features.clinics.chat import (
    DECLINE,
    JOIN,
    LEAVE,
    SHARE,
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
    share_button,
    share_command,
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
            "share": share_command,
        },
        descriptions={
            "leave": "Stop messages from a clinic",
            "share": "Share your check-ins with your clinic, or stop",
        },
        buttons={
            JOIN: join_button,
            DECLINE: decline_button,
            LEAVE: leave_button,
            WIZARD: wizard_button,
            STOP: stop_button,
            SHARE: share_button,
        },
        jobs=[sweep_job],
        cli=add_cli,
        text=read_text,
    )
