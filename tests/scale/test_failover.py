"""No work owned by one process: three replicas take webhooks under load, the one that
applies the inbox is killed with SIGKILL and never comes back. A survivor takes the
applier lock and applies every acknowledged webhook, the dead one's included: none
lost, none stored twice."""

from __future__ import annotations

import asyncio
import itertools
import signal

import aiohttp
import pytest

from providers.testing import FakeGraphAPI
from tests.scale.conftest import Start, query
from tests.support.polling import eventually
from tests.support.procs import Gateway
from tests.support.realtime import text_webhook
from tests.support.tenants import meta_sign, two_tenant_config

pytestmark = pytest.mark.integration

TOOK = "took the applier lock"
CONTACTS = [f"155512391{i:02d}" for i in range(10)]


def applier(gws: list[Gateway]) -> Gateway | None:
    holders = [gw for gw in gws if gw.proc.poll() is None and TOOK in gw.logs()]
    return holders[-1] if len(holders) == 1 else None


async def deliver(http: aiohttp.ClientSession, gw: Gateway, i: int) -> bool:
    """One webhook; True when it was acknowledged (200)."""
    body = text_webhook([(f"wamid.kill-{i}", f"message {i}", CONTACTS[i % len(CONTACTS)])])
    try:
        async with http.post(f"{gw.url}/webhooks/meta", data=body, headers=meta_sign(body)) as r:
            await r.read()
            return r.status == 200
    except aiohttp.ClientError:  # the killed replica: not acknowledged, a provider retries
        return False


async def test_killing_the_applier_loses_no_acknowledged_webhook(
    replicas: Start, fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    gws = replicas(two_tenant_config(fake_graph.base_url), count=3)
    first = await eventually(lambda: applier(gws), what="one replica applying the inbox")
    acked: dict[int, Gateway] = {}
    numbers = itertools.count()
    killed = asyncio.Event()

    async def poster(lane: int) -> None:
        while len(acked) < 600:
            i = next(numbers)
            gw = gws[(i + lane) % len(gws)]
            if await deliver(http, gw, i):
                acked[i] = gw
            if len(acked) >= 150 and not killed.is_set():
                killed.set()
                first.stop(signal.SIGKILL)  # mid-burst; it never comes back

    await asyncio.gather(*(poster(n) for n in range(6)))
    survivors = [gw for gw in gws if gw is not first]
    assert sum(1 for gw in acked.values() if gw is first) > 0  # the dead one acknowledged some
    await eventually(lambda: applier(survivors), within=15, what="a survivor applying the inbox")

    url = first.database_url

    async def applied() -> bool:
        rows = await query(url, "SELECT count(*) AS n FROM webhook_inbox WHERE state <> 'done'")
        return bool(rows[0]["n"] == 0)

    await eventually(applied, within=30, what="every inbox row applied")
    stored = await query(
        url,
        "SELECT provider_message_id AS w, count(*) AS n FROM message"
        " WHERE provider_message_id LIKE 'wamid.kill-%' GROUP BY 1",
    )
    counts = {r["w"]: r["n"] for r in stored}
    lost = [i for i in acked if f"wamid.kill-{i}" not in counts]
    assert not lost, f"acknowledged and lost: {lost}"
    assert {w: n for w, n in counts.items() if n > 1} == {}
    logged = await query(url, "SELECT count(*) AS n FROM event_log")
    assert logged[0]["n"] == len(counts)  # one message_new each: no event twice either
