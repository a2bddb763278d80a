"""Configuration: every environment variable, read and checked in one place.

``load_settings()`` reads the environment and a ``.env`` file in the working folder (the
environment wins), the same way for every command, and returns a checked ``Settings``.
``load_settings(env)`` reads only the mapping given (tests, other processes' settings).

Every wrong value fails with one sentence per problem that names the variable, the value
(secrets are not echoed) and what is accepted; all problems are reported at once. An empty
value counts as unset. The variables, their defaults and meaning are in ``VARIABLES`` (the
README's configuration table lists the same ones).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError

REPO_FLOWS = Path(__file__).resolve().parent.parent / "flows"
DEFAULT_API = "https://api.telegram.org/bot"
DEFAULT_URGENT_CARE = "your doctor"
URGENT_CARE_TEXT = re.compile(r"^[\w .,'()/+-]{1,40}$")
BOTFATHER_HELP = (
    "TELEGRAM_BOT_TOKEN is not set. To get one: open Telegram, talk to @BotFather, send "
    "/newbot and follow the steps; it answers with a token like 123456:ABC-DEF. Put it in a "
    ".env file (TELEGRAM_BOT_TOKEN=...) or the environment. To try the bot without Telegram, "
    "run: hipbot chat"
)
SECRETS = frozenset({"TELEGRAM_BOT_TOKEN", "HIPBOT_WEBHOOK_SECRET", "HIPBOT_DATA_KEY"})
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")

_TOKEN = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{1,200}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$")
_DATABASES = ("sqlite://", "postgresql://", "postgres://", "memory://")


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError("a port: a number from 1 to 65535")
    return int(text)


def _whole(low: int, high: int, what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not text.isdigit() or not low <= int(text) <= high:
            raise ValueError(f"{what}, a whole number from {low} to {high}")
        return int(text)

    return parse


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.lower() not in allowed:
            quoted = [f"'{a}'" for a in allowed]
            raise ValueError("use " + ", ".join(quoted[:-1]) + " or " + quoted[-1])
        return text.lower()

    return parse


def _flag(text: str) -> bool:
    if text.lower() in TRUE:
        return True
    if text.lower() in FALSE:
        return False
    raise ValueError("use true or false (also 1/0, yes/no, on/off)")


def _rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        rate = -1.0
    if not 0 < rate <= 1000:
        raise ValueError(
            "messages a second, more than 0 and at most 1000 (30 is Telegram's free limit)"
        )
    return rate


def _token(text: str) -> str:
    if not _TOKEN.match(text):
        raise ValueError("a bot token as @BotFather gives it, like 123456:ABC-DEF...")
    return text


def _api_base(text: str) -> str:
    if not text.startswith(("http://", "https://")) or " " in text:
        raise ValueError(
            f"an address that must start with http:// or https:// (e.g. {DEFAULT_API})"
        )
    return text


def _database(text: str) -> str:
    if not text.startswith(_DATABASES):
        raise ValueError("sqlite:///path/to/hipbot.db or postgresql://user@host/db")
    return text


def _folder_or_file(text: str) -> str:
    if not Path(text).exists():
        raise ValueError("an existing folder of flow files (this path does not exist)")
    return text


def _data_dir(text: str) -> Path:
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise ValueError("a folder (this path is a file)")
    return path


def _key_file(text: str) -> str:
    if Path(text).is_dir():
        raise ValueError("a file with one key a line (this path is a folder)")
    return text


def _data_key(text: str) -> str:
    from cryptography.fernet import Fernet

    for key in text.split(","):
        try:
            Fernet(key.strip().encode())
        except ValueError:
            raise ValueError(
                "one or more keys, comma-separated, each as 'hipbot keys new' prints it "
                "(44 characters)"
            ) from None
    return text


def _emergency(text: str) -> str:
    if not text.replace(" ", "").isdigit() or len(text) > 6:
        raise ValueError("a phone number: use digits, e.g. 112, 911 or 999")
    return text


def _urgent_care(text: str) -> str:
    text = " ".join(text.split())
    if not URGENT_CARE_TEXT.match(text) or not any(c.isalnum() for c in text):
        raise ValueError(
            "a short name or number for same-day care, up to 40 letters, digits and spaces, "
            "e.g. NHS 111, 116117 or your doctor"
        )
    return text


def _path(text: str) -> str:
    if not text.startswith("/") or " " in text:
        raise ValueError("a path that must start with '/' (e.g. /telegram)")
    return text


def _listen(text: str) -> str:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        if not _HOST.match(text):
            raise ValueError("an address to listen on, e.g. 0.0.0.0, :: or 127.0.0.1") from None
    return text


def _webhook_url(text: str) -> str:
    return _api_base(text)


def _webhook_secret(text: str) -> str:
    if not _SECRET.match(text):
        raise ValueError("1-256 characters of A-Z a-z 0-9 _ -")
    return text


BOT_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")


def check_bot_username(name: str) -> str:
    """A bot's username as @BotFather shows it (a leading @ is dropped), or ValueError."""
    name = name.strip().lstrip("@")
    if not BOT_USERNAME.match(name):
        raise ValueError(
            f"bot username {name!r} is not accepted: 4-32 of A-Z a-z 0-9 _, starting with a "
            "letter, as @BotFather shows it (without the @)"
        )
    return name


def _bot_username(text: str) -> str:
    try:
        return check_bot_username(text)
    except ValueError:
        raise ValueError(
            "the bot's username as @BotFather shows it: 4-32 of A-Z a-z 0-9 _, starting with "
            "a letter (the @ may be left out)"
        ) from None


@dataclass(frozen=True)
class Variable:
    name: str
    field: str
    parse: Callable[[str], Any]
    default: str  # as the README shows it
    meaning: str


VARIABLES: tuple[Variable, ...] = (
    Variable("TELEGRAM_BOT_TOKEN", "token", _token, "—", "required by `hipbot run` (from @BotFather)"),
    Variable("TELEGRAM_API_BASE_URL", "api_base_url", _api_base, DEFAULT_API, "a self-hosted Bot API server (or the test fake)"),
    Variable("DATABASE_URL", "database", _database, "sqlite:///data/hipbot.db", "where sessions, answers and the outbox live"),
    Variable("HIPBOT_DATA_DIR", "data_dir", _data_dir, "./data", "the folder of the default SQLite file and files `hipbot` writes (QR codes)"),
    Variable("HIPBOT_FLOWS", "flows", _folder_or_file, "./flows", "the folder of flow files"),
    Variable("HIPBOT_EMERGENCY_NUMBER", "emergency_number", _emergency, "112", "the number red-flag answers tell people to call (911, 999, ...)"),
    Variable("HIPBOT_URGENT_CARE", "urgent_care", _urgent_care, DEFAULT_URGENT_CARE, "who to call for same-day care that is not an emergency, as the answers say it (\"call {urgent_care} today\"): `NHS 111`, `116117`, `an urgent care centre`; up to 40 letters, digits and spaces"),
    Variable("HIPBOT_MODE", "mode", _choice("polling", "webhook"), "polling", "`polling`, or `webhook` (then `HIPBOT_WEBHOOK_URL` and `HIPBOT_WEBHOOK_SECRET` are needed)"),
    Variable("HIPBOT_WEBHOOK_LISTEN", "listen", _listen, "0.0.0.0", "webhook mode: the address to listen on"),
    Variable("HIPBOT_WEBHOOK_PORT", "port", _port, "8080", "webhook mode: the port to listen on"),
    Variable("HIPBOT_WEBHOOK_PATH", "webhook_path", _path, "/telegram", "webhook mode: the path Telegram posts to"),
    Variable("HIPBOT_WEBHOOK_URL", "public_url", _webhook_url, "—", "webhook mode: the public https:// address Telegram posts to"),
    Variable("HIPBOT_WEBHOOK_SECRET", "webhook_secret", _webhook_secret, "—", "webhook mode: the secret Telegram sends with each update (1-256 of A-Z a-z 0-9 _ -)"),
    Variable("HIPBOT_RATE_LIMIT", "rate_limit", _rate, "30", "messages a second to Telegram, all chats together (up to 1000 with paid broadcasts)"),
    Variable("HIPBOT_LOG_FORMAT", "log_format", _choice("text", "json"), "text", "`json` in production: one object a line, event types and hashed ids, never message text; both start with the UTC time and keep tracebacks (without the exception's message)"),
    Variable("HIPBOT_METRICS_PORT", "metrics_port", _port, "—", "polling mode: serve `/metrics` (Prometheus) and `/healthz` on this port (on `HIPBOT_WEBHOOK_LISTEN`); webhook mode serves both on the webhook port"),
    Variable("HIPBOT_HEALTH_STALL", "stall_seconds", _whole(5, 86400, "seconds that due messages may wait unsent before /healthz reports unhealthy"), "120", "seconds due messages may wait with nothing sent before `/healthz` answers 503"),
    Variable("HIPBOT_BOT_USERNAME", "bot_username", _bot_username, "—", "the bot's username, for the join links `hipbot clinic link` prints (or `--bot`)"),
    Variable("HIPBOT_WEB_URL", "web_url", _api_base, "—", "where staff open `hipbot web` (https://...): the sign-in code message links to its `/clinic/login`"),
    Variable("HIPBOT_ALLOW_PAID_BROADCAST", "allow_paid_broadcast", _flag, "false", "`true`: clinic broadcasts carry `allow_paid_broadcast` (Telegram then allows up to 1000 a second, for a fee; raise `HIPBOT_RATE_LIMIT` to match)"),
    Variable("HIPBOT_DATA_KEY", "data_key", _data_key, "—", "the key that seals answers at rest (`hipbot keys new`); several, comma-separated: the first seals, all open"),
    Variable("HIPBOT_DATA_KEY_FILE", "data_key_file", _key_file, "<database>.key", "a file with the key(s) instead, one a line (made on first use; in production mount it from a secret store, not the data volume; PostgreSQL needs this or `HIPBOT_DATA_KEY`)"),
    Variable("HIPBOT_RETENTION_DAYS", "retention_days", _whole(1, 36500, "whole days of inactivity after which a person's data is erased"), "365", "people with no message for longer are erased"),
)  # fmt: skip
BY_FIELD = {v.field: v for v in VARIABLES}
NAMES = frozenset(v.name for v in VARIABLES)


class Settings(BaseSettings):
    """Every setting, checked. Unset variables keep the defaults below."""

    model_config = SettingsConfigDict(
        case_sensitive=True,
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        validate_default=False,
    )

    token: str = Field("", validation_alias="TELEGRAM_BOT_TOKEN", repr=False)
    api_base_url: str = Field(DEFAULT_API, validation_alias="TELEGRAM_API_BASE_URL")
    database: str = Field("", validation_alias="DATABASE_URL")
    data_dir: Path = Field(Path("data"), validation_alias="HIPBOT_DATA_DIR")
    flows: str = Field("", validation_alias="HIPBOT_FLOWS")
    emergency_number: str = Field("112", validation_alias="HIPBOT_EMERGENCY_NUMBER")
    urgent_care: str = Field(DEFAULT_URGENT_CARE, validation_alias="HIPBOT_URGENT_CARE")
    mode: Literal["polling", "webhook"] = Field("polling", validation_alias="HIPBOT_MODE")
    listen: str = Field("0.0.0.0", validation_alias="HIPBOT_WEBHOOK_LISTEN")
    port: int = Field(8080, validation_alias="HIPBOT_WEBHOOK_PORT")
    webhook_path: str = Field("/telegram", validation_alias="HIPBOT_WEBHOOK_PATH")
    public_url: str = Field("", validation_alias="HIPBOT_WEBHOOK_URL")
    webhook_secret: str = Field("", validation_alias="HIPBOT_WEBHOOK_SECRET", repr=False)
    rate_limit: float = Field(30.0, validation_alias="HIPBOT_RATE_LIMIT")
    log_format: Literal["json", "text"] = Field("text", validation_alias="HIPBOT_LOG_FORMAT")
    metrics_port: int | None = Field(None, validation_alias="HIPBOT_METRICS_PORT")
    stall_seconds: float = Field(120.0, validation_alias="HIPBOT_HEALTH_STALL")
    bot_username: str = Field("", validation_alias="HIPBOT_BOT_USERNAME")
    allow_paid_broadcast: bool = Field(False, validation_alias="HIPBOT_ALLOW_PAID_BROADCAST")
    web_url: str = Field("", validation_alias="HIPBOT_WEB_URL")
    data_key: str = Field("", validation_alias="HIPBOT_DATA_KEY", repr=False)
    data_key_file: str = Field("", validation_alias="HIPBOT_DATA_KEY_FILE")
    retention_days: int = Field(365, validation_alias="HIPBOT_RETENTION_DAYS")

    @field_validator("*", mode="before")
    @classmethod
    def _parse(cls, value: Any, info: ValidationInfo) -> Any:
        """Each variable's own check; its ValueError says what is accepted."""
        if not isinstance(value, str):
            return value  # a default, or a value given in code
        return BY_FIELD[str(info.field_name)].parse(value.strip())

    @model_validator(mode="after")
    def _webhook_needs(self) -> Settings:
        if self.mode != "webhook":
            return self
        if not self.public_url.startswith("https://") and not self.public_url.startswith(
            "http://127."
        ):
            raise ValueError(
                f"HIPBOT_WEBHOOK_URL={self.public_url!r}: webhook mode needs the public "
                "https:// address Telegram will post to"
            )
        if not self.webhook_secret:
            raise ValueError(
                "HIPBOT_WEBHOOK_SECRET must be set in webhook mode: 1-256 characters of "
                "A-Z a-z 0-9 _ -"
            )
        return self

    # ------------------------------------------------------------ derived values

    @property
    def flows_dir(self) -> str:
        """``$HIPBOT_FLOWS``, else ./flows, else the flows shipped beside the package."""
        if self.flows:
            return self.flows
        return "flows" if Path("flows").is_dir() else str(REPO_FLOWS)

    @property
    def database_url(self) -> str:
        """``$DATABASE_URL``, else a SQLite file in the data folder (``./data/hipbot.db``)."""
        return self.database or f"sqlite:///{self.data_dir / 'hipbot.db'}"

    def run_settings(self) -> RunSettings:
        """What ``hipbot run`` needs; a missing token is an error here only."""
        if not self.token:
            raise ConfigError(BOTFATHER_HELP)
        return RunSettings(
            token=self.token,
            api_base_url=self.api_base_url,
            database_url=self.database_url,
            flows_dir=self.flows_dir,
            emergency_number=self.emergency_number,
            mode=self.mode,
            listen=self.listen,
            port=self.port,
            webhook_path=self.webhook_path,
            public_url=self.public_url,
            webhook_secret=self.webhook_secret,
            rate_limit=self.rate_limit,
            log_format=self.log_format,
            metrics_port=self.metrics_port,
            stall_seconds=self.stall_seconds,
        )

    @classmethod
    def from_env(cls) -> Settings:
        return load_settings()


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The checked settings: from ``env`` alone, or (None) the environment and ./.env.

    Raises ``ConfigError`` naming every wrong variable, its value and what it accepts."""
    try:
        if env is None:
            return Settings(_env_file=Path.cwd() / ".env", _env_file_encoding="utf-8")  # type: ignore[call-arg]
        given = {k: v for k, v in env.items() if k in NAMES and v.strip()}
        return Settings.model_validate(given)
    except ValidationError as error:
        raise ConfigError(explain(error)) from None


def explain(error: ValidationError) -> str:
    """One sentence per wrong variable: its name, its value and what it accepts."""
    lines = []
    for problem in error.errors():
        message = str(problem["msg"]).removeprefix("Value error, ")
        if not problem["loc"]:
            lines.append(message)
            continue
        name = str(problem["loc"][0])
        value = "(hidden)" if name in SECRETS else repr(problem["input"])
        lines.append(f"{name}={value} is not accepted: {message}")
    if len(lines) == 1:
        return lines[0]
    return f"{len(lines)} settings are not accepted:\n  " + "\n  ".join(lines)


def load_dotenv_file() -> None:
    """Put ./.env into the environment (the environment wins), for code that reads it
    itself (the data key); ``hipbot`` does this once, before any command."""
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)


# ---------------------------------------------------------------- the names other code uses


def default_flows_dir(env: Mapping[str, str] | None = None) -> str:
    return load_settings(env).flows_dir


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    return load_settings(env).data_dir


def default_database_url(env: Mapping[str, str] | None = None) -> str:
    return load_settings(env).database_url


def emergency_number(env: Mapping[str, str] | None = None) -> str:
    return load_settings(env).emergency_number


def urgent_care(env: Mapping[str, str] | None = None) -> str:
    return load_settings(env).urgent_care


def data_key_settings(env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """``HIPBOT_DATA_KEY`` and ``HIPBOT_DATA_KEY_FILE`` ("" when unset), checked."""
    settings = load_settings(env)
    return settings.data_key, settings.data_key_file


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
        return load_settings(env).run_settings()
