"""A Node.js client (@grpc/grpc-js, tests/node/send_text.js) against a real gateway."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from dataclasses import dataclass
from typing import Any

import pytest

from providers.testing import FakeGraphAPI
from tests.support.paths import NODE_DIR
from tests.support.procs import Gateway
from tests.support.tenants import ACCESS_TOKEN, ACME_KEY, ACME_PHONE_ID

pytestmark = pytest.mark.integration

SCRIPT = NODE_DIR / "send_text.js"
TO = "+15551234567"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.returncode == 0, self.stderr
        return json.loads(self.stdout)


async def run_node(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run send_text.js without blocking the loop (the fake Graph API lives in it)."""
    node = shutil.which("node")
    assert node, "node is not installed"
    assert (NODE_DIR / "node_modules" / "@grpc" / "grpc-js").is_dir(), "run `make install`"
    # The script's settings come only from this test, never from the caller's shell.
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("WAGATE_")}
    proc = await asyncio.create_subprocess_exec(
        node,
        str(SCRIPT),
        *args,
        cwd=NODE_DIR,
        env={**base_env, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


def cli(gateway: Gateway, key: str, text: str, channel: str = "acme-meta") -> list[str]:
    return [
        "--target", gateway.grpc_target,
        "--key", key,
        "--channel", channel,
        "--to", TO,
        "--text", text,
    ]  # fmt: skip


async def test_node_send_text(gateway: Gateway, fake_graph: FakeGraphAPI) -> None:
    response = (await run_node(*cli(gateway, ACME_KEY, "Hello from Node"))).json()
    message = response["message"]
    assert message["status"] == "MESSAGE_STATUS_SENT"
    assert message["direction"] == "DIRECTION_OUTBOUND"
    assert message["provider_message_id"].startswith("wamid.")
    assert message["channel_id"] == "acme-meta"
    assert message["tenant_id"] == "acme"
    assert message["conversation_id"]
    assert message["content"] == "text"
    assert message["text"]["body"] == "Hello from Node"

    [post] = [r for r in fake_graph.requests if r.method == "POST"]
    assert post.path == f"/v23.0/{ACME_PHONE_ID}/messages"
    assert post.header("Authorization") == f"Bearer {ACCESS_TOKEN}"
    assert post.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": TO,
        "type": "text",
        "text": {"body": "Hello from Node"},
    }
    assert post.response["messages"][0]["id"] == message["provider_message_id"]

    # The same through environment variables, with an idempotency key sent twice.
    env = {
        "WAGATE_GRPC_TARGET": gateway.grpc_target,
        "WAGATE_API_KEY": ACME_KEY,
        "WAGATE_CHANNEL": "acme-meta",
        "WAGATE_TO": TO,
        "WAGATE_TEXT": "Hello again",
        "WAGATE_IDEMPOTENCY_KEY": "node-1",
    }
    first = (await run_node(env=env)).json()["message"]
    second = (await run_node(env=env)).json()["message"]
    assert first["status"] == "MESSAGE_STATUS_SENT"
    assert first["idempotency_key"] == "node-1"
    assert second["id"] == first["id"]
    assert second["provider_message_id"] == first["provider_message_id"]
    assert first["conversation_id"] == message["conversation_id"]
    assert [b["text"]["body"] for b in fake_graph.messages()] == ["Hello from Node", "Hello again"]


async def test_node_errors(gateway: Gateway, fake_graph: FakeGraphAPI) -> None:
    result = await run_node(*cli(gateway, "wrong-key", "nope"))
    assert result.returncode != 0
    assert result.stdout == ""
    failure = json.loads(result.stderr.strip().splitlines()[-1])
    assert failure["code"] == 16
    assert failure["name"] == "UNAUTHENTICATED"

    result = await run_node(*cli(gateway, ACME_KEY, "nope", channel="globex-meta"))
    assert result.returncode != 0
    assert json.loads(result.stderr.strip().splitlines()[-1])["code"] == 7  # PERMISSION_DENIED

    result = await run_node("--target", gateway.grpc_target, "--key", ACME_KEY)
    assert result.returncode == 2
    assert "--channel" in result.stderr

    assert fake_graph.requests == []
