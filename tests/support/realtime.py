"""Helpers for the realtime tests: Meta webhooks with many messages, and a Socket.IO client."""

from __future__ import annotations

import copy
import json
from typing import Any

import aiohttp
import socketio

from tests.support.polling import eventually
from tests.support.procs import Gateway
from tests.support.samples import sample_bytes
from tests.support.tenants import (
    ACME_KEY,
    ACME_PHONE_ID,
    ACME_SECRET,
    GLOBEX_PHONE_ID,
    GLOBEX_SECRET,
    meta_sign,
)

ACME = (ACME_PHONE_ID, ACME_SECRET)
GLOBEX = (GLOBEX_PHONE_ID, GLOBEX_SECRET)


def text_webhook(
    messages: list[tuple[str, str, str]], phone_number_id: str = ACME_PHONE_ID, ts: int = 1767225660
) -> bytes:
    """One webhook carrying text messages, each (wamid, body, wa_id), in this order."""
    data: dict[str, Any] = json.loads(sample_bytes("meta", "text.json"))
    value = data["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = phone_number_id
    template = value["messages"][0]
    value["contacts"] = []
    value["messages"] = []
    for wamid, body, wa_id in messages:
        if all(c["wa_id"] != wa_id for c in value["contacts"]):
            value["contacts"].append({"profile": {"name": f"Contact {wa_id}"}, "wa_id": wa_id})
        msg = copy.deepcopy(template)
        msg.update({"id": wamid, "from": wa_id, "timestamp": str(ts)})
        msg["text"]["body"] = body
        value["messages"].append(msg)
    return json.dumps(data).encode()


def status_webhook(
    wamid: str, status: str, wa_id: str, phone_number_id: str = ACME_PHONE_ID
) -> bytes:
    data: dict[str, Any] = json.loads(sample_bytes("meta", f"status_{status}.json"))
    value = data["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = phone_number_id
    value["statuses"][0].update({"id": wamid, "recipient_id": wa_id})
    return json.dumps(data).encode()


async def post(
    http: aiohttp.ClientSession, gw: Gateway, body: bytes, account: tuple[str, str] = ACME
) -> None:
    async with http.post(
        gw.url + "/webhooks/meta", data=body, headers=meta_sign(body, account[1])
    ) as resp:
        assert resp.status == 200, await resp.text()


async def api(
    http: aiohttp.ClientSession, gw: Gateway, method: str, path: str, key: str, body: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    async with http.request(method, gw.url + "/api/v1" + path, headers=headers, json=body) as r:
        return r.status, await r.json()


async def send_text(
    http: aiohttp.ClientSession, gw: Gateway, to: str, body: str, key: str = ACME_KEY
) -> dict[str, Any]:
    """Send through REST on acme's channel; the stored message (PENDING → SENT)."""
    request = {"channelId": "acme-meta", "to": to, "text": {"body": body}}
    status, sent = await api(http, gw, "POST", "/messages", key, request)
    assert status == 200, sent
    message: dict[str, Any] = sent["message"]
    return message


class Client:
    """python-socketio's AsyncClient, recording every event it receives, in order."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self.refusal: Any = None

        self.sio.on("*", self._on_any)
        self.sio.on("connect_error", self._on_refused)

    async def _on_any(self, event: str, data: Any = None) -> None:
        self.events.append((event, data))

    async def _on_refused(self, data: Any = None) -> None:
        self.refusal = data

    async def connect(
        self, gw: Gateway, token: str, transport: str, after: str | None = None
    ) -> Client:
        auth: dict[str, Any] = {"token": token}
        if after is not None:
            auth["after_event_id"] = after
        await self.sio.connect(gw.url, auth=auth, transports=[transport], wait_timeout=10)
        return self

    def of(self, *names: str) -> list[Any]:
        return [data for name, data in self.events if name in names]

    async def wait(self, *names: str, count: int = 1, within: float = 10.0) -> list[Any]:
        await eventually(
            lambda: len(self.of(*names)) >= count, within, f"{count} x {names} ({self.events})"
        )
        return self.of(*names)

    async def call(self, event: str, data: Any) -> Any:
        return await self.sio.call(event, data, timeout=10)

    async def close(self) -> None:
        await self.sio.shutdown()
