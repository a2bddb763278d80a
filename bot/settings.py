"""Configuration from the environment (and a .env file), checked at start.

Every wrong value fails with a sentence that names the variable and what it accepts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ConfigError

REPO_FLOWS = Path(__file__).resolve().parent.parent / "flows"


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def default_flows_dir(env: Mapping[str, str] | None = None) -> str:
    """``$HIPBOT_FLOWS``, else ./flows, else the flows shipped beside the package."""
    if _env(env).get("HIPBOT_FLOWS"):
        return _env(env)["HIPBOT_FLOWS"]
    return "flows" if Path("flows").is_dir() else str(REPO_FLOWS)


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    return Path(_env(env).get("HIPBOT_DATA_DIR", "data"))


def default_database_url(env: Mapping[str, str] | None = None) -> str:
    """``$DATABASE_URL``, else a SQLite file in the data directory (``./data/hipbot.db``)."""
    return _env(env).get("DATABASE_URL") or f"sqlite:///{default_data_dir(env) / 'hipbot.db'}"


def load_dotenv_file() -> None:
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)


def emergency_number(env: Mapping[str, str] | None = None) -> str:
    value = _env(env).get("HIPBOT_EMERGENCY_NUMBER", "112").strip()
    if not value or not value.replace(" ", "").isdigit() or len(value) > 6:
        raise ConfigError(
            f"HIPBOT_EMERGENCY_NUMBER={value!r} is not a phone number: use digits, e.g. 112, 911 or 999"
        )
    return value


@dataclass(frozen=True)
class Settings:
    flows_dir: str
    database_url: str
    emergency_number: str

    @classmethod
    def from_env(cls) -> Settings:
        return cls(default_flows_dir(), default_database_url(), emergency_number())


_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
BOTFATHER_HELP = (
    "TELEGRAM_BOT_TOKEN is not set. To get one: open Telegram, talk to @BotFather, send "
    "/newbot and follow the steps; it answers with a token like 123456:ABC-DEF. Put it in a "
    ".env file (TELEGRAM_BOT_TOKEN=...) or the environment. To try the bot without Telegram, "
    "run: hipbot chat"
)


@dataclass(frozen=True)
class RunSettings:
    """Everything ``hipbot run`` needs, read from the environment and checked at start."""

    token: str
    api_base_url: str
    database_url: str
    flows_dir: str
    emergency_number: str
    mode: str  # polling | webhook
    listen: str
    port: int
    webhook_path: str
    public_url: str
    webhook_secret: str
    rate_limit: float  # messages a second to Telegram, all chats together
    log_format: str  # json | text
    metrics_port: int | None = None  # polling mode: /metrics and /healthz here (None: off)
    stall_seconds: float = 120.0  # /healthz fails when due rows wait this long unsent

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RunSettings:
        env = os.environ if env is None else env
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
        if not token:
            raise ConfigError(BOTFATHER_HELP)
        if ":" not in token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN does not look like a bot token (expected '123456:ABC...' "
                "as @BotFather gives it)"
            )
        base = env.get("TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot").strip()
        if not base.startswith(("http://", "https://")):
            raise ConfigError(
                f"TELEGRAM_API_BASE_URL={base!r} must start with http:// or https:// "
                "(e.g. https://api.telegram.org/bot)"
            )
        mode = env.get("HIPBOT_MODE", "polling").strip().lower()
        if mode not in ("polling", "webhook"):
            raise ConfigError(f"HIPBOT_MODE={mode!r} is not accepted: use 'polling' or 'webhook'")
        port_text = env.get("HIPBOT_WEBHOOK_PORT", "8080").strip()
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigError(
                f"HIPBOT_WEBHOOK_PORT={port_text!r} is not a port: use a number from 1 to 65535"
            )
        path = env.get("HIPBOT_WEBHOOK_PATH", "/telegram").strip() or "/telegram"
        if not path.startswith("/"):
            raise ConfigError(f"HIPBOT_WEBHOOK_PATH={path!r} must start with '/'")
        public = env.get("HIPBOT_WEBHOOK_URL", "").strip()
        secret = env.get("HIPBOT_WEBHOOK_SECRET", "").strip()
        if mode == "webhook":
            if not public.startswith("https://") and not public.startswith("http://127."):
                raise ConfigError(
                    f"HIPBOT_WEBHOOK_URL={public!r}: webhook mode needs the public https:// "
                    "address Telegram will post to"
                )
            if not _SECRET.match(secret):
                raise ConfigError(
                    "HIPBOT_WEBHOOK_SECRET must be set in webhook mode: 1-256 characters of "
                    "A-Z a-z 0-9 _ -"
                )
        rate_text = env.get("HIPBOT_RATE_LIMIT", "30").strip()
        try:
            rate = float(rate_text)
        except ValueError:
            rate = -1.0
        if not 0 < rate <= 1000:
            raise ConfigError(
                f"HIPBOT_RATE_LIMIT={rate_text!r} is not accepted: messages a second, "
                "more than 0 and at most 1000 (30 is Telegram's free limit)"
            )
        log_format = env.get("HIPBOT_LOG_FORMAT", "text").strip().lower()
        if log_format not in ("json", "text"):
            raise ConfigError(f"HIPBOT_LOG_FORMAT={log_format!r}: use 'json' or 'text'")
        metrics_port = _optional_port(env, "HIPBOT_METRICS_PORT")
        stall_text = env.get("HIPBOT_HEALTH_STALL", "120").strip()
        try:
            stall = float(stall_text)
        except ValueError:
            stall = -1.0
        if not 5 <= stall <= 86400:
            raise ConfigError(
                f"HIPBOT_HEALTH_STALL={stall_text!r} is not accepted: seconds from 5 to 86400 "
                "that due messages may wait unsent before /healthz reports unhealthy"
            )
        from bot.privacy import retention_days

        retention_days(env)  # checked here, so a wrong value stops the start, not a daily job
        return cls(
            token=token,
            api_base_url=base,
            database_url=default_database_url(env),
            flows_dir=default_flows_dir(env),
            emergency_number=emergency_number(env),
            mode=mode,
            listen=env.get("HIPBOT_WEBHOOK_LISTEN", "0.0.0.0").strip(),
            port=int(port_text),
            webhook_path=path,
            public_url=public,
            webhook_secret=secret,
            rate_limit=rate,
            log_format=log_format,
            metrics_port=metrics_port,
            stall_seconds=stall,
        )


def _optional_port(env: Mapping[str, str], name: str) -> int | None:
    """A TCP port, or None when the variable is unset or empty."""
    text = env.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigError(f"{name}={text!r} is not a port: use a number from 1 to 65535")
    return int(text)
