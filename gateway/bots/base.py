"""What a bot plugin sees: one turn of a conversation, and how to answer it."""

from __future__ import annotations

import enum
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from gateway.bots.common import PluginConfig, own_keys
from storage.bots import SessionRow, message_text
from wagate.v1 import message_pb2, messaging_service_pb2

log = logging.getLogger("wagate.bots")

M = message_pb2
R = TypeVar("R")


class Outcome(enum.Enum):
    HANDLED = "handled"  # the chain stops here
    PASS = "pass"  # the next plugin gets the turn
    HANDOFF = "handoff"  # handled, and the bot is paused for a human until released


@dataclass
class Turn:
    """One inbound message (or a debounced burst: `messages` oldest first) to answer."""

    tenant_id: str
    timezone: str
    messages: list[message_pb2.Message]
    sessions: dict[str, SessionRow] = field(default_factory=dict)

    @property
    def message(self) -> message_pb2.Message:
        return self.messages[-1]

    @property
    def conversation_id(self) -> str:
        return self.message.conversation_id

    @property
    def channel_id(self) -> str:
        return self.message.channel_id

    @property
    def contact(self) -> message_pb2.Contact:
        return self.message.contact

    @property
    def text(self) -> str:
        return "\n".join(t for t in (message_text(m) for m in self.messages) if t)

    @property
    def reply_id(self) -> str:
        """The button or list option id the customer picked, if any."""
        msg = self.message
        kind = msg.WhichOneof("content")
        if kind == "button_reply":
            return msg.button_reply.id
        if kind == "list_reply":
            return msg.list_reply.id
        return ""


class Sender(Protocol):
    async def send(
        self, tenant_id: str, request: messaging_service_pb2.SendMessageRequest
    ) -> message_pb2.Message: ...


class Host(Protocol):
    """What a turn uses of the bot host (gateway/bots/host.py)."""

    @property
    def outbox(self) -> Sender: ...

    async def write(self, fn: Callable[..., Awaitable[R]], *args: Any) -> R: ...

    async def save_session(self, turn: Turn, row: SessionRow) -> None: ...

    async def typing(self, turn: Turn, active: bool) -> None: ...


class Context:
    """A plugin's handle on the turn: replies go through the outbox with
    deterministic idempotency keys, so a replay never sends twice."""

    def __init__(self, host: Host, turn: Turn, plugin: str) -> None:
        self.host = host
        self.turn = turn
        self.plugin = plugin
        self._n = 0
        self._typing = False

    def key(self) -> str:
        self._n += 1
        return f"bot:{self.turn.message.id}:{self.plugin}:{self._n}"

    async def send(self, content: message_pb2.Message) -> message_pb2.Message:
        """Send `content` (a Message with only its content set) to the contact."""
        kind = content.WhichOneof("content")
        assert kind is not None
        c = self.turn.contact
        request = messaging_service_pb2.SendMessageRequest(
            channel_id=self.turn.channel_id, to=c.wa_id or c.user_id, idempotency_key=self.key()
        )
        getattr(request, kind).CopyFrom(getattr(content, kind))
        return await self.host.outbox.send(self.turn.tenant_id, request)

    async def send_text(self, body: str) -> message_pb2.Message:
        return await self.send(M.Message(text=M.TextContent(body=body)))

    async def typing(self, active: bool) -> None:
        if active == self._typing:
            return
        self._typing = active
        await self.host.typing(self.turn, active)


SessionSaver = Callable[[SessionRow], Awaitable[None]]


class Plugin(ABC):
    name: str
    priority: int
    channels: tuple[str, ...] = ()
    # Milliseconds to wait for more messages before a run (0: none).
    debounce_ms: int = 0

    def serves(self, channel_id: str) -> bool:
        return not self.channels or channel_id in self.channels

    def available(self) -> bool:
        """False when the plugin cannot take turns now (a remote bot not connected)."""
        return True

    @abstractmethod
    async def handle(self, ctx: Context) -> Outcome: ...

    async def close(self) -> None:
        """Release what the plugin holds (HTTP clients) when the gateway stops."""
        return None


@dataclass
class Setup:
    """What a configured plugin is built with besides its config."""

    tenant_id: str
    # One per host, for state its plugins share (the AI breakers), each entry keyed
    # by the plugin's name in `wagate.bots` first.
    shared: dict[Any, Any]


C = TypeVar("C", bound=PluginConfig)


class ConfiguredPlugin(Plugin, Generic[C]):
    """A plugin a tenant names in its `bots:` list (`plugin: <name>`).

    It is found through the `wagate.bots` entry-point group (`<name> = "module:Class"`)
    and declares its config: `config`, a frozen `PluginConfig` subclass, and `keys`,
    the keys it takes besides `plugin`, `name`, `priority` and `channels` (by default
    the fields of `config`). The config is parsed once, when the gateway loads its
    configuration (docs/bots.md).
    """

    config: ClassVar[type[PluginConfig]] = PluginConfig
    keys: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "keys" not in vars(cls):
            cls.keys = own_keys(cls.config)

    @classmethod
    def parse(cls, where: str, raw: dict[str, Any]) -> dict[str, Any]:
        """The plugin's own fields of `config`, from the entry `raw` (its keys are checked
        already); raises `ConfigError` naming `where`. By default the keys as given."""
        return {key: raw[key] for key in cls.keys if key in raw}

    def __init__(self, cfg: C, setup: Setup) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.priority = cfg.priority
        self.channels = cfg.channels
