"""Asking Telegram who the bot is: the one call ``hipbot doctor --online`` makes."""

from __future__ import annotations


def who_am_i_url(api_base_url: str, token: str) -> str:
    """The Bot API address that answers with the bot's own user when the token works."""
    return f"{api_base_url}{token}/getMe"
