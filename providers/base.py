"""The Provider interface every adapter implements, and the errors it speaks.

An adapter owns everything about one provider and nothing else does:
verifying and parsing its webhooks (pure, no I/O) and sending through its API.
The gateway only ever sees `wagate.v1` objects and the types below.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

import aiohttp

from core.errors import (
    ConfigError,
    ErrorKind,
    PayloadError,
    SendError,
    SignatureError,
    UnsupportedContent,
)
from wagate.v1 import event_pb2, message_pb2

if TYPE_CHECKING:
    from providers.testing import ContractKit

# Provider plugins import the errors they raise from here, beside the interface.
__all__ = [
    "SESSION_ACTIONS",
    "Capabilities",
    "ConfigError",
    "ErrorKind",
    "MediaSource",
    "OutboundMessage",
    "PayloadError",
    "Provider",
    "SendError",
    "SendResult",
    "SignatureError",
    "UnsupportedContent",
    "WebhookRequest",
    "provider_error",
]


def provider_error(exc: SendError) -> message_pb2.ProviderError:
    """The wire form of a failed send, as stored on the message and streamed."""
    return message_pb2.ProviderError(
        code=exc.code, title=exc.title, message=str(exc), details=exc.details
    )


@dataclass(frozen=True)
class Capabilities:
    """What a provider can send. Optional features default to off."""

    text: bool = True
    media: bool = True
    location: bool = True
    contacts: bool = True
    buttons: bool = False
    lists: bool = False
    templates: bool = False
    reactions: bool = False
    typing: bool = False
    read_receipts: bool = False
    # Recipients may be WhatsApp Web chat ids (`…@c.us`, `…@g.us`, `…@lid`), not only numbers.
    chat_ids: bool = False


@dataclass(frozen=True)
class WebhookRequest:
    """What a webhook handler hands an adapter: raw bytes, lower-cased headers, query."""

    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboundMessage:
    """A message to send: `message` carries the content oneof and reply context."""

    to: str
    message: message_pb2.Message


@dataclass(frozen=True)
class MediaSource:
    """Where a message's media bytes are: a URL and the headers that authorize it."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)


# What `POST /api/v1/sessions/{session_id}/<action>` may ask of an engine.
SESSION_ACTIONS = ("start", "stop", "logout")


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    # The provider's canonical id for the recipient, when it returns one.
    recipient_id: str = ""
    recipient_user_id: str = ""


class Provider(ABC):
    """One configured channel of one provider kind."""

    kind: ClassVar[str]
    capabilities: ClassVar[Capabilities] = Capabilities()
    # Channel config keys this provider accepts, and which of them are secrets
    # (secrets must be non-empty after ${VAR} expansion and are never logged).
    required_settings: ClassVar[frozenset[str]] = frozenset()
    optional_settings: ClassVar[frozenset[str]] = frozenset()
    secret_settings: ClassVar[frozenset[str]] = frozenset()
    # `POST /webhooks/<webhook_slug>/<key>` reaches this provider; "" for none.
    # `key` is a channel id, or with webhook_key = "route" the provider-side
    # account id that `route_key()` returns (e.g. a QR engine's session id).
    webhook_slug: ClassVar[str] = ""
    # True when `parse` rejects nothing that `check` did not already reject, and reads
    # neither headers nor query: the webhook is then acknowledged after `check` and
    # its body parsed after the ack, off the hot path.
    parse_after_ack: ClassVar[bool] = False
    webhook_key: ClassVar[Literal["channel", "route"]] = "channel"

    def __init__(self, channel_id: str, settings: Mapping[str, Any]) -> None:
        self.channel_id = channel_id
        self.settings = dict(settings)
        self._http: aiohttp.ClientSession | None = None

    @classmethod
    def from_channel(cls, channel_id: str, settings: Mapping[str, Any]) -> Self:
        """Validate settings and build the channel; raises ConfigError naming the key."""
        allowed = cls.required_settings | cls.optional_settings
        for key in settings:
            if key not in allowed:
                raise ConfigError(f"channel {channel_id}: unknown key '{key}' for {cls.kind}")
        for key in sorted(cls.secret_settings & settings.keys()):
            if settings[key] is None or settings[key] == "":
                raise ConfigError(f"channel {channel_id}: empty secret '{key}'")
        for key in sorted(cls.required_settings):
            value = settings.get(key)
            if value is None or value == "":
                what = "missing secret" if key in cls.secret_settings else "missing key"
                raise ConfigError(f"channel {channel_id}: {what} '{key}'")
        return cls(channel_id, settings)

    def bind_http(self, http: aiohttp.ClientSession) -> None:
        """Give the channel the shared HTTP client it sends with."""
        self._http = http

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None:
            raise RuntimeError(f"channel {self.channel_id}: no HTTP client bound")
        return self._http

    # -- inbound ---------------------------------------------------------------

    def route_key(self) -> str | None:
        """The provider-side account id that shared webhook routes route on."""
        return None

    @classmethod
    def route_keys(cls, payload: Any) -> list[str]:
        """Account ids a decoded payload is addressed to (shared routes only)."""
        return []

    def account_key(self) -> str | None:
        """The provider-side business account this channel belongs to, if declared
        (Meta's WABA id): webhooks addressed to the account rather than to a number
        are routed on it."""
        return None

    @classmethod
    def account_keys(cls, payload: Any) -> list[str]:
        """Business accounts a decoded payload addresses as a whole (no number)."""
        return []

    def account_events(self, payload: Any, account_keys: list[str]) -> list[event_pb2.Event]:
        """The events of a payload's account-level parts for these accounts, parsed
        before the ack (they are rare); stamped with this channel."""
        return []

    def dedup_key(self, request: WebhookRequest) -> str:
        """The inbox dedup key of a delivery (max 64 chars): a redelivery with the
        same key is stored once. Default: SHA-256 of the raw body."""
        return hashlib.sha256(request.body).hexdigest()

    def session_id(self) -> str | None:
        """The engine session this channel drives (QR engines), else None."""
        return None

    @classmethod
    def contract_kit(cls) -> ContractKit | None:
        """Samples, signing and a fake server for the shared provider contract suite."""
        return None

    def handshake(self, query: Mapping[str, str]) -> str | None:
        """Answer a GET verification: the challenge to echo, or None to refuse."""
        return None

    @abstractmethod
    def authenticate(self, request: WebhookRequest) -> None:
        """Raise SignatureError unless the request is signed by this channel's secret."""

    @staticmethod
    def decode(body: bytes) -> Any:
        """Decode the body (JSON for every known provider); PayloadError on failure."""
        from providers.signing import decode_json

        return decode_json(body)

    def check(self, payload: Any) -> None:
        """Reject before the ack (PayloadError) what `parse` would; only consulted when
        `parse_after_ack` is set."""
        return None

    @abstractmethod
    def parse(self, request: WebhookRequest, payload: Any) -> list[event_pb2.Event]:
        """Normalize a decoded, authenticated payload. Pure: no I/O, no clock."""

    # -- outbound --------------------------------------------------------------

    def validate(self, out: OutboundMessage) -> None:
        """Raise UnsupportedContent if `out` can never be sent on this channel.

        Called before the message is stored, so the caller gets a clear error.
        """
        return None

    @abstractmethod
    async def send(self, out: OutboundMessage) -> SendResult:
        """Send one message; raise SendError with a classified kind on failure."""

    async def mark_read(self, provider_message_id: str) -> None:
        raise UnsupportedContent(f"{self.kind} cannot send read receipts")

    async def send_typing(self, provider_message_id: str, to: str) -> None:
        raise UnsupportedContent(f"{self.kind} cannot send typing indicators")

    async def media_source(self, media: message_pb2.MediaContent) -> MediaSource:
        """Where to download a message's media (resolving a provider media id may take
        a call); UnsupportedContent when this channel cannot tell."""
        raise UnsupportedContent(f"{self.kind} cannot fetch media")

    async def upload_media(self, data: bytes, mime_type: str, filename: str) -> str:
        """Upload a file to send as media; the provider's media id."""
        raise UnsupportedContent(f"{self.kind} cannot upload media; send a link instead")

    async def control_session(self, action: str) -> None:
        """Start, stop or log out the engine session this channel drives."""
        raise UnsupportedContent(f"{self.kind} has no session to {action}")
