"""A bot plugin from a separately installed package (tests/plugins/acme_bot, found
through its `wagate.bots` entry point) answers in a real `wagate serve`, configured by
YAML only: signed Meta webhooks in, its replies seen by the fake Graph API."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from importlib.metadata import distribution
from typing import Any

import pytest
from acme_bot.plugin import ParrotConfig

from core.errors import ConfigError
from gateway.bots.base import ConfiguredPlugin, Context, Outcome
from gateway.bots.common import PluginConfig
from gateway.bots.config import parse_bots
from tests.support.bots import post, replies, tenant, text_webhook, wait_replies

PARROT = {"plugin": "acme_parrot", "greeting": "Acme here."}
MENU = {"plugin": "flows", "flows_file": "menu.yaml"}


def test_plugin_is_a_separate_distribution() -> None:
    dist = distribution("wagate-acme-bot")
    names = [ep.name for ep in dist.entry_points if ep.group == "wagate.bots"]
    assert names == ["acme_parrot"]


@pytest.mark.parametrize(
    ("bots", "message"),
    [
        (
            [{"plugin": "acme_parot"}],
            "tenants[0].bots[0]: unknown plugin 'acme_parot' (installed: acme_parrot, ai, flows)",
        ),
        ([{**PARROT, "tone": "dry"}], "tenants[0].bots[0]: unknown key 'tone'"),
        ([{"plugin": "acme_parrot"}], "tenants[0].bots[0].greeting: missing 'greeting'"),
        ([{**PARROT, "shout": "yes"}], "tenants[0].bots[0].shout: expected true or false"),
        ([MENU, {**PARROT, "name": "flows"}], "tenants[0].bots[1]: duplicate plugin name 'flows'"),
    ],
)
def test_plugin_config_errors_name_the_key(bots: list[Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_bots("tenants[0].bots", bots)
    assert str(err.value) == message


def test_plugin_config_is_parsed_into_its_own_shape() -> None:
    (menu, parrot) = parse_bots("bots", [MENU, {**PARROT, "shout": True, "channels": ["c1"]}])
    assert (menu.name, menu.priority) == ("flows", 100)
    assert parrot == ParrotConfig("acme_parrot", "acme_parrot", 200, ("c1",), "Acme here.", True)


def test_a_plugin_without_parse_takes_its_config_fields_as_written() -> None:
    @dataclass(frozen=True)
    class EchoConfig(PluginConfig):
        prefix: str = ""

    class Echo(ConfiguredPlugin[EchoConfig]):
        config = EchoConfig

        async def handle(self, ctx: Context) -> Outcome:
            return Outcome.PASS

    assert Echo.keys == {"prefix"}
    assert Echo.parse("bots[0]", {"plugin": "echo", "name": "e", "prefix": "> "}) == {
        "prefix": "> "
    }


async def test_plugin_answers_after_the_flows_pass(gateways, fake_graph, http) -> None:
    """The chain in order: the menu flow takes its trigger, the parrot what the menu passes."""
    gw = gateways({"tenants": [tenant(1, fake_graph.base_url, [MENU, {**PARROT, "shout": True}])]})
    assert await post(http, gw, 1, text_webhook(1, "wamid.parrot-1", "what is the price?")) == 200
    (reply,) = await wait_replies(fake_graph, 1)
    assert reply == "Acme here. You said: WHAT IS THE PRICE?"
    assert await post(http, gw, 1, text_webhook(1, "wamid.parrot-2", "menu", ts=1767225700)) == 200
    got = await wait_replies(fake_graph, 2)
    assert got[1].startswith("Hi Ana! How can we help?")
    await asyncio.sleep(0.2)  # the parrot stays silent on a message the menu handled
    assert len(replies(fake_graph)) == 2
