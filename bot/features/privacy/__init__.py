"""Privacy: the policy and data rules (``rules``), consent, /mydata, /delete, retention and red-flag alerts in the chat (``chat``), ``hipbot purge/keys/alerts`` (``cli``)."""

from __future__ import annotations

from bot.features import Feature
from bot.features.privacy.chat import (
    KEY,
    delete_button,
    delete_command,
    mydata_command,
    privacy_command,
    purge_job,
    setup,
)
from bot.features.privacy.cli import add_cli


def feature() -> Feature:
    """The privacy feature, as ``bot.features.load_features`` wires it."""
    return Feature(
        name="privacy",
        setup=setup,
        commands={"privacy": privacy_command, "mydata": mydata_command, "delete": delete_command},
        descriptions={
            "privacy": "What I keep about you, and why",
            "mydata": "Get a copy of all I keep about you",
            "delete": "Erase all I keep about you",
        },
        buttons={KEY: delete_button},
        jobs=[purge_job],
        cli=add_cli,
    )
