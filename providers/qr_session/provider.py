"""The qr_session channel: a WhatsApp Web session run by an engine (whatsapp-web.js
bridge or WAHA). Its webhooks arrive at `/webhooks/qr/{session_id}`; sends go to
the engine's WAHA-compatible HTTP API with `X-Api-Key`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from providers.base import (
    Capabilities,
    MediaSource,
    OutboundMessage,
    Provider,
    SendResult,
    SignatureError,
    WebhookRequest,
)
from providers.qr_session import parse, send
from providers.signing import verify_hmac
from wagate.v1 import event_pb2, message_pb2

if TYPE_CHECKING:
    from providers.testing import ContractKit


class QrSessionProvider(Provider):
    kind: ClassVar[str] = "qr_session"
    # No reply buttons, lists or templates: the outbox degrades or refuses those.
    capabilities: ClassVar[Capabilities] = Capabilities(
        reactions=True, typing=True, read_receipts=True, chat_ids=True
    )
    required_settings = frozenset({"session_id", "engine_base_url"})
    optional_settings = frozenset({"webhook_secret", "engine_api_key", "engine_session"})
    secret_settings = frozenset({"webhook_secret", "engine_api_key"})
    webhook_slug = "qr"
    webhook_key = "route"

    @property
    def _session(self) -> str:
        """The engine's own session name (WAHA's `session`), default our session id."""
        return str(self.settings.get("engine_session") or self.settings["session_id"])

    @property
    def _base_url(self) -> str:
        return str(self.settings["engine_base_url"])

    @property
    def _api_key(self) -> str:
        return str(self.settings.get("engine_api_key") or "")

    def route_key(self) -> str:
        return str(self.settings["session_id"])

    def session_id(self) -> str:
        return str(self.settings["session_id"])

    def authenticate(self, request: WebhookRequest) -> None:
        """`X-Webhook-Hmac`: hex HMAC-SHA512 of the raw body, when a secret is set."""
        secret = self.settings.get("webhook_secret")
        if not secret:
            return
        algorithm = request.headers.get("x-webhook-hmac-algorithm", "sha512").lower()
        if algorithm != "sha512":
            raise SignatureError(f"unsupported X-Webhook-Hmac-Algorithm '{algorithm[:20]}'")
        verify_hmac(
            str(secret), request.body, request.headers.get("x-webhook-hmac"), algorithm="sha512"
        )

    def parse(self, request: WebhookRequest, payload: Any) -> list[event_pb2.Event]:
        return parse.parse_payload(
            payload, channel_id=self.channel_id, session_id=self.session_id()
        )

    def validate(self, out: OutboundMessage) -> None:
        send.build_request(out, self._session)

    async def _call(self, request: send.Request) -> Any:
        return await send.engine_call(self.http, self._base_url, self._api_key, request)

    async def send(self, out: OutboundMessage) -> SendResult:
        request = send.build_request(out, self._session)
        return send.send_result(request, await self._call(request))

    async def mark_read(self, provider_message_id: str) -> None:
        await self._call(send.seen_request(provider_message_id, self._session))

    async def send_typing(self, provider_message_id: str, to: str) -> None:
        await self._call(send.typing_request(to, self._session))

    async def stop_typing(self, to: str) -> None:
        await self._call(send.typing_request(to, self._session, active=False))

    async def media_source(self, media: message_pb2.MediaContent) -> MediaSource:
        """The engine serves the media it received at its own URL, behind its API key."""
        headers = {"X-Api-Key": self._api_key} if self._api_key else {}
        return MediaSource(media.url or media.link, headers)

    async def control_session(self, action: str) -> None:
        """WAHA's `POST /api/sessions/{session}/{start|stop|logout}`
        (https://waha.devlike.pro/docs/how-to/sessions/)."""
        await self._call(send.session_request(action, self._session))

    @classmethod
    def contract_kit(cls) -> ContractKit:
        from providers.qr_session.testing import QrSessionKit

        return QrSessionKit()
