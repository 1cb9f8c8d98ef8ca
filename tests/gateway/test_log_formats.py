"""The two log formats mask every secret, wherever in a record it appears."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from gateway.logs import JsonFormatter, MaskingFormatter, TextFormatter, log_format

SECRET = "sk-live-0123456789"
SHORTER = "sk-live"  # contained in SECRET: SECRET must still be masked whole


def record_with_secrets() -> logging.LogRecord:
    try:
        raise RuntimeError(f"provider said: bad token {SECRET}")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "wagate.test", logging.ERROR, __file__, 1, "calling with %s", (SECRET,), exc_info
    )
    record.url = f"https://api.example.com/?key={SECRET}"
    record.attempt = 2
    return record


@pytest.mark.parametrize("formatter", [JsonFormatter, TextFormatter])
def test_secrets_are_masked_in_message_fields_and_traceback(
    formatter: type[MaskingFormatter],
) -> None:
    line = formatter([SHORTER, SECRET, "abc"]).format(record_with_secrets())
    assert SECRET not in line and SHORTER not in line
    assert line.count("***") == 3  # the message, the field, the traceback
    assert "-0123456789" not in line


def test_json_is_one_object_per_line_with_the_fields() -> None:
    line = JsonFormatter([SECRET]).format(record_with_secrets())
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "error" and entry["logger"] == "wagate.test"
    assert entry["msg"] == "calling with ***"
    assert entry["url"] == "https://api.example.com/?key=***" and entry["attempt"] == 2
    assert "RuntimeError" in entry["exc"]


def test_text_is_one_readable_line_then_the_traceback() -> None:
    first, *rest = TextFormatter([SECRET]).format(record_with_secrets()).splitlines()
    assert first.endswith(
        'ERROR   wagate.test: calling with ***  url="https://api.example.com/?key=***" attempt=2'
    )
    assert rest[0] == "Traceback (most recent call last):"


def test_text_quotes_values_with_spaces_and_hides_missing_ones() -> None:
    record = logging.LogRecord("wagate", logging.INFO, __file__, 1, "started", None, None)
    record.reason = "two words"
    record.tenant = None
    assert TextFormatter().format(record).endswith('started  reason="two words"')


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_the_default_format_follows_the_terminal() -> None:
    assert log_format(None, Stream(tty=True)) == "text"
    assert log_format(None, Stream(tty=False)) == "json"
    assert log_format("json", Stream(tty=True)) == "json"
    assert log_format("text", Stream(tty=False)) == "text"
