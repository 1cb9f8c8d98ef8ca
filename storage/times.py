"""Time conversion, in one place: the clock, protobuf Timestamps, database values.

Every stored and every emitted time is an aware UTC datetime. SQLite has no
datetime type: tortoise and the SQLite writer store ISO text (`db_text`), which
raw SQL reads back as text (`db_datetime`); asyncpg returns datetimes.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# The text a datetime is stored as on SQLite, the form tortoise writes too, so ORM
# and raw reads see identical values. A C-level callable: it runs for every
# datetime the SQLite writer binds.
db_text: Callable[[datetime], str] = operator.methodcaller("isoformat", " ")


def now() -> datetime:
    return datetime.now(UTC)


def to_ts(dt: datetime | None) -> Timestamp:
    """Exact integer arithmetic (Timestamp.FromDatetime goes through calendar.timegm);
    an unset Timestamp for None, a naive datetime is taken as UTC."""
    out = Timestamp()
    if dt is not None:
        delta = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)) - EPOCH
        out.seconds = delta.days * 86_400 + delta.seconds
        out.nanos = delta.microseconds * 1_000
    return out


def from_ts(value: Timestamp) -> datetime | None:
    """None for an unset timestamp."""
    if value.seconds == 0 and value.nanos == 0:
        return None
    return value.ToDatetime(tzinfo=UTC)


def db_datetime(value: Any) -> datetime:
    """A datetime column as raw SQL returns it: ISO text on SQLite, a datetime from
    asyncpg. A value stored without an offset is taken as UTC."""
    out = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return out if out.tzinfo else out.replace(tzinfo=UTC)


def db_datetime_or_none(value: Any) -> datetime | None:
    """`db_datetime` for a nullable column."""
    return None if value is None else db_datetime(value)


def to_micros(dt: datetime) -> int:
    """Microseconds since the epoch: exact, for cursors that must round-trip."""
    return (dt - EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)
