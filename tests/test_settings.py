"""Configuration: every variable checked in one place (bot/settings.py), each wrong value
named with what is accepted, read the same way (.env, then the environment) by every command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import NAMES, SECRETS, VARIABLES, RunSettings, load_settings

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "x" * 43 + "="  # 32 bytes of urlsafe base64, as 'hipbot keys new' prints


def hipbot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HIPBOT_", "TELEGRAM_")) and k != "DATABASE_URL"
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# every variable, a wrong value, and words of what it accepts
WRONG = [
    ("TELEGRAM_BOT_TOKEN", "no-colon-here", "like 123456:ABC-DEF"),
    ("TELEGRAM_API_BASE_URL", "ftp://x", "must start with http:// or https://"),
    ("DATABASE_URL", "mysql://db/hip", "sqlite:///path/to/hipbot.db or postgresql://"),
    ("HIPBOT_FLOWS", "/nonexistent", "an existing folder of flow files"),
    ("HIPBOT_EMERGENCY_NUMBER", "call 911", "use digits, e.g. 112, 911 or 999"),
    ("HIPBOT_URGENT_CARE", "<b>urgent</b>", "a short name or number for same-day care"),
    ("HIPBOT_MODE", "carrier-pigeon", "use 'polling' or 'webhook'"),
    ("HIPBOT_WEBHOOK_LISTEN", "every where", "an address to listen on"),
    ("HIPBOT_WEBHOOK_PORT", "99999", "a number from 1 to 65535"),
    ("HIPBOT_WEBHOOK_PATH", "telegram", "must start with '/'"),
    ("HIPBOT_WEBHOOK_URL", "bot.example.org", "must start with http:// or https://"),
    ("HIPBOT_WEB_URL", "clinic.example.org", "must start with http:// or https://"),
    ("HIPBOT_WEBHOOK_SECRET", "spaces are not ok", "1-256 characters of A-Z a-z 0-9 _ -"),
    ("HIPBOT_RATE_LIMIT", "fast", "more than 0 and at most 1000"),
    ("HIPBOT_LOG_FORMAT", "xml", "use 'text' or 'json'"),
    ("HIPBOT_METRICS_PORT", "0", "a number from 1 to 65535"),
    ("HIPBOT_HEALTH_STALL", "2", "a whole number from 5 to 86400"),
    ("HIPBOT_BOT_USERNAME", "@x", "4-32 of A-Z a-z 0-9 _"),
    ("HIPBOT_ALLOW_PAID_BROADCAST", "maybe", "use true or false"),
    ("HIPBOT_DATA_KEY", "not-a-key", "each as 'hipbot keys new' prints it"),
    ("HIPBOT_RETENTION_DAYS", "a year", "a whole number from 1 to 36500"),
]


@pytest.mark.parametrize(("name", "value", "accepted"), WRONG, ids=[w[0] for w in WRONG])
def test_each_wrong_value_names_the_variable_the_value_and_what_is_accepted(
    name: str, value: str, accepted: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({name: value})
    message = str(caught.value)
    shown = "(hidden)" if name in SECRETS else repr(value)
    assert message.startswith(f"{name}={shown} is not accepted: ")
    assert accepted in message
    if name in SECRETS:
        assert value not in message  # a secret is never echoed, even a wrong one


def test_every_variable_has_a_wrong_value_tested() -> None:
    paths = {"HIPBOT_DATA_DIR", "HIPBOT_DATA_KEY_FILE"}  # tested with real paths below
    assert {w[0] for w in WRONG} | paths == NAMES


def test_each_field_reads_the_variable_its_rule_is_for() -> None:
    from bot.settings import Settings

    aliases = {name: f.validation_alias for name, f in Settings.model_fields.items()}
    assert aliases == {v.field: v.name for v in VARIABLES}


def test_paths_of_the_wrong_kind_are_named(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(ConfigError, match=r"HIPBOT_DATA_DIR='.*file' is not accepted: a folder"):
        load_settings({"HIPBOT_DATA_DIR": str(a_file)})
    with pytest.raises(ConfigError, match=r"HIPBOT_DATA_KEY_FILE='.*' is not accepted: a file"):
        load_settings({"HIPBOT_DATA_KEY_FILE": str(tmp_path)})


def test_several_wrong_values_are_all_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"HIPBOT_MODE": "x", "HIPBOT_RATE_LIMIT": "y", "HIPBOT_LOG_FORMAT": "z"})
    message = str(caught.value)
    assert message.startswith("3 settings are not accepted:")
    assert all(name in message for name in ("HIPBOT_MODE", "HIPBOT_RATE_LIMIT", "HIPBOT_LOG_"))


def test_webhook_mode_needs_its_address_and_secret() -> None:
    with pytest.raises(ConfigError, match=r"HIPBOT_WEBHOOK_URL=''.*public https://"):
        load_settings({"HIPBOT_MODE": "webhook"})
    url = {"HIPBOT_MODE": "webhook", "HIPBOT_WEBHOOK_URL": "https://bot.example.org"}
    with pytest.raises(ConfigError, match="HIPBOT_WEBHOOK_SECRET must be set in webhook mode"):
        load_settings(url)
    assert load_settings({**url, "HIPBOT_WEBHOOK_SECRET": "s3cret"}).mode == "webhook"


@pytest.mark.parametrize(("value", "meant"), [("true", True), ("YES", True), ("0", False)])
def test_accepted_values_are_read(value: str, meant: bool) -> None:
    settings = load_settings(
        {
            "HIPBOT_ALLOW_PAID_BROADCAST": value,
            "HIPBOT_METRICS_PORT": " 9100 ",
            "HIPBOT_RATE_LIMIT": "12.5",
            "HIPBOT_MODE": "Webhook",
            "HIPBOT_WEBHOOK_URL": "https://bot.example.org",
            "HIPBOT_WEBHOOK_SECRET": "s",
            "HIPBOT_DATA_KEY": f"{GOOD_KEY},{GOOD_KEY}",
            "HIPBOT_BOT_USERNAME": "@HipHelpBot",
        }
    )
    assert settings.allow_paid_broadcast is meant
    assert (settings.metrics_port, settings.rate_limit, settings.mode) == (9100, 12.5, "webhook")
    assert settings.bot_username == "HipHelpBot"
    assert GOOD_KEY not in repr(settings)  # secrets stay out of logs and tracebacks


def test_unset_and_empty_variables_take_the_defaults() -> None:
    settings = load_settings({"HIPBOT_MODE": "", "HIPBOT_RETENTION_DAYS": "  "})
    assert (settings.mode, settings.retention_days, settings.metrics_port) == ("polling", 365, None)
    assert settings.urgent_care == "your doctor" and settings.emergency_number == "112"
    assert settings.database_url == "sqlite:///data/hipbot.db"
    assert load_settings({"HIPBOT_DATA_DIR": "/srv/hip"}).database_url == (
        "sqlite:////srv/hip/hipbot.db"
    )


def test_the_features_settings_are_read_and_checked_with_the_others() -> None:
    with pytest.raises(ConfigError, match="HIPBOT_ALLOW_PAID_BROADCAST='maybe'"):
        load_settings({"HIPBOT_ALLOW_PAID_BROADCAST": "maybe"})
    with pytest.raises(ConfigError, match="HIPBOT_RATE_LIMIT='0'"):
        load_settings({"HIPBOT_RATE_LIMIT": "0"})  # was silently 30
    assert load_settings({"HIPBOT_RETENTION_DAYS": "30"}).retention_days == 30
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN is not set"):
        RunSettings.from_env({})


def test_dot_env_is_read_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("HIPBOT_RETENTION_DAYS=30\nHIPBOT_EMERGENCY_NUMBER=999\n")
    monkeypatch.setenv("HIPBOT_EMERGENCY_NUMBER", "911")
    settings = load_settings()
    assert (settings.retention_days, settings.emergency_number) == (30, "911")
    (tmp_path / ".env").write_text("HIPBOT_ALLOW_PAID_BROADCAST=maybe\n")
    with pytest.raises(ConfigError, match="HIPBOT_ALLOW_PAID_BROADCAST='maybe'"):
        load_settings()


def test_db_upgrade_reads_dot_env_like_every_command(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"DATABASE_URL=sqlite:///{tmp_path / 'from-env.db'}\n")
    result = hipbot("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-env.db").is_file()
    assert not (tmp_path / "data").exists()


def test_a_command_stops_on_a_wrong_variable_with_its_name(tmp_path: Path) -> None:
    result = hipbot("validate", cwd=tmp_path, HIPBOT_FLOWS="/nonexistent")
    assert result.returncode == 2
    assert "HIPBOT_FLOWS='/nonexistent' is not accepted" in result.stderr
    paid = hipbot("chat", cwd=tmp_path, HIPBOT_ALLOW_PAID_BROADCAST="maybe")
    assert paid.returncode == 2 and "HIPBOT_ALLOW_PAID_BROADCAST='maybe'" in paid.stderr


# os.environ outside bot/settings.py, each for a reason that is not hipbot's configuration
ALLOWED_ENVIRON = {
    "bot/lint.py": 3,  # XDG_CACHE_HOME and NLTK_DATA: where the lint tools keep their data
    "bot/telegram/app.py": 1,  # PTB_TIMEDELTA, a switch for the library
}


def test_no_module_but_settings_reads_the_environment() -> None:
    found: dict[str, int] = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        if path.name == "settings.py":
            continue
        count = len(re.findall(r"os\.environ|getenv\(", path.read_text()))
        if count:
            found[str(path.relative_to(ROOT))] = count
    assert found == ALLOWED_ENVIRON


def _readme_rows() -> list[str]:
    text = (ROOT / "README.md").read_text()
    table = text.split("| variable | default | meaning |", 1)[1].split("\n\n", 1)[0]
    return [line for line in table.splitlines() if line.startswith("| `")]


def test_the_readme_table_has_one_row_per_variable_as_settings_define_it() -> None:
    def cell(default: str) -> str:
        return default if default.startswith("—") else f"`{default}`"

    expected = [f"| `{v.name}` | {cell(v.default)} | {v.meaning} |" for v in VARIABLES]
    assert _readme_rows() == expected
