"""Remote bot plugins: the Node example bot (tests/node/remote_bot.js, @grpc/grpc-js)
connected to a real gateway over BotService.Connect."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.support.bots import post, replies, tenant, text_webhook, wait_replies
from tests.support.node import NodeLines
from tests.support.paths import NODE_DIR
from tests.support.polling import eventually
from tests.support.procs import Gateway

pytestmark = pytest.mark.integration

SCRIPT = NODE_DIR / "remote_bot.js"
MENU = {"plugin": "flows", "flows_file": "menu.yaml"}


class NodeBot(NodeLines):
    def deliveries(self) -> list[dict[str, Any]]:
        return [x for x in self.lines if "delivery" in x]


async def spawn(gw: Gateway, key: str, *args: str) -> asyncio.subprocess.Process:
    """Start tests/node/remote_bot.js against `gw` with the API key `key`."""
    node = shutil.which("node")
    assert node, "node is not installed"
    return await asyncio.create_subprocess_exec(
        node,
        str(SCRIPT),
        "--target",
        gw.grpc_target,
        "--key",
        key,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.fixture
async def node_bots() -> AsyncIterator[Callable[..., Any]]:
    started: list[NodeBot] = []

    async def start(gw: Gateway, *args: str) -> NodeBot:
        bot = NodeBot(await spawn(gw, "t1-key", *args))
        started.append(bot)
        await eventually(lambda: bot.lines, what="the bot's registration")
        assert "registered" in bot.lines[0], bot.lines
        return bot

    yield start
    for bot in started:
        await bot.stop()


async def say(http: Any, gw: Gateway, n: int, text: str) -> None:
    assert await post(http, gw, 1, text_webhook(1, f"wamid.r-{n}", text, ts=1767225660 + n)) == 200


async def test_remote_bot_in_the_chain(gateways, fake_graph, http, node_bots) -> None:
    gw = gateways({"tenants": [tenant(1, fake_graph.base_url, [MENU])]})
    # Not connected: the chain skips it (the flow does not match, nobody answers).
    await say(http, gw, 1, "good morning")
    await asyncio.sleep(0.3)
    assert replies(fake_graph) == []

    bot = await node_bots(gw, "--name", "echo", "--priority", "500")
    await say(http, gw, 2, "menu")  # the flow (priority 100) comes first
    assert (await wait_replies(fake_graph, 1))[0].startswith("Hi Ana!")
    await say(http, gw, 3, "0")  # the flow's session takes it: back to the menu
    await wait_replies(fake_graph, 2)
    assert bot.deliveries() == []
    # A contact with no flow session and no trigger: the flow passes, the bot answers.
    body = text_webhook(1, "wamid.r-4", "what is the price?", wa_id="15559990000")
    assert await post(http, gw, 1, body) == 200
    assert await wait_replies(fake_graph, 1, "15559990000") == ["echo: what is the price?"]
    delivered = bot.deliveries()
    assert [(d["text"], d["attempt"]) for d in delivered] == [("what is the price?", 1)]

    # pass: nobody after the bot, so no answer; handoff: silence until released.
    body = text_webhook(1, "wamid.r-5", "pass this", wa_id="15559990000", ts=1767225700)
    assert await post(http, gw, 1, body) == 200
    body = text_webhook(1, "wamid.r-6", "handoff please", wa_id="15559990000", ts=1767225701)
    assert await post(http, gw, 1, body) == 200
    body = text_webhook(1, "wamid.r-7", "hello?", wa_id="15559990000", ts=1767225702)
    assert await post(http, gw, 1, body) == 200
    await eventually(lambda: len(bot.deliveries()) == 3, what="3 deliveries")
    await asyncio.sleep(0.3)
    assert len(bot.deliveries()) == 3  # the message after the handoff never reached it
    assert replies(fake_graph, "15559990000") == ["echo: what is the price?"]


async def test_unacknowledged_event_is_redelivered(gateways, fake_graph, http, node_bots) -> None:
    gw = gateways({"tenants": [tenant(1, fake_graph.base_url, [])]})
    first = await node_bots(gw, "--name", "crm", "--drop-first")
    await say(http, gw, 1, "order 42?")
    await eventually(lambda: first.deliveries(), what="the first delivery")
    await first.proc.wait()  # it died without answering
    assert replies(fake_graph) == []
    second = await node_bots(gw, "--name", "crm")
    assert await wait_replies(fake_graph, 1) == ["echo: order 42?"]
    (again,) = second.deliveries()
    assert again["delivery"] == first.deliveries()[0]["delivery"]
    assert again["attempt"] == 2
    await asyncio.sleep(0.3)
    assert len(replies(fake_graph)) == 1


async def test_bad_key_is_refused(gateways, fake_graph) -> None:
    gw = gateways({"tenants": [tenant(1, fake_graph.base_url, [])]})
    proc = await spawn(gw, "wrong", "--name", "x")
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 1
    assert json.loads(err)["code"] == 16  # UNAUTHENTICATED
