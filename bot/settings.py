"""Configuration from the environment (and a .env file), checked at start.

Every wrong value fails with a sentence that names the variable and what it accepts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ConfigError

REPO_FLOWS = Path(__file__).resolve().parent.parent / "flows"


def default_flows_dir() -> str:
    """``$HIPBOT_FLOWS``, else ./flows, else the flows shipped beside the package."""
    if os.environ.get("HIPBOT_FLOWS"):
        return os.environ["HIPBOT_FLOWS"]
    return "flows" if Path("flows").is_dir() else str(REPO_FLOWS)


def default_data_dir() -> Path:
    return Path(os.environ.get("HIPBOT_DATA_DIR", "data"))


def default_database_url() -> str:
    """``$DATABASE_URL``, else a SQLite file in the data directory (``./data/hipbot.db``)."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{default_data_dir() / 'hipbot.db'}"


def load_dotenv_file() -> None:
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)


def emergency_number() -> str:
    value = os.environ.get("HIPBOT_EMERGENCY_NUMBER", "112").strip()
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
