"""The kapso channel: Kapso webhooks in, Kapso's Meta-compatible proxy out
(https://docs.kapso.ai/docs/how-to/whatsapp/use-meta-proxy).

Sending reuses the Meta Cloud API bodies and error handling unchanged; only the
base URL and the credential (`X-API-Key` instead of a bearer token) differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from providers.base import Capabilities, WebhookRequest
from providers.kapso import parse
from providers.meta_cloud import send
from providers.meta_cloud.provider import MetaCloudProvider
from providers.signing import verify_hmac
from wagate.v1 import event_pb2

if TYPE_CHECKING:
    from providers.testing import ContractKit

DEFAULT_API_BASE = "https://api.kapso.ai/meta/whatsapp/v23.0"
_MAX_DEDUP_KEY = 64


class KapsoProvider(MetaCloudProvider):
    kind: ClassVar[str] = "kapso"
    capabilities: ClassVar[Capabilities] = MetaCloudProvider.capabilities
    required_settings = frozenset({"phone_number_id", "webhook_secret", "api_key"})
    optional_settings = frozenset({"api_base_url"})
    secret_settings = frozenset({"webhook_secret", "api_key"})
    webhook_slug = "kapso"
    default_api_base = DEFAULT_API_BASE
    parse_after_ack = False  # its parser reads headers and rejects more than the envelope

    @classmethod
    def route_keys(cls, payload: Any) -> list[str]:
        return []  # Kapso posts to a per-channel URL

    @classmethod
    def account_keys(cls, payload: Any) -> list[str]:
        return []  # the channel URL owns the whole delivery: `parse` reads account changes

    def handshake(self, query: Mapping[str, str]) -> str | None:
        return None  # Kapso documents no GET verification

    def authenticate(self, request: WebhookRequest) -> None:
        """`X-Webhook-Signature`: hex HMAC-SHA256 of the raw body, no prefix."""
        verify_hmac(
            str(self.settings["webhook_secret"]),
            request.body,
            request.headers.get("x-webhook-signature"),
        )

    def dedup_key(self, request: WebhookRequest) -> str:
        """Kapso's `X-Idempotency-Key` when present (hashed if longer than the column)."""
        key = request.headers.get("x-idempotency-key", "").strip()
        if not key:
            return super().dedup_key(request)
        if len(key) > _MAX_DEDUP_KEY:
            return hashlib.sha256(key.encode()).hexdigest()
        return key

    def parse(self, request: WebhookRequest, payload: Any) -> list[event_pb2.Event]:
        return parse.parse_payload(
            payload,
            request.headers,
            channel_id=self.channel_id,
            phone_number_id=self.phone_number_id,
        )

    async def _post(self, body: dict[str, Any]) -> Any:
        return await send.graph_post(self.http, self.messages_url, "", body, headers=self._auth())

    def _auth(self) -> dict[str, str]:
        return {"X-API-Key": self._api_key}

    @property
    def _api_key(self) -> str:
        return str(self.settings["api_key"])

    @classmethod
    def contract_kit(cls) -> ContractKit:
        from providers.kapso.testing import KapsoKit

        return KapsoKit()
