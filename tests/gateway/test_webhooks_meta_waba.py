"""WABA-level Meta webhooks (account, templates) against real `wagate serve` processes:
routed by `entry[].id`, signed by an app secret of that WABA's channels (or of any
meta_cloud channel that declares no WABA), stored, and answered 200 / 401 / 404."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson
import pytest

from providers.testing import FakeGraphAPI
from tests.support.gateway_db import db_count, db_rows
from tests.support.polling import eventually
from tests.support.procs import Gateway
from tests.support.samples import sample_bytes, sample_path
from tests.support.tenants import ACME_SECRET, GLOBEX_SECRET, meta_sign, two_tenant_config
from wagate.v1 import event_pb2

pytestmark = pytest.mark.integration

WABA = "104857600000001"  # entry[].id of the account and template fixtures
OTHER_WABA = "104857600000999"
E = event_pb2


def declaring(graph_url: str, acme: str | None = WABA, globex: str | None = None) -> Any:
    config = two_tenant_config(graph_url)
    for tenant, waba in zip(config["tenants"], (acme, globex), strict=True):
        if waba is not None:
            tenant["channels"][0]["waba_id"] = waba
    return config


def with_waba(name: str, waba: str) -> bytes:
    payload = json.loads(sample_bytes("meta", name))
    payload["entry"][0]["id"] = waba
    return json.dumps(payload).encode()


async def post(
    http: aiohttp.ClientSession, gw: Gateway, body: bytes, secret: str | None
) -> tuple[int, Any]:
    headers = meta_sign(body, secret) if secret else {"Content-Type": "application/json"}
    async with http.post(gw.url + "/webhooks/meta", data=body, headers=headers) as resp:
        return resp.status, orjson.loads(
            await resp.read() or b"null"
        ) if resp.status != 200 else None


def logged(gw: Gateway) -> list[tuple[str, str, int]]:
    return [
        (str(t), str(c), int(k))
        for t, c, k in db_rows(gw, "SELECT tenant_id, channel_id, kind FROM event_log ORDER BY id")
    ]


async def test_account_and_template_webhooks_of_a_declared_waba_are_stored(
    gateways: Callable[..., Gateway], fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    gw = gateways(declaring(fake_graph.base_url))
    for name in ("account_update_restriction.json", "template_status_rejected.json"):
        assert (await post(http, gw, sample_bytes("meta", name), ACME_SECRET))[0] == 200
    want = [
        ("acme", "acme-meta", E.EVENT_KIND_ACCOUNT_UPDATED),
        ("acme", "acme-meta", E.EVENT_KIND_TEMPLATE_UPDATED),
    ]
    await eventually(lambda: logged(gw) == want, what="both events in acme's log")
    # Another tenant's secret does not sign acme's WABA.
    body = sample_bytes("meta", "template_quality_update.json")
    status, answer = await post(http, gw, body, GLOBEX_SECRET)
    assert status == 401 and answer["error"]["code"] == "invalid_signature", answer
    assert (await post(http, gw, body, None))[0] == 401
    assert db_count(gw, "SELECT count(*) FROM webhook_inbox") == 2


async def test_an_undeclared_waba_is_checked_against_channels_without_one(
    gateways: Callable[..., Gateway], fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    """acme declares its WABA; globex declares none, so globex may own any other WABA."""
    gw = gateways(declaring(fake_graph.base_url))
    body = with_waba("account_update_violation.json", OTHER_WABA)
    assert (await post(http, gw, body, ACME_SECRET))[0] == 401
    assert (await post(http, gw, body, GLOBEX_SECRET))[0] == 200
    want = [("globex", "globex-meta", E.EVENT_KIND_ACCOUNT_UPDATED)]
    await eventually(lambda: logged(gw) == want, what="globex's event")


async def test_a_waba_no_channel_knows_is_404_and_logged(
    gateways: Callable[..., Gateway], fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    gw = gateways(declaring(fake_graph.base_url, acme=WABA, globex="104857600000002"))
    body = with_waba("template_status_approved.json", OTHER_WABA)
    status, answer = await post(http, gw, body, ACME_SECRET)
    assert status == 404 and OTHER_WABA in answer["error"]["message"], answer

    def named() -> list[str]:
        return [line for line in gw.logs().splitlines() if OTHER_WABA in line]

    await eventually(named, what="a log line naming the unknown WABA")
    assert db_count(gw, "SELECT count(*) FROM webhook_inbox") == 0


async def test_unmodelled_fields_are_stored_raw_and_acknowledged(
    gateways: Callable[..., Gateway], fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    """Nothing declares a WABA here: any meta_cloud channel's secret may sign it."""
    gw = gateways(declaring(fake_graph.base_url, acme=None))
    body = sample_bytes("meta", "business_capability_update.json")
    assert (await post(http, gw, body, GLOBEX_SECRET))[0] == 200
    assert (await post(http, gw, body, GLOBEX_SECRET))[0] == 200  # a redelivery: stored once
    want = [("globex", "globex-meta", E.EVENT_KIND_PROVIDER_EVENT)]
    await eventually(lambda: logged(gw) == want, what="the raw change in the log")
    (payload,) = db_rows(gw, "SELECT payload FROM event_log")
    recorded = E.Event.FromString(payload[0]).provider_event
    assert recorded.name == "business_capability_update"
    assert json.loads(recorded.data_json)["max_daily_conversation_per_phone"] == 1000
    bodies = db_rows(gw, "SELECT body FROM webhook_inbox")
    assert [bytes(b) for (b,) in bodies] == [body]


async def test_channel_path_owns_account_changes(
    gateways: Callable[..., Gateway], fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    gw = gateways(declaring(fake_graph.base_url, acme=None))
    body = sample_bytes("meta", "template_category_update.json")
    headers = meta_sign(body, ACME_SECRET)
    async with http.post(gw.url + "/webhooks/meta/acme-meta", data=body, headers=headers) as r:
        assert r.status == 200
    want = [("acme", "acme-meta", E.EVENT_KIND_TEMPLATE_UPDATED)]
    await eventually(lambda: logged(gw) == want, what="acme's template event")


async def test_every_meta_fixture_is_acknowledged_and_stored(
    gateways: Callable[..., Gateway], fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    """Each webhook field of Meta's reference, as the fixtures have them: 200, and every
    delivery applied (none left failed or unparsed)."""
    gw = gateways(declaring(fake_graph.base_url))
    names = sorted(p.name for p in sample_path("meta", "text.json").parent.glob("*.json"))
    assert len(names) > 50
    for name in names:
        status, answer = await post(http, gw, sample_bytes("meta", name), ACME_SECRET)
        assert status == 200, (name, answer)

    def states() -> set[str]:
        return {str(s) for (s,) in db_rows(gw, "SELECT state FROM webhook_inbox")}

    await eventually(lambda: states() == {"done"}, what="every delivery applied")
    kinds = {int(k) for (k,) in db_rows(gw, "SELECT DISTINCT kind FROM event_log")}
    # Statuses of messages never sent wait in status_event, as statuses do.
    assert kinds == set(E.EventKind.values()) - {
        E.EVENT_KIND_UNSPECIFIED,
        E.EVENT_KIND_MESSAGE_STATUS,
        E.EVENT_KIND_SESSION_UPDATED,
        E.EVENT_KIND_TYPING,
    }
    assert db_count(gw, "SELECT count(*) FROM status_event") > 5
