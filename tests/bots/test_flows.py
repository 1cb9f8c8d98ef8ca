"""The flows plugin and the shipped menu bot, end to end through `wagate serve`:
signed Meta webhooks in, replies seen by the fake Graph API."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.errors import ConfigError
from gateway.bots.config import parse_bots
from gateway.bots.flow_config import FlowsConfig
from gateway.bots.flows import matches
from providers.signing import hmac_hex
from tests.support.bots import post, replies, tenant, text_webhook, wait_replies
from tests.support.gateway_db import db_count
from tests.support.polling import eventually
from tests.support.procs import WAGATE, Gateway

MENU = [{"plugin": "flows", "flows_file": "menu.yaml"}]


# -- triggers and validation (pure) -----------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "pattern", "text", "expected"),
    [
        ("exact", "ola", "  Olá ", True),
        ("exact", "ola", "Olá amigo", False),
        ("contains", "pedido", "Meu PEDIDO 42", True),
        ("word", "hi", "Hi, is my order late?", True),
        ("word", "hi", "this is it", False),
        ("default", "default", "anything", True),
    ],
)
def test_trigger_matching(mode: str, pattern: str, text: str, expected: bool) -> None:
    assert matches(mode, pattern, text) is expected


def _flow(nodes: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"plugin": "flows", "flows": [{"name": "sales", "triggers": ["x"], "nodes": nodes}]}]


@pytest.mark.parametrize(
    ("bots", "message"),
    [
        ([{"plugin": "nope"}], "tenants[0].bots[0]: unknown plugin 'nope'"),
        (
            _flow({"a": {"type": "text", "text": "hi", "next": "b"}}),
            "tenants[0].bots[0] flow 'sales' node 'a': unknown next node 'b'",
        ),
        (
            _flow({"a": {"type": "jump"}}),
            "tenants[0].bots[0] flow 'sales' node 'a': unknown type 'jump'",
        ),
        (
            _flow({"a": {"type": "branch", "cases": [{"exact": "1", "next": "zz"}]}}),
            "tenants[0].bots[0] flow 'sales' node 'a': unknown case next node 'zz'",
        ),
        (
            [{"plugin": "ai", "provider": "openai", "model": "m", "api_key": "k", "tone": 1}],
            "tenants[0].bots[0]: unknown key 'tone'",
        ),
        (
            [{"plugin": "ai", "provider": "mistral", "model": "m", "api_key": "k"}],
            "tenants[0].bots[0].provider: one of openai, deepseek, anthropic, got 'mistral'",
        ),
    ],
)
def test_bad_bots_config_names_the_problem(bots: list[Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_bots("tenants[0].bots", bots)
    assert str(err.value).startswith(message), str(err.value)


def test_shipped_menu_flow_is_valid() -> None:
    (plugin,) = parse_bots("demo.bots", MENU)
    assert isinstance(plugin, FlowsConfig)
    (flow,) = plugin.flows
    assert flow.name == "menu" and flow.start == "main"


@pytest.mark.integration
def test_serve_refuses_a_bad_flow_with_one_line(tmp_path: Path) -> None:
    config = {"tenants": [tenant(1, "http://127.0.0.1:9", _flow({"a": {"type": "wait"}}))]}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    done = subprocess.run(
        [str(WAGATE), "serve", "--config", str(path)], capture_output=True, timeout=30, text=True
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "wagate: config error: tenants[0].bots[0] flow 'sales' node 'a': missing 'next'"
    )


# -- the menu bot end to end ------------------------------------------------------------


async def test_menu_bot_end_to_end(gateways, fake_graph, http) -> None:
    gw = gateways({"tenants": [tenant(1, fake_graph.base_url, MENU)]})
    n = 0

    async def say(text: str, expect: int) -> list[str]:
        nonlocal n
        n += 1
        assert await post(http, gw, 1, text_webhook(1, f"wamid.menu-{n}", text, ts=1767225660 + n))
        before = len(replies(fake_graph))
        got = await wait_replies(fake_graph, before + expect)
        await asyncio.sleep(0.2)  # nothing more arrives
        assert len(replies(fake_graph)) == before + expect
        return got[before:]

    (menu,) = await say("  Olá ", 1)  # trimmed, case-folded, diacritics stripped
    assert menu.startswith("Hi Ana! How can we help?") and "5. Back to menu" in menu
    (order,) = await say("1", 1)
    assert order.startswith("Order status:")
    assert await say("1", 1) == ["Please type your order number."]
    found, again = await say("A-77", 2)
    assert found == "Order A-77 is in production and ships within 3 working days."
    assert again == menu  # back to the main menu
    assert await say("9", 1) == ["Please reply with a number from 1 to 5."]
    (schedule,) = await say("3", 1)
    assert schedule.startswith("Production schedule:")
    assert (await say("0", 1))[0] == menu
    assert (await say("5", 1))[0] == menu
    (defect,) = await say("2", 1)
    assert defect.startswith("Report a defect:")
    await say("2", 1)
    logged, _ = await say("The lid is cracked", 2)
    assert logged == 'Thank you, Ana. Your report "The lid is cracked" is logged.'
    (help_menu,) = await say("4", 1)
    assert help_menu.startswith("Help:")
    assert await say("1", 1) == ["A person will answer you here shortly."]
    # Handed off: the bot stays silent, even on a trigger, until released.
    assert await say("menu", 0) == []
    assert db_count(gw, "SELECT count(*) FROM bot_session WHERE status = 'paused'") == 2

    conv = await _conversation(http, gw)
    headers = {"Authorization": "Bearer t1-key"}
    async with http.post(f"{gw.url}/api/v1/conversations/{conv}/release", headers=headers) as r:
        assert r.status == 200 and (await r.json()) == {"released": 2}
    async with http.post(
        f"{gw.url}/api/v1/conversations/{conv}/release", headers={"Authorization": "Bearer x"}
    ) as r:
        assert r.status == 401
    assert (await say("menu", 1))[0] == menu


async def _conversation(http: Any, gw: Gateway) -> str:
    headers = {"Authorization": "Bearer t1-key"}
    async with http.get(f"{gw.url}/api/v1/conversations", headers=headers) as resp:
        data = await resp.json()
    return str(data["items"][0]["id"])


async def test_duplicate_webhooks_run_the_bot_once(gateways, fake_graph, http) -> None:
    gw = gateways({"tenants": [tenant(1, fake_graph.base_url, MENU)]})
    body = text_webhook(1, "wamid.dup-1", "menu")
    other_bytes = text_webhook(1, "wamid.dup-1", "menu", ts=1767225999)  # same message id
    assert await post(http, gw, 1, body) == 200
    assert await post(http, gw, 1, body) == 200
    assert await post(http, gw, 1, other_bytes) == 200
    await wait_replies(fake_graph, 1)
    await asyncio.sleep(0.5)
    assert len(replies(fake_graph)) == 1
    assert db_count(gw, "SELECT count(*) FROM bot_run") == 1
    # Replies carry deterministic idempotency keys (message id + plugin + step).
    keys = db_count(gw, "SELECT count(*) FROM message WHERE idempotency_key LIKE 'bot:%:flows:1'")
    assert keys == 1


async def test_unmatched_text_gets_no_reply_and_flows_pass(gateways, fake_graph, http) -> None:
    gw = gateways({"tenants": [tenant(1, fake_graph.base_url, MENU)]})
    assert await post(http, gw, 1, text_webhook(1, "wamid.none-1", "what is the price?")) == 200
    await asyncio.sleep(0.2)
    assert await post(http, gw, 1, text_webhook(1, "wamid.none-2", "menu", ts=1767225700)) == 200
    await wait_replies(fake_graph, 1)
    assert db_count(gw, "SELECT count(*) FROM bot_run WHERE state = 'passed'") == 1


async def test_the_demo_answers_with_the_menu(gateways, http) -> None:
    from gateway import demo

    gw = gateways(None)  # no config: the demo tenant, with the menu bot
    body = json.dumps(demo.SAMPLE).encode()
    headers = {
        "X-Hub-Signature-256": "sha256=" + hmac_hex(demo.APP_SECRET, body),
        "Content-Type": "application/json",
    }
    async with http.post(gw.url + "/webhooks/meta", data=body, headers=headers) as resp:
        assert resp.status == 200
    auth = {"Authorization": f"Bearer {demo.API_KEY}"}

    async def outbound() -> list[str]:
        async with http.get(f"{gw.url}/api/v1/conversations", headers=auth) as resp:
            convs = (await resp.json())["items"]
        if not convs:  # the webhook is acknowledged before it is stored
            return []
        url = f"{gw.url}/api/v1/conversations/{convs[0]['id']}/messages"
        async with http.get(url, headers=auth) as resp:
            items = (await resp.json())["items"]
        return [m["text"]["body"] for m in items if m["direction"] == "DIRECTION_OUTBOUND"]

    (menu,) = await eventually(outbound, what="the menu reply")
    assert menu.startswith("Hi Alex Rivera! How can we help?")
