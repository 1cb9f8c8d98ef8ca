"""QR-session state: applying `session_updated` events, reading state and summaries.

The provider's parser only says what the engine reported; here it becomes the
stored state. A report older than the stored one is ignored (engines retry and
reorder), the QR string is kept only while a QR is to be scanned, and its PNG
is rendered once, here after the ack. Every change is appended to the event log
and returned for the bus; a report that changes nothing is not an event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from functools import lru_cache

from storage import models
from storage.events import append_events
from storage.qr_image import qr_data_url
from storage.sql import Columns, Sql
from storage.times import db_datetime, from_ts, now, to_ts
from wagate.v1 import event_pb2, session_service_pb2

E = event_pb2
S = event_pb2.SessionStatus
_PREFIX = "SESSION_STATUS_"
LOADING_STATUSES = frozenset({S.SESSION_STATUS_LOADING, S.SESSION_STATUS_CONNECTING})
ERROR_STATUSES = frozenset({S.SESSION_STATUS_AUTH_FAILURE, S.SESSION_STATUS_ERROR})
UNSEEN_MESSAGE = "No event from the engine yet"


def status_name(status: int) -> str:
    """`SESSION_STATUS_QR_GENERATED` -> `qr_generated`, as the API shows it."""
    return S.Name(status).removeprefix(_PREFIX).lower()


def parse_status(name: str) -> int | None:
    """`qr_generated` -> its SessionStatus; None for an unknown name."""
    key = _PREFIX + name.strip().upper()
    if key == _PREFIX + "UNSPECIFIED" or key not in S.keys():
        return None
    return S.Value(key)


def with_flags(state: event_pb2.SessionState) -> event_pb2.SessionState:
    """Set the flags the API shows beside the status (isConnected, needsQR, ...)."""
    state.is_connected = state.status == S.SESSION_STATUS_SESSION_CONNECTED
    state.needs_qr = state.status == S.SESSION_STATUS_QR_GENERATED
    state.is_loading = state.status in LOADING_STATUSES
    state.has_error = state.status in ERROR_STATUSES
    return state


def state_proto(row: models.Session) -> event_pb2.SessionState:
    status = parse_status(row.status) or S.SESSION_STATUS_ERROR
    return with_flags(
        E.SessionState(
            session_id=row.session_id,
            channel_id=row.channel_id,
            status=status,  # type: ignore[arg-type]
            message=row.message,
            qr=row.qr,
            qr_image=row.qr_image,
            loading_percent=row.loading_percent,
            created_at=to_ts(row.created_at),
            updated_at=to_ts(row.updated_at),
        )
    )


def unseen_state(session_id: str, channel_id: str) -> event_pb2.SessionState:
    """A configured session the engine has not reported on yet."""
    return with_flags(
        E.SessionState(
            session_id=session_id,
            channel_id=channel_id,
            status=S.SESSION_STATUS_SESSION_NOT_CONNECTED,
            message=UNSEEN_MESSAGE,
        )
    )


@lru_cache(maxsize=256)
def _qr_image(qr: str) -> str:
    return qr_data_url(qr)


async def render_qr(event: event_pb2.Event) -> None:
    """Render a reported QR's PNG (~17 ms of CPU) in a thread, before the transaction."""
    report = event.session_updated
    if report.status == S.SESSION_STATUS_QR_GENERATED and report.qr and not report.qr_image:
        report.qr_image = await asyncio.to_thread(_qr_image, report.qr)


_COLS = "id, status, message, qr, loading_percent, reported_at, created_at"
_INSERT = Columns(
    "tenant_id",
    "channel_id",
    "session_id",
    "status",
    "message",
    "qr",
    "loading_percent",
    "qr_image",
    "reported_at",
    "created_at",
    "updated_at",
)


async def apply_sessions(
    sql: Sql, items: Sequence[tuple[str, event_pb2.Event]]
) -> list[event_pb2.Event]:
    """Store reported session states (tenant id, `session_updated` event), in order.

    Returns the `session_updated` events to publish, already in the event log;
    a stale or unchanged report yields none.
    """
    changed: list[tuple[event_pb2.Event, str]] = []
    for tenant_id, event in items:
        report = event.session_updated
        at = from_ts(event.occurred_at) or now()
        status = status_name(report.status or S.SESSION_STATUS_ERROR)
        # The QR is only worth keeping while it is to be scanned; any other state clears it.
        qr = report.qr if report.status == S.SESSION_STATUS_QR_GENERATED else ""
        image = report.qr_image if qr else ""
        percent = report.loading_percent if report.status == S.SESSION_STATUS_LOADING else 0
        values = (status, report.message, qr, percent)
        found = await sql.rows(
            f"SELECT {_COLS} FROM qr_session WHERE tenant_id = ? AND session_id = ?",
            [tenant_id, report.session_id],
        )
        created_at = at
        if found:
            row = found[0]
            if at < db_datetime(row["reported_at"]):
                continue  # an older report than the state we hold
            created_at = db_datetime(row["created_at"])
            same = (row["status"], row["message"], row["qr"], row["loading_percent"]) == values
            await sql.run(
                "UPDATE qr_session SET reported_at = ? WHERE id = ?", [at, row["id"]]
            ) if same else await sql.run(
                "UPDATE qr_session SET status = ?, message = ?, qr = ?, loading_percent = ?,"
                " qr_image = ?, channel_id = ?, reported_at = ?, updated_at = ? WHERE id = ?",
                [*values, image, event.channel_id, at, now(), row["id"]],
            )
            if same:
                continue
        else:
            await sql.run(
                f"INSERT INTO qr_session ({_INSERT}) VALUES {_INSERT.values(1)}",
                [tenant_id, event.channel_id, report.session_id, *values, image, at, at, now()],
            )
        state = with_flags(
            E.SessionState(
                session_id=report.session_id,
                channel_id=event.channel_id,
                status=parse_status(status) or S.SESSION_STATUS_ERROR,  # type: ignore[arg-type]
                message=report.message,
                qr=qr,
                qr_image=image,
                loading_percent=percent,
                created_at=to_ts(created_at),
                updated_at=to_ts(now()),
            )
        )
        out = E.Event(tenant_id=tenant_id, channel_id=event.channel_id, session_updated=state)
        out.occurred_at.CopyFrom(to_ts(at))
        changed.append((out, ""))
    return await append_events(sql, changed)


async def get_session(tenant_id: str, session_id: str) -> models.Session | None:
    if len(session_id) > 128:
        return None
    return await models.Session.get_or_none(tenant_id=tenant_id, session_id=session_id)


async def list_sessions(tenant_id: str) -> list[models.Session]:
    return await models.Session.filter(tenant_id=tenant_id).order_by("session_id")


def summary(states: Iterable[event_pb2.SessionState]) -> session_service_pb2.SessionSummary:
    """Counts by flag; `disconnected` counts sessions that are simply not connected."""
    out = session_service_pb2.SessionSummary()
    for state in states:
        out.total += 1
        out.connected += state.is_connected
        out.needs_qr += state.needs_qr
        out.loading += state.is_loading
        out.error += state.has_error
        out.disconnected += state.status == S.SESSION_STATUS_SESSION_NOT_CONNECTED
    return out
