from wagate.v1 import event_pb2 as _event_pb2
from wagate.v1 import messaging_service_pb2 as _messaging_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BotMessage(_message.Message):
    __slots__ = ("register", "reply")
    REGISTER_FIELD_NUMBER: _ClassVar[int]
    REPLY_FIELD_NUMBER: _ClassVar[int]
    register: BotRegister
    reply: BotReply
    def __init__(self, register: _Optional[_Union[BotRegister, _Mapping]] = ..., reply: _Optional[_Union[BotReply, _Mapping]] = ...) -> None: ...

class BotRegister(_message.Message):
    __slots__ = ("name", "priority", "channel_ids")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_IDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    priority: int
    channel_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., priority: _Optional[int] = ..., channel_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BotReply(_message.Message):
    __slots__ = ("delivery_id", "actions")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    actions: _containers.RepeatedCompositeFieldContainer[BotAction]
    def __init__(self, delivery_id: _Optional[str] = ..., actions: _Optional[_Iterable[_Union[BotAction, _Mapping]]] = ...) -> None: ...

class BotAction(_message.Message):
    __slots__ = ("send", "handoff")
    SEND_FIELD_NUMBER: _ClassVar[int]
    PASS_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_FIELD_NUMBER: _ClassVar[int]
    send: _messaging_service_pb2.SendMessageRequest
    handoff: BotHandoff
    def __init__(self, send: _Optional[_Union[_messaging_service_pb2.SendMessageRequest, _Mapping]] = ..., handoff: _Optional[_Union[BotHandoff, _Mapping]] = ..., **kwargs) -> None: ...

class BotPass(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class BotHandoff(_message.Message):
    __slots__ = ("note",)
    NOTE_FIELD_NUMBER: _ClassVar[int]
    note: str
    def __init__(self, note: _Optional[str] = ...) -> None: ...

class BotEvent(_message.Message):
    __slots__ = ("registered", "delivery")
    REGISTERED_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    registered: BotRegistered
    delivery: BotDelivery
    def __init__(self, registered: _Optional[_Union[BotRegistered, _Mapping]] = ..., delivery: _Optional[_Union[BotDelivery, _Mapping]] = ...) -> None: ...

class BotRegistered(_message.Message):
    __slots__ = ("tenant_id", "name")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    name: str
    def __init__(self, tenant_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class BotDelivery(_message.Message):
    __slots__ = ("delivery_id", "event", "attempt")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    event: _event_pb2.Event
    attempt: int
    def __init__(self, delivery_id: _Optional[str] = ..., event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ..., attempt: _Optional[int] = ...) -> None: ...
