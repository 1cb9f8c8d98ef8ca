from wagate.v1 import event_pb2 as _event_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetSessionRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class GetSessionResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: _event_pb2.SessionState
    def __init__(self, session: _Optional[_Union[_event_pb2.SessionState, _Mapping]] = ...) -> None: ...

class ListSessionsRequest(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: _event_pb2.SessionStatus
    def __init__(self, status: _Optional[_Union[_event_pb2.SessionStatus, str]] = ...) -> None: ...

class SessionSummary(_message.Message):
    __slots__ = ("connected", "disconnected", "loading", "needs_qr", "error", "total")
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    DISCONNECTED_FIELD_NUMBER: _ClassVar[int]
    LOADING_FIELD_NUMBER: _ClassVar[int]
    NEEDS_QR_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    connected: int
    disconnected: int
    loading: int
    needs_qr: int
    error: int
    total: int
    def __init__(self, connected: _Optional[int] = ..., disconnected: _Optional[int] = ..., loading: _Optional[int] = ..., needs_qr: _Optional[int] = ..., error: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...

class ListSessionsResponse(_message.Message):
    __slots__ = ("sessions", "summary")
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[_event_pb2.SessionState]
    summary: SessionSummary
    def __init__(self, sessions: _Optional[_Iterable[_Union[_event_pb2.SessionState, _Mapping]]] = ..., summary: _Optional[_Union[SessionSummary, _Mapping]] = ...) -> None: ...
