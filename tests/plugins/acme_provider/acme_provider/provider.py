"""The acme_echo channel: JSON webhooks signed with `X-Acme-Signature` (hex
HMAC-SHA256 of the raw body), sends to `POST {api_base_url}/send` with a token.

It uses only wagate's public provider interface (providers.base, providers.signing)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from google.protobuf.timestamp_pb2 import Timestamp

from providers.base import (
    ErrorKind,
    OutboundMessage,
    PayloadError,
    Provider,
    SendError,
    SendResult,
    UnsupportedContent,
    WebhookRequest,
)
from providers.signing import verify_hmac
from wagate.v1 import event_pb2, message_pb2

if TYPE_CHECKING:
    from providers.testing import ContractKit

_STATES = {
    "sent": message_pb2.MESSAGE_STATUS_SENT,
    "delivered": message_pb2.MESSAGE_STATUS_DELIVERED,
    "read": message_pb2.MESSAGE_STATUS_READ,
    "failed": message_pb2.MESSAGE_STATUS_FAILED,
}


def _ts(value: Any) -> Timestamp | None:
    if not isinstance(value, int):
        return None
    ts = Timestamp()
    ts.FromSeconds(value)
    return ts


class AcmeProvider(Provider):
    kind: ClassVar[str] = "acme_echo"
    required_settings = frozenset({"api_base_url", "api_token", "secret"})
    secret_settings = frozenset({"api_token", "secret"})
    webhook_slug = "acme"

    def authenticate(self, request: WebhookRequest) -> None:
        verify_hmac(
            str(self.settings["secret"]), request.body, request.headers.get("x-acme-signature")
        )

    def parse(self, request: WebhookRequest, payload: Any) -> list[event_pb2.Event]:
        if not isinstance(payload, dict):
            raise PayloadError("expected a JSON object")
        items = payload.get("items") if payload.get("type") == "batch" else [payload]
        if not isinstance(items, list):
            raise PayloadError("'items' must be a list")
        return [self._event(item) for item in items if isinstance(item, dict)]

    def _event(self, item: dict[str, Any]) -> event_pb2.Event:
        ts = _ts(item.get("ts"))
        if item.get("type") == "receipt":
            state = _STATES.get(str(item.get("state")))
            if state is None:
                raise PayloadError(f"unknown receipt state {item.get('state')!r}")
            update = message_pb2.StatusUpdate(
                provider_message_id=str(item.get("id", "")),
                status=state,
                timestamp=ts,
                recipient_id="".join(c for c in str(item.get("to", "")) if c.isdigit()),
            )
            return event_pb2.Event(
                channel_id=self.channel_id, occurred_at=ts, message_status=update
            )
        contact = message_pb2.Contact(
            wa_id="".join(c for c in str(item.get("from", "")) if c.isdigit()),
            name=str(item.get("name", "")),
        )
        msg = message_pb2.Message(
            channel_id=self.channel_id,
            provider=self.kind,
            provider_message_id=str(item.get("id", "")),
            contact=contact,
            direction=message_pb2.DIRECTION_INBOUND,
            status=message_pb2.MESSAGE_STATUS_RECEIVED,
            timestamp=ts,
            text=message_pb2.TextContent(body=str(item.get("text", ""))),
        )
        return event_pb2.Event(channel_id=self.channel_id, occurred_at=ts, message_new=msg)

    def validate(self, out: OutboundMessage) -> None:
        if out.message.WhichOneof("content") != "text":
            raise UnsupportedContent("acme_echo sends text only")

    async def send(self, out: OutboundMessage) -> SendResult:
        self.validate(out)
        url = str(self.settings["api_base_url"]).rstrip("/") + "/send"
        headers = {"Authorization": f"Token {self.settings['api_token']}"}
        body = {"to": out.to, "text": out.message.text.body}
        async with self.http.post(url, json=body, headers=headers) as resp:
            answer = await resp.json(content_type=None)
            if resp.status >= 500:
                raise SendError(ErrorKind.RETRYABLE, f"acme answered HTTP {resp.status}")
            if resp.status >= 400 or not isinstance(answer, dict) or not answer.get("id"):
                raise SendError(ErrorKind.PERMANENT, f"acme refused the send: {answer!r:.200}")
            return SendResult(provider_message_id=str(answer["id"]))

    @classmethod
    def contract_kit(cls) -> ContractKit:
        from acme_provider.testing import AcmeKit

        return AcmeKit()
