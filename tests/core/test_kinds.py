"""The event-kind registry covers the proto exactly, and says the same as before for each kind."""

from __future__ import annotations

from core import kinds
from wagate.v1 import event_pb2, message_pb2

E = event_pb2
M = message_pb2


def test_every_payload_field_has_one_row_with_its_enum() -> None:
    fields = [f.name for f in E.Event.DESCRIPTOR.oneofs_by_name["payload"].fields]
    assert [k.field for k in kinds.KINDS] == fields
    for kind in kinds.KINDS:
        assert E.EventKind.Name(kind.enum) == f"EVENT_KIND_{kind.field.upper()}"
    named = set(E.EventKind.values()) - {E.EVENT_KIND_UNSPECIFIED}
    assert {k.enum for k in kinds.KINDS} == named


def test_an_event_without_payload() -> None:
    event = E.Event(channel_id="ch")
    assert kinds.kind_of(event) is None
    assert kinds.enum_of(event) == E.EVENT_KIND_UNSPECIFIED
    assert kinds.conversation_of(event) == ""
    assert kinds.ordering_key(event) == "ch|"
    assert kinds.socket_event(event) is None


def test_message_new() -> None:
    msg = M.Message(conversation_id="c1", contact=M.Contact(wa_id="4915", user_id="u"))
    msg.text.body = "hi"
    event = E.Event(id="7", channel_id="ch", message_new=msg)
    assert kinds.kind_of(event) is kinds.MESSAGE_NEW
    assert kinds.enum_of(event) == E.EVENT_KIND_MESSAGE_NEW
    assert kinds.conversation_of(event) == "c1"
    assert kinds.ordering_key(event) == "ch|4915"
    name, payload, conversation = kinds.socket_event(event) or ("", {}, "")
    assert (name, conversation) == ("message:new", "c1")
    assert payload["event_id"] == "7"
    assert payload["contactId"] == "4915"
    assert payload["message"]["text"] == {"body": "hi"}


def test_message_status_orders_by_the_recipient_digits() -> None:
    status = M.StatusUpdate(
        conversation_id="c1",
        message_id="m1",
        recipient_id="+49 15",
        status=M.MESSAGE_STATUS_READ,
    )
    event = E.Event(id="8", channel_id="ch", message_status=status)
    assert kinds.ordering_key(event) == "ch|4915"
    assert kinds.conversation_of(event) == "c1"
    name, payload, conversation = kinds.socket_event(event) or ("", {}, "")
    assert (name, payload["status"], conversation) == (
        "message:status",
        "MESSAGE_STATUS_READ",
        "c1",
    )
    assert "error" not in payload
    event.message_status.recipient_id = ""
    event.message_status.recipient_user_id = "user-1"
    assert kinds.ordering_key(event) == "ch|user-1"


def test_kinds_without_a_party_share_one_key_per_channel() -> None:
    session = E.Event(channel_id="ch", session_updated=E.SessionState(session_id="s"))
    typing = E.Event(channel_id="ch", typing=E.Typing(conversation_id="c1", active=False))
    assert kinds.ordering_key(session) == "ch|session_updated"
    assert kinds.ordering_key(typing) == "ch|typing"
    assert kinds.conversation_of(session) == ""
    assert kinds.conversation_of(typing) == "c1"
    assert (kinds.socket_event(typing) or ("",))[0] == "typing:stop"
    name, payload, conversation = kinds.socket_event(session) or ("", {}, "")
    assert (name, payload["sessionId"], conversation) == ("session:updated", "s", "")


def test_provider_events_are_logged_but_not_emitted() -> None:
    event = E.Event(channel_id="ch", provider_event=E.ProviderEvent(name="x"))
    assert kinds.enum_of(event) == E.EVENT_KIND_PROVIDER_EVENT
    assert kinds.socket_event(event) is None


def test_message_updated_and_deleted_render_the_contract_shapes() -> None:
    msg = M.Message(id="m1", conversation_id="c1", contact=M.Contact(wa_id="4915"))
    msg.text.body = "edited"
    msg.edited_at.seconds = 1767225720
    event = E.Event(id="9", channel_id="ch", message_updated=msg)
    assert kinds.ordering_key(event) == "ch|4915"
    name, payload, conversation = kinds.socket_event(event) or ("", {}, "")
    assert (name, conversation) == ("message:updated", "c1")
    assert set(payload) == {"event_id", "message", "conversationId"}
    assert payload["message"]["editedAt"] == "2026-01-01T00:02:00Z"
    deleted = E.MessageDeleted(message_id="m1", provider_message_id="wamid.1", conversation_id="c1")
    event = E.Event(id="10", channel_id="ch", message_deleted=deleted)
    name, payload, conversation = kinds.socket_event(event) or ("", {}, "")
    assert (name, conversation) == ("message:deleted", "c1")
    assert payload == {
        "event_id": "10",
        "messageId": "m1",
        "providerMessageId": "wamid.1",
        "conversationId": "c1",
    }


def test_account_and_template_events_go_to_the_tenant_not_a_conversation() -> None:
    account = E.AccountUpdate(waba_id="w1", event="ACCOUNT_RESTRICTION")
    account.details.update({"restriction_info": [{"restriction_type": "X"}]})
    event = E.Event(id="11", channel_id="ch", account_updated=account)
    name, payload, conversation = kinds.socket_event(event) or ("", {}, "")
    assert (name, conversation) == ("account:updated", "")
    assert payload == {
        "event_id": "11",
        "channelId": "ch",
        "wabaId": "w1",
        "event": "ACCOUNT_RESTRICTION",
        "details": {"restriction_info": [{"restriction_type": "X"}]},
    }
    template = E.TemplateUpdate(
        waba_id="w1", template_id="7", name="sale", language="en_US", quality="RED"
    )
    event = E.Event(id="12", channel_id="ch", template_updated=template)
    name, payload, conversation = kinds.socket_event(event) or ("", {}, "")
    assert (name, conversation) == ("template:updated", "")
    assert payload == {
        "event_id": "12",
        "wabaId": "w1",
        "templateId": "7",
        "name": "sale",
        "language": "en_US",
        "quality": "RED",
    }
