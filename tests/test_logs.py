"""Log lines (issue 11): a UTC timestamp in both formats, the traceback of an error in both
(the text format printed only the class), and never the exception's message."""

from __future__ import annotations

import json
import logging

import pytest

from bot.logs import JsonFormatter, TextFormatter

MOMENT = 1_772_357_400.25  # 2026-03-01 09:30:00.250 UTC
TYPED = "-".join(["secret", "words"])  # what a person typed (not in any source line)


def failing_parse(typed: str) -> int:
    return int(typed)


def record(exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            failing_parse(TYPED)
        except ValueError:
            import sys

            info = sys.exc_info()
    made = logging.LogRecord("hipbot.test", logging.ERROR, __file__, 1, "handler failed", (), info)
    made.created = MOMENT
    made.event = "handler_error"
    return made


@pytest.mark.parametrize("formatter", [TextFormatter(), JsonFormatter()])
def test_every_line_starts_with_the_utc_time(formatter: logging.Formatter) -> None:
    line = formatter.format(record())
    assert "2026-03-01T09:30:00.250Z" in line
    assert "handler_error" in line


def test_text_lines_begin_with_the_time() -> None:
    assert TextFormatter().format(record()).startswith("2026-03-01T09:30:00.250Z ERROR ")


def test_json_lines_have_a_time_field() -> None:
    assert json.loads(JsonFormatter().format(record()))["time"] == "2026-03-01T09:30:00.250Z"


def test_text_format_keeps_the_traceback_but_not_the_message() -> None:
    text = TextFormatter().format(record(exc=True))
    assert "Traceback (most recent call last)" in text
    assert "failing_parse" in text and "return int(typed)" in text
    assert "builtins.ValueError" in text
    assert "secret-words" not in text


def test_json_format_keeps_the_traceback_but_not_the_message() -> None:
    data = json.loads(JsonFormatter().format(record(exc=True)))
    assert data["exception"] == "ValueError"
    assert "failing_parse" in data["traceback"]
    assert "secret-words" not in json.dumps(data)
