"""The meta_cloud channel: Meta WhatsApp Cloud API, direct."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from providers.base import (
    Capabilities,
    MediaSource,
    OutboundMessage,
    PayloadError,
    Provider,
    SendResult,
    WebhookRequest,
)
from providers.meta_cloud import parse, send, waba
from providers.signing import verify_hmac
from wagate.v1 import event_pb2, message_pb2

if TYPE_CHECKING:
    from providers.testing import ContractKit

DEFAULT_API_BASE = "https://graph.facebook.com/v23.0"


class MetaCloudProvider(Provider):
    kind: ClassVar[str] = "meta_cloud"
    capabilities: ClassVar[Capabilities] = Capabilities(
        buttons=True,
        lists=True,
        templates=True,
        reactions=True,
        typing=True,
        read_receipts=True,
    )
    required_settings = frozenset({"phone_number_id", "app_secret", "verify_token", "access_token"})
    optional_settings = frozenset({"api_base_url", "waba_id"})
    secret_settings = frozenset({"app_secret", "verify_token", "access_token"})
    default_api_base: ClassVar[str] = DEFAULT_API_BASE
    parse_after_ack: ClassVar[bool] = True

    @property
    def phone_number_id(self) -> str:
        return str(self.settings["phone_number_id"])

    @property
    def api_base(self) -> str:
        return str(self.settings.get("api_base_url") or self.default_api_base).rstrip("/")

    @property
    def messages_url(self) -> str:
        return f"{self.api_base}/{self.phone_number_id}/messages"

    @property
    def _token(self) -> str:
        return str(self.settings["access_token"])

    def _auth(self) -> dict[str, str]:
        """The headers that authorize a Graph call (and a media download)."""
        return send.auth_headers(self._token)

    def route_key(self) -> str:
        return self.phone_number_id

    @classmethod
    def route_keys(cls, payload: Any) -> list[str]:
        return parse.route_keys(payload)

    def account_key(self) -> str | None:
        return str(self.settings.get("waba_id") or "") or None

    @classmethod
    def account_keys(cls, payload: Any) -> list[str]:
        return waba.account_keys(payload)

    def account_events(self, payload: Any, account_keys: list[str]) -> list[event_pb2.Event]:
        return waba.parse_account_changes(
            payload, channel_id=self.channel_id, waba_ids=account_keys
        )

    def check(self, payload: Any) -> None:
        parse.check_envelope(payload)  # the only thing the parser rejects

    def handshake(self, query: Mapping[str, str]) -> str | None:
        token = query.get("hub.verify_token", "")
        if query.get("hub.mode") != "subscribe" or not hmac.compare_digest(
            token.encode(), str(self.settings["verify_token"]).encode()
        ):
            return None
        return query.get("hub.challenge", "")

    def authenticate(self, request: WebhookRequest) -> None:
        verify_hmac(
            str(self.settings["app_secret"]),
            request.body,
            request.headers.get("x-hub-signature-256"),
            prefix="sha256=",
        )

    def parse(self, request: WebhookRequest, payload: Any) -> list[event_pb2.Event]:
        return parse.parse_payload(
            payload, channel_id=self.channel_id, phone_number_id=self.phone_number_id
        )

    async def _post(self, body: dict[str, Any]) -> Any:
        return await send.graph_post(self.http, self.messages_url, self._token, body)

    async def upload_media(self, data: bytes, mime_type: str, filename: str) -> str:
        url = f"{self.api_base}/{self.phone_number_id}/media"
        form = send.upload_form(data, mime_type, filename)
        answer = await send.graph_request(self.http, "POST", url, "", form, headers=self._auth())
        media_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(media_id, str) or not media_id:
            raise PayloadError("the Graph API answered an upload without a media id")
        return media_id

    async def media_source(self, media: message_pb2.MediaContent) -> MediaSource:
        """A media id resolves to a short-lived URL that needs the same credentials
        (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media)."""
        if not media.id:
            return MediaSource(media.link or media.url)
        url = f"{self.api_base}/{media.id}"
        answer = await send.graph_request(self.http, "GET", url, "", headers=self._auth())
        found = answer.get("url") if isinstance(answer, dict) else None
        if not isinstance(found, str) or not found:
            raise PayloadError(f"media {media.id}: the Graph API answered no URL")
        return MediaSource(found, self._auth())

    def validate(self, out: OutboundMessage) -> None:
        send.build_message_body(out)

    async def send(self, out: OutboundMessage) -> SendResult:
        return send.parse_send_response(await self._post(send.build_message_body(out)))

    async def mark_read(self, provider_message_id: str) -> None:
        await self._post(send.build_mark_read_body(provider_message_id))

    async def send_typing(self, provider_message_id: str, to: str) -> None:
        await self._post(send.build_typing_body(provider_message_id))

    @classmethod
    def contract_kit(cls) -> ContractKit:
        from providers.meta_cloud.testing import MetaCloudKit

        return MetaCloudKit()
