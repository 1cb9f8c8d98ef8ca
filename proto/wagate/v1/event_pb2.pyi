import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from wagate.v1 import message_pb2 as _message_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SessionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_STATUS_UNSPECIFIED: _ClassVar[SessionStatus]
    SESSION_STATUS_QR_GENERATED: _ClassVar[SessionStatus]
    SESSION_STATUS_CONNECTING: _ClassVar[SessionStatus]
    SESSION_STATUS_LOADING: _ClassVar[SessionStatus]
    SESSION_STATUS_SESSION_CONNECTED: _ClassVar[SessionStatus]
    SESSION_STATUS_SESSION_NOT_CONNECTED: _ClassVar[SessionStatus]
    SESSION_STATUS_AUTH_FAILURE: _ClassVar[SessionStatus]
    SESSION_STATUS_ERROR: _ClassVar[SessionStatus]

class EventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_KIND_UNSPECIFIED: _ClassVar[EventKind]
    EVENT_KIND_MESSAGE_NEW: _ClassVar[EventKind]
    EVENT_KIND_MESSAGE_STATUS: _ClassVar[EventKind]
    EVENT_KIND_SESSION_UPDATED: _ClassVar[EventKind]
    EVENT_KIND_TYPING: _ClassVar[EventKind]
    EVENT_KIND_PROVIDER_EVENT: _ClassVar[EventKind]
    EVENT_KIND_MESSAGE_UPDATED: _ClassVar[EventKind]
    EVENT_KIND_MESSAGE_DELETED: _ClassVar[EventKind]
    EVENT_KIND_ACCOUNT_UPDATED: _ClassVar[EventKind]
    EVENT_KIND_TEMPLATE_UPDATED: _ClassVar[EventKind]
    EVENT_KIND_CONTACT_UPDATED: _ClassVar[EventKind]
    EVENT_KIND_CALL: _ClassVar[EventKind]
SESSION_STATUS_UNSPECIFIED: SessionStatus
SESSION_STATUS_QR_GENERATED: SessionStatus
SESSION_STATUS_CONNECTING: SessionStatus
SESSION_STATUS_LOADING: SessionStatus
SESSION_STATUS_SESSION_CONNECTED: SessionStatus
SESSION_STATUS_SESSION_NOT_CONNECTED: SessionStatus
SESSION_STATUS_AUTH_FAILURE: SessionStatus
SESSION_STATUS_ERROR: SessionStatus
EVENT_KIND_UNSPECIFIED: EventKind
EVENT_KIND_MESSAGE_NEW: EventKind
EVENT_KIND_MESSAGE_STATUS: EventKind
EVENT_KIND_SESSION_UPDATED: EventKind
EVENT_KIND_TYPING: EventKind
EVENT_KIND_PROVIDER_EVENT: EventKind
EVENT_KIND_MESSAGE_UPDATED: EventKind
EVENT_KIND_MESSAGE_DELETED: EventKind
EVENT_KIND_ACCOUNT_UPDATED: EventKind
EVENT_KIND_TEMPLATE_UPDATED: EventKind
EVENT_KIND_CONTACT_UPDATED: EventKind
EVENT_KIND_CALL: EventKind

class SessionState(_message.Message):
    __slots__ = ("session_id", "status", "message", "qr", "qr_image", "is_connected", "needs_qr", "is_loading", "has_error", "created_at", "updated_at", "channel_id", "loading_percent")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    QR_FIELD_NUMBER: _ClassVar[int]
    QR_IMAGE_FIELD_NUMBER: _ClassVar[int]
    IS_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    NEEDS_QR_FIELD_NUMBER: _ClassVar[int]
    IS_LOADING_FIELD_NUMBER: _ClassVar[int]
    HAS_ERROR_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    LOADING_PERCENT_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    status: SessionStatus
    message: str
    qr: str
    qr_image: str
    is_connected: bool
    needs_qr: bool
    is_loading: bool
    has_error: bool
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    channel_id: str
    loading_percent: int
    def __init__(self, session_id: _Optional[str] = ..., status: _Optional[_Union[SessionStatus, str]] = ..., message: _Optional[str] = ..., qr: _Optional[str] = ..., qr_image: _Optional[str] = ..., is_connected: _Optional[bool] = ..., needs_qr: _Optional[bool] = ..., is_loading: _Optional[bool] = ..., has_error: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., channel_id: _Optional[str] = ..., loading_percent: _Optional[int] = ...) -> None: ...

class Typing(_message.Message):
    __slots__ = ("conversation_id", "active")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    active: bool
    def __init__(self, conversation_id: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class ProviderEvent(_message.Message):
    __slots__ = ("name", "provider_conversation_id", "contact", "data_json")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    name: str
    provider_conversation_id: str
    contact: _message_pb2.Contact
    data_json: str
    def __init__(self, name: _Optional[str] = ..., provider_conversation_id: _Optional[str] = ..., contact: _Optional[_Union[_message_pb2.Contact, _Mapping]] = ..., data_json: _Optional[str] = ...) -> None: ...

class MessageDeleted(_message.Message):
    __slots__ = ("message_id", "provider_message_id", "conversation_id", "deleted_at", "revoke_id", "contact")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    DELETED_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKE_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    provider_message_id: str
    conversation_id: str
    deleted_at: _timestamp_pb2.Timestamp
    revoke_id: str
    contact: _message_pb2.Contact
    def __init__(self, message_id: _Optional[str] = ..., provider_message_id: _Optional[str] = ..., conversation_id: _Optional[str] = ..., deleted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoke_id: _Optional[str] = ..., contact: _Optional[_Union[_message_pb2.Contact, _Mapping]] = ...) -> None: ...

class AccountUpdate(_message.Message):
    __slots__ = ("waba_id", "event", "details")
    WABA_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    waba_id: str
    event: str
    details: _struct_pb2.Struct
    def __init__(self, waba_id: _Optional[str] = ..., event: _Optional[str] = ..., details: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class TemplateUpdate(_message.Message):
    __slots__ = ("waba_id", "template_id", "name", "language", "status", "quality", "category", "reason", "previous_quality", "previous_category", "source", "details")
    WABA_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_QUALITY_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    waba_id: str
    template_id: str
    name: str
    language: str
    status: str
    quality: str
    category: str
    reason: str
    previous_quality: str
    previous_category: str
    source: str
    details: _struct_pb2.Struct
    def __init__(self, waba_id: _Optional[str] = ..., template_id: _Optional[str] = ..., name: _Optional[str] = ..., language: _Optional[str] = ..., status: _Optional[str] = ..., quality: _Optional[str] = ..., category: _Optional[str] = ..., reason: _Optional[str] = ..., previous_quality: _Optional[str] = ..., previous_category: _Optional[str] = ..., source: _Optional[str] = ..., details: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ContactUpdate(_message.Message):
    __slots__ = ("contact", "conversation_id", "category", "value", "detail")
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    contact: _message_pb2.Contact
    conversation_id: str
    category: str
    value: str
    detail: str
    def __init__(self, contact: _Optional[_Union[_message_pb2.Contact, _Mapping]] = ..., conversation_id: _Optional[str] = ..., category: _Optional[str] = ..., value: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class CallEvent(_message.Message):
    __slots__ = ("call_id", "event", "status", "direction", "contact", "conversation_id", "start_time", "end_time", "duration_seconds", "permission_response", "permission_permanent", "permission_expires_at", "details")
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PERMISSION_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    PERMISSION_PERMANENT_FIELD_NUMBER: _ClassVar[int]
    PERMISSION_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    event: str
    status: str
    direction: str
    contact: _message_pb2.Contact
    conversation_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    duration_seconds: int
    permission_response: str
    permission_permanent: bool
    permission_expires_at: _timestamp_pb2.Timestamp
    details: _struct_pb2.Struct
    def __init__(self, call_id: _Optional[str] = ..., event: _Optional[str] = ..., status: _Optional[str] = ..., direction: _Optional[str] = ..., contact: _Optional[_Union[_message_pb2.Contact, _Mapping]] = ..., conversation_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration_seconds: _Optional[int] = ..., permission_response: _Optional[str] = ..., permission_permanent: _Optional[bool] = ..., permission_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., details: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("id", "tenant_id", "channel_id", "occurred_at", "message_new", "message_status", "session_updated", "typing", "provider_event", "message_updated", "message_deleted", "account_updated", "template_updated", "contact_updated", "call")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_NEW_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_STATUS_FIELD_NUMBER: _ClassVar[int]
    SESSION_UPDATED_FIELD_NUMBER: _ClassVar[int]
    TYPING_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_EVENT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_UPDATED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_DELETED_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_UPDATED_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_UPDATED_FIELD_NUMBER: _ClassVar[int]
    CONTACT_UPDATED_FIELD_NUMBER: _ClassVar[int]
    CALL_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    channel_id: str
    occurred_at: _timestamp_pb2.Timestamp
    message_new: _message_pb2.Message
    message_status: _message_pb2.StatusUpdate
    session_updated: SessionState
    typing: Typing
    provider_event: ProviderEvent
    message_updated: _message_pb2.Message
    message_deleted: MessageDeleted
    account_updated: AccountUpdate
    template_updated: TemplateUpdate
    contact_updated: ContactUpdate
    call: CallEvent
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., channel_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message_new: _Optional[_Union[_message_pb2.Message, _Mapping]] = ..., message_status: _Optional[_Union[_message_pb2.StatusUpdate, _Mapping]] = ..., session_updated: _Optional[_Union[SessionState, _Mapping]] = ..., typing: _Optional[_Union[Typing, _Mapping]] = ..., provider_event: _Optional[_Union[ProviderEvent, _Mapping]] = ..., message_updated: _Optional[_Union[_message_pb2.Message, _Mapping]] = ..., message_deleted: _Optional[_Union[MessageDeleted, _Mapping]] = ..., account_updated: _Optional[_Union[AccountUpdate, _Mapping]] = ..., template_updated: _Optional[_Union[TemplateUpdate, _Mapping]] = ..., contact_updated: _Optional[_Union[ContactUpdate, _Mapping]] = ..., call: _Optional[_Union[CallEvent, _Mapping]] = ...) -> None: ...

class EventBatch(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...
