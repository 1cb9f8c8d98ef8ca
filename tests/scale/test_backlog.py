"""`max_backlog` with replicas bounds the shared inbox's pending rows: a replica that does
not apply the inbox is not refused forever for rows the applier has applied since."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from providers.testing import FakeGraphAPI
from tests.scale.conftest import Start
from tests.scale.test_failover import applier, deliver
from tests.support.polling import eventually
from tests.support.tenants import two_tenant_config

pytestmark = pytest.mark.integration

BOUND = 10


async def test_a_replica_that_does_not_apply_is_not_held_over_the_bound(
    replicas: Start, fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    gws = replicas(two_tenant_config(fake_graph.base_url), env={"WAGATE_MAX_BACKLOG": str(BOUND)})
    leader = await eventually(lambda: applier(gws), what="one replica applying the inbox")
    (other,) = [gw for gw in gws if gw is not leader]
    for round_ in range(4):  # 4 x (BOUND - 2) rows through `other`, well over the bound
        for i in range(BOUND - 2):
            assert await deliver(http, other, round_ * 100 + i)
        await asyncio.sleep(1.5)  # applied by the leader, and counted again by `other`
