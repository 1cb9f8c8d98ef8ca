"""The Meta Cloud API contract kit (its fake server is providers.testing.FakeGraphAPI)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from providers.signing import hmac_hex
from providers.testing import ContractKit, FakeGraphAPI, Sample, load_samples

PHONE_NUMBER_ID = "109876543210001"  # the samples' business number
ACCESS_TOKEN = "meta-test-token"
APP_SECRET = "test-app-secret"

_MESSAGE = ("message_new",)
_STATUS = ("message_status",)
_INBOUND = (
    "audio_voice button_template_quick_reply contacts document image interactive_button_reply "
    "interactive_list_reply interactive_nfm_reply location order reaction reaction_removed "
    "request_welcome sticker system_user_changed_number text text_bsuid_username "
    "text_forwarded text_frequently_forwarded text_message_business_button text_referral_ctwa "
    "text_reply_context unknown_legacy unsupported video"
).split()
_STATUSES = "status_delivered status_failed status_failed_undeliverable status_read status_sent"


class MetaCloudKit(ContractKit):
    def samples(self, fixtures_dir: Path) -> list[Sample]:
        expect: dict[str, tuple[str, ...]] = dict.fromkeys(_INBOUND, _MESSAGE)
        expect |= dict.fromkeys(_STATUSES.split(), _STATUS)
        expect["value_errors"] = ()
        expect["multi_entry_batch"] = _MESSAGE * 3 + _STATUS * 2
        return load_samples(fixtures_dir / "meta", expect)

    def fake_server(self) -> FakeGraphAPI:
        return FakeGraphAPI(expected_token=ACCESS_TOKEN)

    def settings(self, server: Any) -> dict[str, Any]:
        return {
            "phone_number_id": PHONE_NUMBER_ID,
            "app_secret": APP_SECRET,
            "verify_token": "meta-verify",
            "access_token": ACCESS_TOKEN,
            "api_base_url": server.base_url,
        }

    def sign(self, body: bytes, settings: Mapping[str, Any]) -> dict[str, str]:
        return {"X-Hub-Signature-256": "sha256=" + hmac_hex(str(settings["app_secret"]), body)}

    def sent(self, server: Any) -> list[Any]:
        messages: list[Any] = server.messages(accepted_only=True)
        return messages


# -- Meta-shaped webhooks, for simulated customers and status reports -----------------


def _notification(phone_number_id: str, value: dict[str, Any]) -> bytes:
    """A Cloud API notification (https://developers.facebook.com/docs/whatsapp/
    cloud-api/webhooks/components) carrying one `messages` change."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": phone_number_id},
        **value,
    }
    change = {"field": "messages", "value": value}
    return orjson.dumps(
        {"object": "whatsapp_business_account", "entry": [{"id": "0", "changes": [change]}]}
    )


def customer_webhook(
    phone_number_id: str, sender: str, name: str, kind: str, content: dict[str, Any]
) -> bytes:
    """A customer's message of type `kind` (`content` is its object), with a fresh wamid."""
    message = {
        "from": sender,
        "id": "wamid.SIM-" + secrets.token_hex(12),
        "timestamp": str(int(time.time())),
        "type": kind,
        kind: content,
    }
    contact = {"profile": {"name": name or sender}, "wa_id": sender}
    return _notification(phone_number_id, {"contacts": [contact], "messages": [message]})


def text_webhook(phone_number_id: str, sender: str, name: str, text: str) -> bytes:
    return customer_webhook(phone_number_id, sender, name, "text", {"body": text})


def status_webhook(phone_number_id: str, wamid: str, recipient: str, status: str) -> bytes:
    report = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient,
    }
    return _notification(phone_number_id, {"statuses": [report]})


def signature_headers(app_secret: str, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": "sha256=" + hmac_hex(app_secret, body),
    }


class ReportingGraphAPI(FakeGraphAPI):
    """A fake Graph API that, like Meta, reports each accepted message back as `sent`,
    `delivered` and `read` status webhooks, signed with the channel's app secret."""

    def __init__(self, *, webhook_url: str, app_secret: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.webhook_url = webhook_url
        self.app_secret = app_secret
        self._tasks: set[asyncio.Task[None]] = set()

    def answer_message(self, phone_number_id: str, body: Any) -> tuple[int, Any]:
        status, answer = super().answer_message(phone_number_id, body)
        if status == 200 and "messages" in answer:
            wamid, to = answer["messages"][0]["id"], str(body.get("to", ""))
            task = asyncio.ensure_future(self._report(phone_number_id, wamid, to))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return status, answer

    async def post(self, body: bytes) -> int:
        """POST a signed notification to the gateway; the HTTP status."""
        headers = signature_headers(self.app_secret, body)
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.webhook_url, data=body, headers=headers) as resp,
        ):
            return resp.status

    async def _report(self, phone_number_id: str, wamid: str, to: str) -> None:
        for status in ("sent", "delivered", "read"):
            await asyncio.sleep(0.3)
            await self.post(status_webhook(phone_number_id, wamid, to, status))
