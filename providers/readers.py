"""Defensive readers for provider JSON, shared by every parser.

Provider payloads are read leniently: a field of the wrong type reads as empty,
so one odd field never loses a whole message.
"""

from __future__ import annotations

import math
import re
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from wagate.v1 import message_pb2

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
# google.protobuf.Timestamp range: 0001-01-01 .. 9999-12-31.
_TS_MIN, _TS_MAX = -62_135_596_800, 253_402_300_799
_NON_DIGITS = re.compile(r"\D")


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_dicts(value: Any) -> list[dict[str, Any]]:
    """The dict items of a list; anything else reads as empty."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def as_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def digits(value: Any) -> str:
    """Only the digits of `value`: providers write the same number as "+1 555-123",
    "15551234567" or a chat id, and ids must compare equal however they were written."""
    return _NON_DIGITS.sub("", as_str(value))


def as_bool(value: Any) -> bool:
    return value is True


def int32(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return 0
    return number if _INT32_MIN <= number <= _INT32_MAX else 0


def as_float(value: Any) -> float | None:
    """A finite number (providers may send numbers as strings); None otherwise."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def timestamp(value: Any, *, millis: bool = False) -> Timestamp | None:
    """Unix seconds (or milliseconds), number or string -> Timestamp; None when bad."""
    number = as_float(value)
    if number is None:
        return None
    if millis:
        number /= 1000.0
    if not _TS_MIN <= number <= _TS_MAX:
        return None
    ts = Timestamp()
    ts.FromNanoseconds(int(number * 1_000_000_000)) if millis else ts.FromSeconds(int(number))
    return ts


def provider_errors(value: Any) -> list[message_pb2.ProviderError]:
    """Meta-shaped error objects (`code`, `title`, `message`, `error_data.details`)."""
    return [
        message_pb2.ProviderError(
            code=int32(err.get("code")),
            title=as_str(err.get("title")),
            message=as_str(err.get("message")),
            details=as_str(as_dict(err.get("error_data")).get("details")),
            href=as_str(err.get("href")),
        )
        for err in as_dicts(value)
    ]
