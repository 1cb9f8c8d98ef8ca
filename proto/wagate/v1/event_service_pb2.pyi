import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from wagate.v1 import event_pb2 as _event_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StreamEventsRequest(_message.Message):
    __slots__ = ("channel_ids", "conversation_ids", "after_event_id", "kinds")
    CHANNEL_IDS_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_IDS_FIELD_NUMBER: _ClassVar[int]
    AFTER_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    channel_ids: _containers.RepeatedScalarFieldContainer[str]
    conversation_ids: _containers.RepeatedScalarFieldContainer[str]
    after_event_id: str
    kinds: _containers.RepeatedScalarFieldContainer[_event_pb2.EventKind]
    def __init__(self, channel_ids: _Optional[_Iterable[str]] = ..., conversation_ids: _Optional[_Iterable[str]] = ..., after_event_id: _Optional[str] = ..., kinds: _Optional[_Iterable[_Union[_event_pb2.EventKind, str]]] = ...) -> None: ...

class CreateRealtimeTokenRequest(_message.Message):
    __slots__ = ("conversation_ids", "ttl_seconds")
    CONVERSATION_IDS_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    conversation_ids: _containers.RepeatedScalarFieldContainer[str]
    ttl_seconds: int
    def __init__(self, conversation_ids: _Optional[_Iterable[str]] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class CreateRealtimeTokenResponse(_message.Message):
    __slots__ = ("token", "expires_at", "conversation_ids")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_IDS_FIELD_NUMBER: _ClassVar[int]
    token: str
    expires_at: _timestamp_pb2.Timestamp
    conversation_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, token: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., conversation_ids: _Optional[_Iterable[str]] = ...) -> None: ...
