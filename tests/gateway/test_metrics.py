"""`/metrics` of a real gateway: every metric the Grafana dashboard charts exists, and
the measurements follow real traffic (HTTP, webhooks, sends and retries, streams,
Socket.IO connections, the after-ack backlog)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import aiohttp
import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from providers.testing import FakeGraphAPI
from tests.support.metrics import Samples, samples, scrape, value
from tests.support.paths import ROOT
from tests.support.polling import eventually
from tests.support.procs import Gateway
from tests.support.realtime import Client, post, send_text, text_webhook
from tests.support.tenants import ACME_KEY
from wagate.v1 import event_service_pb2, event_service_pb2_grpc

DASHBOARD = ROOT / "grafana" / "wagate.json"
_METRIC = re.compile(r"\bwagate_[a-z0-9_]+")


def dashboard_metrics() -> set[str]:
    """Metric names in the dashboard's queries, without histogram series suffixes."""
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    names = {m for expr in exprs for m in _METRIC.findall(expr)}
    return {re.sub(r"_(bucket|count|sum)$", "", n) for n in names}


async def test_every_metric_of_the_dashboard_exists(
    gateway: Gateway, http: aiohttp.ClientSession
) -> None:
    wanted = dashboard_metrics()
    assert len(wanted) >= 15, wanted  # the dashboard was read at all
    exported: set[str] = set()
    for family in text_string_to_metric_families(await scrape(http, gateway)):
        exported.add(family.name)
        if family.type == "counter":
            exported.add(family.name + "_total")
    assert wanted - exported == set(), "the dashboard charts metrics the gateway lacks"


@pytest.fixture
async def events_stub(gateway: Gateway) -> AsyncIterator[event_service_pb2_grpc.EventServiceStub]:
    async with grpc.aio.insecure_channel(gateway.grpc_target) as channel:
        yield event_service_pb2_grpc.EventServiceStub(channel)


async def test_measurements_follow_traffic(
    gateway: Gateway,
    fake_graph: FakeGraphAPI,
    http: aiohttp.ClientSession,
    events_stub: event_service_pb2_grpc.EventServiceStub,
) -> None:
    meta = {"provider": "meta_cloud"}
    await post(http, gateway, text_webhook([("wamid.metrics-1", "hi", "15550001111")]))
    await send_text(http, gateway, "15550001111", "first")
    fake_graph.fail_next(131000, http_status=500)  # retryable: retried, then sent
    await send_text(http, gateway, "15550001111", "second")
    async with http.get(f"{gateway.url}/no/such/route") as resp:
        assert resp.status == 404

    async def settled() -> Samples | None:
        found = await samples(http, gateway)
        sent = value(found, "wagate_sends_total", **meta, status="sent", error_class="")
        idle = value(found, "wagate_ingest_backlog_rows") == 0
        return found if sent == 2 and idle and value(found, "wagate_outbox_pending") == 0 else None

    found: Samples = await eventually(settled, 15, "both sends sent, the backlog empty")
    assert value(found, "wagate_webhooks_total", **meta, outcome="accepted") == 1
    retried = {**meta, "status": "retrying", "error_class": "retryable"}
    assert value(found, "wagate_sends_total", **retried) == 1
    assert value(found, "wagate_outbox_retries_total", **meta) == 1
    calls = value(found, "wagate_provider_call_seconds_count", **meta, operation="send")
    assert calls == 3  # two sends, one of them twice
    assert value(found, "wagate_ingest_apply_seconds_count") >= 1
    assert value(found, "wagate_ingest_backlog_oldest_age_seconds") == 0
    http_count = "wagate_http_request_duration_seconds_count"
    send_route = {"method": "POST", "route": "/api/v1/messages", "status": "200"}
    assert value(found, http_count, **send_route) == 2
    webhook_route = {"method": "POST", "route": "/webhooks/meta", "status": "200"}
    assert value(found, http_count, **webhook_route) == 1
    assert value(found, http_count, method="GET", route="unmatched", status="404") == 1

    async def open_streams_and_clients(expected: tuple[float, float]) -> bool:
        now = await samples(http, gateway)
        streams = value(now, "wagate_grpc_streams", method="EventService/StreamEvents")
        return (streams, value(now, "wagate_socketio_connections")) == expected

    stream = events_stub.StreamEvents(
        event_service_pb2.StreamEventsRequest(), metadata=(("authorization", f"Bearer {ACME_KEY}"),)
    )
    client = await Client().connect(gateway, ACME_KEY, "websocket")
    try:
        await eventually(lambda: open_streams_and_clients((1, 1)), 10, "a stream and a client")
    finally:
        stream.cancel()
        await client.close()
    await eventually(lambda: open_streams_and_clients((0, 0)), 10, "both gone from the gauges")
