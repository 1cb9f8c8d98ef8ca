"""storage.sessions on SQLite and PostgreSQL: forward-only state, QR kept only while
it is to be scanned, one event per change, flags and summary."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from storage import models, sessions
from storage.writer import writer
from wagate.v1 import event_pb2 as E

TENANT = "acme"


async def apply_session(tenant_id: str, event: E.Event) -> list[E.Event]:
    """One report as ingest applies it: its QR rendered, then stored in a transaction."""
    await sessions.render_qr(event)
    return await writer().run(sessions.apply_sessions, [(tenant_id, event)])


def report(status: int, at: int | None, **extra: object) -> E.Event:
    event = E.Event(
        channel_id="acme-qr",
        session_updated=E.SessionState(session_id="main", status=status, **extra),  # type: ignore[arg-type]
    )
    if at is not None:
        event.occurred_at.CopyFrom(Timestamp(seconds=at))
    return event


async def test_session_state_moves_forward_and_renders_the_qr(db: str) -> None:
    (first,) = await apply_session(
        TENANT, report(E.SESSION_STATUS_QR_GENERATED, 100, qr="2@abc", message="scan")
    )
    state = first.session_updated
    assert first.id and first.tenant_id == TENANT
    assert state.needs_qr and state.qr == "2@abc"
    assert state.qr_image.startswith("data:image/png;base64,")
    # The same report again changes nothing: no event.
    again = report(E.SESSION_STATUS_QR_GENERATED, 101, qr="2@abc", message="scan")
    assert await apply_session(TENANT, again) == []
    (ready,) = await apply_session(
        TENANT, report(E.SESSION_STATUS_SESSION_CONNECTED, 200, message="ready")
    )
    assert ready.session_updated.is_connected and not ready.session_updated.qr
    assert not ready.session_updated.qr_image
    # A report older than the stored state is ignored.
    stale = report(E.SESSION_STATUS_QR_GENERATED, 150, qr="2@old")
    assert await apply_session(TENANT, stale) == []
    row = await sessions.get_session(TENANT, "main")
    assert row is not None and row.status == "session_connected" and row.qr == ""
    assert await models.EventLog.filter(tenant_id=TENANT).count() == 2


async def test_reports_without_a_time_apply_in_arrival_order(db: str) -> None:
    await apply_session(TENANT, report(E.SESSION_STATUS_LOADING, None, loading_percent=40))
    (done,) = await apply_session(TENANT, report(E.SESSION_STATUS_ERROR, None))
    assert done.session_updated.has_error and done.session_updated.loading_percent == 0
    assert done.occurred_at.seconds > 0


def test_summary_and_status_names() -> None:
    states = [
        sessions.with_flags(E.SessionState(status=s))
        for s in (
            E.SESSION_STATUS_SESSION_CONNECTED,
            E.SESSION_STATUS_SESSION_NOT_CONNECTED,
            E.SESSION_STATUS_CONNECTING,
            E.SESSION_STATUS_LOADING,
            E.SESSION_STATUS_QR_GENERATED,
            E.SESSION_STATUS_AUTH_FAILURE,
            E.SESSION_STATUS_ERROR,
        )
    ]
    summary = sessions.summary(states)
    got = (summary.connected, summary.disconnected, summary.loading, summary.needs_qr)
    assert got == (1, 1, 2, 1)
    assert (summary.error, summary.total) == (2, 7)
    assert sessions.status_name(E.SESSION_STATUS_QR_GENERATED) == "qr_generated"
    assert sessions.parse_status("session_connected") == E.SESSION_STATUS_SESSION_CONNECTED
    assert sessions.parse_status("unspecified") is None and sessions.parse_status("x") is None
