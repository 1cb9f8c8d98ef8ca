"""The ai plugin against the real openai and anthropic SDKs, pointed at fake HTTP
servers on 127.0.0.1 that speak their documented JSON (tests/support/fake_ai.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from gateway.bots.ai_config import DAYS
from tests.support.bots import post, replies, tenant, text_webhook, wait_replies
from tests.support.fake_ai import FakeAI
from tests.support.gateway_db import db_rows
from tests.support.metrics import samples, value
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

FALLBACK = "Sorry, I can't answer right now. Please try again in a few minutes."


@pytest.fixture
async def fake_ai() -> AsyncIterator[FakeAI]:
    async with FakeAI() as ai:
        yield ai


def ai_bot(ai: FakeAI, provider: str = "openai", **extra: Any) -> dict[str, Any]:
    return {
        "plugin": "ai",
        "provider": provider,
        "model": "claude-test" if provider == "anthropic" else "gpt-test",
        "api_key": f"sk-{provider}-key",
        "base_url": ai.anthropic_url if provider == "anthropic" else ai.openai_url,
        "system_prompt": "You are the ACME assistant.",
        **extra,
    }


async def test_slow_model_acks_fast_and_a_retried_webhook_gets_one_reply(
    gateways, fake_graph, fake_ai, http
) -> None:
    fake_ai.delay = 3.0
    gw = gateways({"tenants": [tenant(1, fake_graph.base_url, [ai_bot(fake_ai)])]})
    body = text_webhook(1, "wamid.slow-1", "Where is my order?")
    started = time.monotonic()
    assert await post(http, gw, 1, body) == 200
    assert time.monotonic() - started < 0.5  # acked long before the model answers
    await eventually(lambda: len(fake_ai.calls) == 1, what="the model call")
    # Meta retries while the model thinks: the same bytes, then the same message
    # inside a different delivery.
    assert await post(http, gw, 1, body) == 200
    assert await post(http, gw, 1, text_webhook(1, "wamid.slow-1", "Where", ts=1767229999)) == 200
    # Typing while the model works: the indicator to Meta and typing:start on the bus.
    await eventually(lambda: fake_graph.read_receipts(), what="typing indicator")
    assert fake_graph.read_receipts()[0]["typing_indicator"] == {"type": "text"}
    assert replies(fake_graph) == []
    assert await wait_replies(fake_graph, 1) == ["Hello from the model"]
    assert time.monotonic() - started >= 3.0
    await asyncio.sleep(0.5)
    assert len(fake_ai.calls) == 1 and len(replies(fake_graph)) == 1
    typing = db_rows(gw, "SELECT count(*) FROM event_log WHERE kind = 4")[0][0]
    assert typing == 2  # start and stop
    assert db_rows(gw, "SELECT tokens_in > 0, tokens_out FROM bot_usage") == [(1, 20)]


async def test_second_turn_sends_the_days_history(gateways, fake_graph, fake_ai, http) -> None:
    gw = gateways({"tenants": [tenant(1, fake_graph.base_url, [ai_bot(fake_ai)])]})
    assert await post(http, gw, 1, text_webhook(1, "wamid.h-1", "Hi there")) == 200
    await wait_replies(fake_graph, 1)
    fake_ai.reply = "Your order ships today"
    assert await post(http, gw, 1, text_webhook(1, "wamid.h-2", "And my order?", ts=1767225700))
    assert (await wait_replies(fake_graph, 2))[1] == "Your order ships today"
    metrics = await samples(http, gw)
    model = {"provider": "openai", "model": "gpt-test"}
    assert value(metrics, "wagate_ai_request_seconds_count", **model, outcome="ok") == 2
    output = len("Hello from the model") + len(fake_ai.reply)  # the fake counts characters
    assert value(metrics, "wagate_ai_tokens_total", **model, direction="output") == output
    assert value(metrics, "wagate_ai_tokens_total", **model, direction="input") > 0
    assert value(metrics, "wagate_bot_runs_total", plugin="ai", outcome="handled") == 2
    second = fake_ai.calls[1]
    assert second.headers["authorization"] == "Bearer sk-openai-key"
    assert second.body["model"] == "gpt-test"
    assert second.body["messages"] == [
        {"role": "system", "content": "You are the ACME assistant."},
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "Hello from the model"},
        {"role": "user", "content": "And my order?"},
    ]


async def test_breaker_opens_after_five_failures(gateways, fake_graph, fake_ai, http) -> None:
    fake_ai.fail_next(100)
    gw = gateways({"tenants": [tenant(1, fake_graph.base_url, [ai_bot(fake_ai)])]})
    for i in range(7):
        body = text_webhook(1, f"wamid.b-{i}", f"question {i}", ts=1767225660 + i)
        assert await post(http, gw, 1, body) == 200
        await wait_replies(fake_graph, i + 1)
    assert len(fake_ai.calls) == 5  # the 6th and 7th never reach the model
    assert replies(fake_graph) == [FALLBACK] * 7  # never an error string
    metrics = await samples(http, gw)
    model = {"provider": "openai", "model": "gpt-test"}
    assert value(metrics, "wagate_ai_request_seconds_count", **model, outcome="error") == 5
    assert value(metrics, "wagate_ai_breaker_open", tenant="t1", **model) == 1


async def test_limits_hours_and_quota(gateways, fake_graph, fake_ai, http) -> None:
    today = datetime.now(UTC)
    closed_days = [d for i, d in enumerate(DAYS) if i != today.weekday()]
    tenants = [
        tenant(1, fake_graph.base_url, [ai_bot(fake_ai, daily_limit=1)]),
        tenant(
            2,
            fake_graph.base_url,
            [ai_bot(fake_ai, business_hours={"days": closed_days}, out_of_hours_message="Closed")],
        ),
        tenant(3, fake_graph.base_url, [ai_bot(fake_ai, quota_messages=1, expired_message="Q")]),
        tenant(
            4,
            fake_graph.base_url,
            [ai_bot(fake_ai, expires_at=str(date.today() - timedelta(days=2)))],
        ),
    ]
    gw = gateways({"tenants": tenants})

    async def ask(index: int, n: int) -> list[str]:
        wa = f"1555000{index}{n}"
        body = text_webhook(index, f"wamid.l-{index}-{n}", "hello", wa_id=wa)
        assert await post(http, gw, index, body) == 200
        return await wait_replies(fake_graph, 1, wa)

    # Daily limit: per contact, so a second contact still gets the model.
    assert await ask(1, 0) == ["Hello from the model"]
    assert await post(http, gw, 1, text_webhook(1, "wamid.l-1-again", "more", wa_id="155500010"))
    assert (await wait_replies(fake_graph, 2, "155500010"))[1] == (
        "You have reached today's message limit. Please come back tomorrow."
    )
    assert await ask(1, 1) == ["Hello from the model"]
    assert await ask(2, 0) == ["Closed"]
    assert await ask(3, 0) == ["Hello from the model"]
    assert await ask(3, 1) == ["Q"]  # the tenant's quota is used up
    assert await ask(4, 0) == ["This assistant is not available at the moment."]
    assert len(fake_ai.calls) == 3


async def test_each_tenant_uses_its_own_provider_and_credentials(
    gateways, fake_graph, fake_ai, http
) -> None:
    gw = gateways(
        {
            "tenants": [
                tenant(1, fake_graph.base_url, [ai_bot(fake_ai, "anthropic")]),
                tenant(2, fake_graph.base_url, [ai_bot(fake_ai, "openai")], timezone="Asia/Tokyo"),
            ]
        }
    )
    assert await post(http, gw, 1, text_webhook(1, "wamid.t-1", "hola", wa_id="15550000001"))
    assert await post(http, gw, 2, text_webhook(2, "wamid.t-2", "konnichiwa", wa_id="15550000002"))
    await wait_replies(fake_graph, 1, "15550000001")
    await wait_replies(fake_graph, 1, "15550000002")
    by_path = {c.path: c for c in fake_ai.calls}
    anthropic, openai = by_path["/v1/messages"], by_path["/v1/chat/completions"]
    # The SDK sends the key as x-api-key or as a bearer token, depending on its version.
    key = anthropic.headers.get("x-api-key") or anthropic.headers["authorization"][7:]
    assert key == "sk-anthropic-key"
    assert anthropic.body["system"] == "You are the ACME assistant."
    assert anthropic.body["messages"] == [{"role": "user", "content": "hola"}]
    assert openai.headers["authorization"] == "Bearer sk-openai-key"
    assert openai.body["messages"][-1] == {"role": "user", "content": "konnichiwa"}
    tokens = {
        r.json["to"]: r.header("Authorization")
        for r in fake_graph.requests
        if isinstance(r.json, dict) and "text" in r.json
    }
    assert tokens == {
        "+15550000001": "Bearer t1-access-token",
        "+15550000002": "Bearer t2-access-token",
    }
    usage = db_rows(gw, "SELECT tenant_id, provider FROM bot_usage ORDER BY tenant_id")
    assert usage == [("t1", "anthropic"), ("t2", "openai")]


async def test_debounce_merges_a_burst_into_one_call(gateways, fake_graph, fake_ai, http) -> None:
    gw = gateways({"tenants": [tenant(1, fake_graph.base_url, [ai_bot(fake_ai, debounce_ms=400)])]})
    for i, text in enumerate(["Hi", "I have a question", "about my order"]):
        body = text_webhook(1, f"wamid.d-{i}", text, ts=1767225660 + i)
        assert await post(http, gw, 1, body) == 200
    await wait_replies(fake_graph, 1)
    await asyncio.sleep(0.6)
    assert len(fake_ai.calls) == 1 and len(replies(fake_graph)) == 1
    user = [m["content"] for m in fake_ai.calls[0].body["messages"] if m["role"] == "user"]
    assert user == ["Hi", "I have a question", "about my order"]
