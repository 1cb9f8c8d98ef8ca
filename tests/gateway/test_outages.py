"""Outages answer 503 with Retry-After, never another 5xx, and end by themselves: a real
PostgreSQL stopped and started under a real gateway, and an after-ack backlog held over
its bound by a lock on the table ingest writes to."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import asyncpg  # type: ignore[import-untyped]
import pytest

from providers.testing import FakeGraphAPI
from tests.support.polling import eventually
from tests.support.procs import Gateway, Postgres, start_postgres
from tests.support.samples import sample_bytes
from tests.support.tenants import ACME_PHONE_ID, meta_sign, two_tenant_config

pytestmark = pytest.mark.integration


@pytest.fixture
def own_postgres() -> Iterator[Postgres]:
    """A PostgreSQL of this test's own: stopping it must not break the other tests."""
    pg = start_postgres()
    try:
        yield pg
    finally:
        pg.stop()


def webhook(wamid: str) -> bytes:
    data = json.loads(sample_bytes("meta", "text.json"))
    value = data["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = ACME_PHONE_ID
    value["messages"][0]["id"] = wamid
    return json.dumps(data).encode()


async def post(http: aiohttp.ClientSession, gw: Gateway, wamid: str) -> aiohttp.ClientResponse:
    body = webhook(wamid)
    async with http.post(f"{gw.url}/webhooks/meta", data=body, headers=meta_sign(body)) as resp:
        await resp.read()
        return resp


def assert_retry_later(resp: aiohttp.ClientResponse) -> None:
    assert resp.status == 503
    assert resp.headers["Retry-After"] == "5"


async def readyz(http: aiohttp.ClientSession, gw: Gateway) -> tuple[int, Any]:
    async with http.get(f"{gw.url}/readyz") as resp:
        return resp.status, await resp.json()


async def stored(url: str, wamid: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM message WHERE provider_message_id = $1", wamid
            )
        )
    finally:
        await conn.close()


async def test_postgres_down_answers_503_and_recovers_by_itself(
    own_postgres: Postgres,
    gateways: Callable[..., Gateway],
    fake_graph: FakeGraphAPI,
    http: aiohttp.ClientSession,
) -> None:
    url = own_postgres.create_database("outage")
    gw = gateways(two_tenant_config(fake_graph.base_url), database_url=url)
    assert (await post(http, gw, "wamid.before")).status == 200
    await eventually(lambda: stored(url, "wamid.before"), what="the first message stored")

    own_postgres.stop_server()
    status, body = await readyz(http, gw)
    assert status == 503
    assert body["checks"]["database"].startswith("error")
    for _ in range(3):  # each delivery the provider tries during the outage
        assert_retry_later(await post(http, gw, "wamid.during"))

    own_postgres.start_server()

    async def ready() -> bool:
        return (await readyz(http, gw))[0] == 200

    await eventually(ready, within=30, what="/readyz 200 after PostgreSQL returned")
    assert (await post(http, gw, "wamid.during")).status == 200  # the provider's retry
    assert (await post(http, gw, "wamid.after")).status == 200
    for wamid in ("wamid.before", "wamid.during", "wamid.after"):
        await eventually(lambda w=wamid: stored(url, w), what=f"{wamid} stored")  # type: ignore[misc]
        assert await stored(url, wamid) == 1
    assert gw.proc.poll() is None


async def test_a_backlog_over_its_bound_answers_503_until_it_drains(
    postgres: Postgres,
    gateways: Callable[..., Gateway],
    fake_graph: FakeGraphAPI,
    http: aiohttp.ClientSession,
) -> None:
    url = postgres.create_database(f"backlog_{uuid.uuid4().hex[:12]}")
    gw = gateways(
        two_tenant_config(fake_graph.base_url),
        database_url=url,
        env={"WAGATE_MAX_BACKLOG": "3"},
    )
    blocker = await asyncpg.connect(url)
    try:
        # Ingest cannot apply while the event log is locked; acknowledging still works.
        held = blocker.transaction()
        await held.start()
        await blocker.execute("LOCK TABLE event_log IN EXCLUSIVE MODE")
        for n in range(3):
            assert (await post(http, gw, f"wamid.held-{n}")).status == 200
        refused = await post(http, gw, "wamid.refused")
        assert_retry_later(refused)
        assert (await readyz(http, gw))[0] == 200  # busy is not unready
        await held.rollback()
    finally:
        await blocker.close()

    async def accepted_again() -> bool:
        return (await post(http, gw, "wamid.refused")).status == 200

    await eventually(accepted_again, within=15, what="webhooks accepted after the backlog drained")
    for wamid in ("wamid.held-0", "wamid.held-1", "wamid.held-2", "wamid.refused"):
        await eventually(lambda w=wamid: stored(url, w), what=f"{wamid} stored")  # type: ignore[misc]
