"""Logging on stderr, with every configured secret masked.

Two formats: `json` (one object per line, for log shippers) and `text` (one readable
line per record, for a terminal). Unset, a terminal gets text and anything else JSON.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable
from typing import Any, TextIO

import orjson

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class MaskingFormatter(logging.Formatter):
    """The record's own fields plus its `extra=` fields, with secrets replaced by `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text

    @staticmethod
    def timestamp(record: logging.LogRecord) -> str:
        return (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z"
        )

    @staticmethod
    def extras(record: logging.LogRecord) -> dict[str, Any]:
        return {
            key: value
            for key, value in record.__dict__.items()
            if key not in _STANDARD and not key.startswith("_")
        }


class JsonFormatter(MaskingFormatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **self.extras(record),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return self.mask(orjson.dumps(entry, default=str).decode())


class TextFormatter(MaskingFormatter):
    """`<time> <LEVEL> <logger>: <message>  key=value ...`, a traceback on the lines below.

    A record logged with `extra={"_terse": True}` shows its message only.
    """

    def format(self, record: logging.LogRecord) -> str:
        extras = {} if getattr(record, "_terse", False) else self.extras(record)
        fields = " ".join(f"{k}={_text_value(v)}" for k, v in extras.items() if v is not None)
        line = f"{self.timestamp(record)} {record.levelname:<7} {record.name}: "
        line += record.getMessage() + (f"  {fields}" if fields else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return self.mask(line)


def _text_value(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    if text == "" or any(c.isspace() or c in "\"'=" for c in text):
        return orjson.dumps(text).decode()
    return text


def log_format(configured: str | None, stream: TextIO) -> str:
    """The configured format, else text on a terminal and JSON otherwise."""
    if configured:
        return configured
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


class WorkerField(logging.Filter):
    """Adds `worker` (1..N) to every record a worker of `wagate serve --workers N` logs."""

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number

    def filter(self, record: logging.LogRecord) -> bool:
        record.worker = self.number
        return True


def setup_logging(
    level: str, secrets: Iterable[str] = (), fmt: str | None = None, worker: int | None = None
) -> None:
    """Route every logger to stderr; `worker`: the number each line of this process carries."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = TextFormatter if log_format(fmt, sys.stderr) == "text" else JsonFormatter
    handler.setFormatter(formatter(secrets))
    if worker is not None:
        handler.addFilter(WorkerField(worker))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Sanic installs its own handlers; route everything through ours.
    for name in ("sanic.root", "sanic.error", "sanic.access", "sanic.server", "tortoise"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    logging.getLogger("sanic.access").setLevel(logging.WARNING)
    logging.getLogger("tortoise").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
