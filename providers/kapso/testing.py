"""A fake of Kapso's Meta-compatible proxy on 127.0.0.1, and the contract kit."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from aiohttp import web

from providers.signing import hmac_hex
from providers.testing import ContractKit, FakeGraphAPI, Sample, load_samples

PHONE_NUMBER_ID = "109876543210001"  # the samples' business number
API_KEY = "kapso-test-api-key"
WEBHOOK_SECRET = "test-kapso-secret"  # the samples' test vector secret

_MESSAGE = ("message_new",)
_STATUS = ("message_status",)
_NOTICE = ("provider_event",)


class FakeKapsoProxy(FakeGraphAPI):
    """Kapso's proxy: Graph routes under `/meta/whatsapp`, authorized by `X-API-Key`
    (with `expected_token` set, other requests get 401)."""

    path_prefix: ClassVar[str] = "/meta/whatsapp"

    def check_auth(self, request: web.Request) -> bool:
        if self.expected_token is None:
            return True
        return request.headers.get("X-API-Key") == self.expected_token

    def auth_failure(self, request: web.Request) -> tuple[int, Any]:
        return 401, {"error": "Invalid API key"}


def kapso_headers(event: str, *, batch: int = 0, idempotency_key: str = "") -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "X-Webhook-Event": event,
        "X-Webhook-Payload-Version": "v2",
    }
    if batch:
        headers |= {"X-Webhook-Batch": "true", "X-Batch-Size": str(batch)}
    if idempotency_key:
        headers["X-Idempotency-Key"] = idempotency_key
    return headers


# Sample file -> the event name Kapso sends it with, and the events it must parse to.
SAMPLE_EVENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "message_received_text": ("whatsapp.message.received", _MESSAGE),
    "message_received_image": ("whatsapp.message.received", _MESSAGE),
    "message_received_interactive": ("whatsapp.message.received", _MESSAGE),
    "message_received_batch": ("whatsapp.message.received", _MESSAGE * 3),
    "message_sent": ("whatsapp.message.sent", _STATUS),
    "message_delivered": ("whatsapp.message.delivered", _STATUS * 2),
    "message_read": ("whatsapp.message.read", _STATUS * 3),
    "message_failed": ("whatsapp.message.failed", _STATUS * 2),
    "conversation_created": ("whatsapp.conversation.created", _NOTICE),
    "conversation_ended": ("whatsapp.conversation.ended", _NOTICE),
    "conversation_inactive": ("whatsapp.conversation.inactive", _NOTICE),
    "phone_number_created": ("whatsapp.phone_number.created", _NOTICE),
    "meta_forwarded_text": ("", _MESSAGE),
}


class KapsoKit(ContractKit):
    def samples(self, fixtures_dir: Path) -> list[Sample]:
        headers = {
            name: kapso_headers(event, batch=3 if "batch" in name else 0)
            if event
            else {"Content-Type": "application/json"}
            for name, (event, _) in SAMPLE_EVENTS.items()
        }
        expect = {name: kinds for name, (_, kinds) in SAMPLE_EVENTS.items()}
        return load_samples(fixtures_dir / "kapso", expect, **headers)

    def fake_server(self) -> FakeKapsoProxy:
        return FakeKapsoProxy(expected_token=API_KEY)

    def settings(self, server: Any) -> dict[str, Any]:
        return {
            "phone_number_id": PHONE_NUMBER_ID,
            "webhook_secret": WEBHOOK_SECRET,
            "api_key": API_KEY,
            "api_base_url": server.base_url,
        }

    def sign(self, body: bytes, settings: Mapping[str, Any]) -> dict[str, str]:
        return {"X-Webhook-Signature": hmac_hex(str(settings["webhook_secret"]), body)}

    def sent(self, server: Any) -> list[Any]:
        messages: list[Any] = server.messages(accepted_only=True)
        return messages
