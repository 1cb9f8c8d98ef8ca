"""providers.meta_cloud.parse over every Meta webhook fixture (tests/fixtures/meta), plus
edge cases."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from google.protobuf import json_format

from providers.base import PayloadError
from providers.meta_cloud.parse import parse_payload, route_keys
from providers.meta_cloud.waba import account_keys, parse_account_changes
from tests.support.samples import SAMPLES_DIR, sample_bytes
from wagate.v1 import event_pb2, message_pb2

CHANNEL = "ch-meta"
PNID = "109876543210001"
PNID_2 = "109876543210002"
ALEX = "15551234567"
SAM = "15559876543"
BUSINESS = "15557654321"
OUR_WAMID_1 = "wamid.MTU1NTc2NTQzMjE6Yml6LW91dGJvdW5kLTE6bWFkZS11cC1zYW1wbGU="
BSUID = "user.0f3c5e7a9b1d2f4e6a8c0e2f4a6c8e0a2c4e6a8c0e2f4a6c8e0a2c4e6a8c0e2f"
# Sample files that are not webhook POST bodies.
M = message_pb2
Events = list[event_pb2.Event]


def load(name: str) -> Any:
    return json.loads(sample_bytes("meta", name))


def parse(payload: Any, **kwargs: Any) -> Events:
    return parse_payload(payload, channel_id=CHANNEL, **kwargs)


def only_message(events: Events) -> message_pb2.Message:
    assert len(events) == 1
    assert events[0].WhichOneof("payload") == "message_new"
    return events[0].message_new


def only_status(events: Events) -> message_pb2.StatusUpdate:
    assert len(events) == 1
    assert events[0].WhichOneof("payload") == "message_status"
    return events[0].message_status


def assert_alex(msg: message_pb2.Message | Any) -> None:
    """Alex Rivera is the contact of `msg` (a message, call or contact update)."""
    assert msg.contact.wa_id == ALEX
    assert msg.contact.user_id == ""
    assert msg.contact.name == "Alex Rivera"


def with_message(**fields: Any) -> dict[str, Any]:
    """text.json with its one message's type object replaced by `fields`."""
    payload = load("text.json")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    del message["text"]
    message.update(fields)
    return payload  # type: ignore[no-any-return]


# -- one check per sample file ---------------------------------------------------

CASES: dict[str, Callable[[Events], None]] = {}


def case(name: str) -> Callable[[Callable[[Events], None]], Callable[[Events], None]]:
    def register(check: Callable[[Events], None]) -> Callable[[Events], None]:
        CASES[name] = check
        return check

    return register


@case("text.json")
def _text(events: Events) -> None:
    msg = only_message(events)
    assert msg.provider_message_id == "wamid.MTU1NTEyMzQ1Njc6dGV4dC0xOm1hZGUtdXAtc2FtcGxl"
    assert_alex(msg)
    assert msg.WhichOneof("content") == "text"
    assert msg.text.body == "Hi, is my order on its way?"
    assert msg.timestamp.seconds == 1767225660
    assert not msg.HasField("context")
    assert not msg.errors


@case("text_bsuid_username.json")
def _text_bsuid(events: Events) -> None:
    msg = only_message(events)
    assert msg.contact.wa_id == ""
    assert msg.contact.user_id == BSUID
    assert msg.contact.name == "Alex Rivera"
    assert msg.contact.username == "@alex.rivera"
    assert msg.contact.country_code == "US"
    assert msg.text.body == "Hello from a username user"


@case("text_reply_context.json")
def _text_reply(events: Events) -> None:
    msg = only_message(events)
    assert msg.text.body == "Yes, Tuesday works for me"
    assert msg.context.reply_to_id == OUR_WAMID_1
    assert msg.context.reply_to_from == BUSINESS
    assert not msg.context.forwarded
    assert not msg.context.HasField("referral")


@case("text_forwarded.json")
def _text_forwarded(events: Events) -> None:
    msg = only_message(events)
    assert msg.text.body == "Look at this deal I got sent"
    assert msg.context.forwarded
    assert not msg.context.frequently_forwarded
    assert msg.context.reply_to_id == ""


@case("text_frequently_forwarded.json")
def _text_frequently_forwarded(events: Events) -> None:
    msg = only_message(events)
    assert msg.context.frequently_forwarded
    assert not msg.context.forwarded


@case("text_message_business_button.json")
def _text_product(events: Events) -> None:
    msg = only_message(events)
    assert msg.text.body == "Is this still available?"
    assert msg.context.reply_to_from == BUSINESS
    assert msg.context.reply_to_id.startswith("wamid.")
    assert msg.context.referred_product.catalog_id == "194800000000001"
    assert msg.context.referred_product.product_retailer_id == "sku-blue-42"


@case("text_referral_ctwa.json")
def _text_referral(events: Events) -> None:
    msg = only_message(events)
    assert msg.text.body == "Can I get more info about this?"
    assert msg.context.reply_to_id == ""
    ref = msg.context.referral
    assert ref.source_url == "https://fb.me/madeUpAd1"
    assert ref.source_id == "120200000000000001"
    assert ref.source_type == "ad"
    assert ref.body == "Winter sale on all plans"
    assert ref.headline == "Chat with us"
    assert ref.media_type == "image"
    assert ref.image_url == "https://scontent.xx.fbcdn.net/v/made-up-ad-image.jpg"
    assert ref.video_url == ""
    assert ref.ctwa_clid == "ARmadeUpClickIdForSampleOnly0123456789"
    assert ref.welcome_message_text == "Hi! How can we help?"


@case("image.json")
def _image(events: Events) -> None:
    msg = only_message(events)
    assert_alex(msg)
    assert msg.WhichOneof("content") == "image"
    assert msg.image.id == "1003383400000001"
    assert msg.image.mime_type == "image/jpeg"
    assert msg.image.caption == "Photo of the damaged box"
    assert msg.image.sha256 == "q2Zl3madeUpBase64Sha256ValueForTheImageAsset0000="
    assert msg.image.url.startswith("https://lookaside.fbsbx.com/")
    assert msg.image.link == ""


@case("audio_voice.json")
def _audio(events: Events) -> None:
    msg = only_message(events)
    assert msg.WhichOneof("content") == "audio"
    assert msg.audio.id == "1003383400000002"
    assert msg.audio.mime_type == "audio/ogg; codecs=opus"
    assert msg.audio.voice


@case("video.json")
def _video(events: Events) -> None:
    msg = only_message(events)
    assert msg.WhichOneof("content") == "video"
    assert msg.video.id == "1003383400000003"
    assert msg.video.mime_type == "video/mp4"
    assert msg.video.caption == "Unboxing"


@case("document.json")
def _document(events: Events) -> None:
    msg = only_message(events)
    assert msg.WhichOneof("content") == "document"
    assert msg.document.id == "1003383400000004"
    assert msg.document.mime_type == "application/pdf"
    assert msg.document.filename == "invoice-2026-001.pdf"
    assert msg.document.caption == "My invoice"


@case("sticker.json")
def _sticker(events: Events) -> None:
    msg = only_message(events)
    assert msg.WhichOneof("content") == "sticker"
    assert msg.sticker.id == "1003383400000005"
    assert msg.sticker.mime_type == "image/webp"
    assert not msg.sticker.animated


@case("location.json")
def _location(events: Events) -> None:
    msg = only_message(events)
    loc = msg.location
    assert msg.WhichOneof("content") == "location"
    assert loc.latitude == pytest.approx(39.7990175)
    assert loc.longitude == pytest.approx(-89.6439575)
    assert loc.name == "Example Coffee"
    assert loc.address == "1 Example Plaza, Springfield, IL 62701"
    assert loc.url == "https://example.com/coffee"


@case("contacts.json")
def _contacts(events: Events) -> None:
    msg = only_message(events)
    assert_alex(msg)
    assert msg.WhichOneof("content") == "contacts"
    (card,) = msg.contacts.contacts
    assert card.name.formatted_name == "Jordan P. Smith"
    assert (card.name.first_name, card.name.last_name) == ("Jordan", "Smith")
    assert (card.org.company, card.org.title) == ("Example Corp", "Buyer")
    (phone,) = card.phones
    assert (phone.phone, phone.wa_id, phone.type) == ("+1 (555) 010-2030", "15550102030", "MOBILE")
    (email,) = card.emails
    assert (email.email, email.type) == ("jordan@example.com", "WORK")
    assert not card.addresses and not card.urls


@case("interactive_button_reply.json")
def _button_reply(events: Events) -> None:
    msg = only_message(events)
    assert msg.WhichOneof("content") == "button_reply"
    assert msg.button_reply.id == "confirm-yes"
    assert msg.button_reply.title == "Yes, confirm"
    assert msg.context.reply_to_id == OUR_WAMID_1
    assert msg.context.reply_to_from == BUSINESS


@case("interactive_list_reply.json")
def _list_reply(events: Events) -> None:
    msg = only_message(events)
    assert msg.WhichOneof("content") == "list_reply"
    assert msg.list_reply.id == "ship_express"
    assert msg.list_reply.title == "Express shipping"
    assert msg.list_reply.description == "1-2 business days"
    assert msg.context.reply_to_id == (
        "wamid.MTU1NTc2NTQzMjE6Yml6LW91dGJvdW5kLTI6bWFkZS11cC1zYW1wbGU="
    )


@case("interactive_nfm_reply.json")
def _flow_reply(events: Events) -> None:
    msg = only_message(events)
    assert msg.WhichOneof("content") == "flow_reply"
    assert msg.flow_reply.name == "flow"
    assert msg.flow_reply.body == "Sent"
    raw = load("interactive_nfm_reply.json")["entry"][0]["changes"][0]["value"]["messages"][0]
    assert msg.flow_reply.response_json == raw["interactive"]["nfm_reply"]["response_json"]
    assert json.loads(msg.flow_reply.response_json)["flow_token"] == "flow-token-abc123"
    assert msg.context.reply_to_id.startswith("wamid.")


@case("button_template_quick_reply.json")
def _template_button(events: Events) -> None:
    msg = only_message(events)
    assert msg.WhichOneof("content") == "template_button_reply"
    assert msg.template_button_reply.payload == "STOP_PROMOS"
    assert msg.template_button_reply.text == "Stop promotions"
    assert msg.context.reply_to_id == (
        "wamid.MTU1NTc2NTQzMjE6Yml6LXRlbXBsYXRlLTE6bWFkZS11cC1zYW1wbGU="
    )


@case("reaction.json")
def _reaction(events: Events) -> None:
    msg = only_message(events)
    assert msg.WhichOneof("content") == "reaction"
    assert msg.reaction.message_id == OUR_WAMID_1
    assert msg.reaction.emoji == "\N{THUMBS UP SIGN}"


@case("reaction_removed.json")
def _reaction_removed(events: Events) -> None:
    msg = only_message(events)
    assert msg.WhichOneof("content") == "reaction"
    assert msg.reaction.message_id == OUR_WAMID_1
    assert msg.reaction.emoji == ""


@case("order.json")
def _order(events: Events) -> None:
    msg = only_message(events)
    assert msg.WhichOneof("content") == "order"
    assert msg.order.catalog_id == "194800000000001"
    assert msg.order.text == "Please gift-wrap"
    items = [
        (i.product_retailer_id, i.quantity, i.item_price, i.currency)
        for i in msg.order.product_items
    ]
    assert items == [("sku-blue-42", 2, 19.99, "USD"), ("sku-red-07", 1, 5.5, "USD")]


@case("system_user_changed_number.json")
def _system(events: Events) -> None:
    msg = only_message(events)
    assert msg.WhichOneof("content") == "system"
    assert msg.system.type == "user_changed_number"
    assert msg.system.wa_id == "15551230000"
    assert msg.system.body == "User Alex Rivera changed from 15551234567 to 15551230000"
    # No contacts[] on system messages: the sender comes from `from` alone.
    assert msg.contact.wa_id == ALEX
    assert msg.contact.name == ""


@case("request_welcome.json")
def _request_welcome(events: Events) -> None:
    msg = only_message(events)
    assert_alex(msg)
    assert msg.WhichOneof("content") == "system"
    assert msg.system.type == "request_welcome"


@case("unsupported.json")
def _unsupported(events: Events) -> None:
    msg = only_message(events)
    assert msg.WhichOneof("content") == "unsupported"
    assert msg.unsupported.type == "poll"
    (err,) = msg.errors
    assert err.code == 131051
    assert err.title == "Message type unknown"
    assert err.details == "Message type is currently not supported."


@case("unknown_legacy.json")
def _unknown(events: Events) -> None:
    msg = only_message(events)
    assert msg.WhichOneof("content") == "unsupported"
    assert msg.unsupported.type == "unknown"
    assert [e.code for e in msg.errors] == [131051]


@case("status_sent.json")
def _status_sent(events: Events) -> None:
    st = only_status(events)
    assert st.provider_message_id == OUR_WAMID_1
    assert st.status == M.MESSAGE_STATUS_SENT
    assert st.recipient_id == ALEX
    assert st.timestamp.seconds == 1767226000
    assert st.provider_conversation_id == "5f1c0d2e3a4b5c6d7e8f9a0b1c2d3e4f"
    assert not st.pricing.billable
    assert st.pricing.pricing_model == "PMP"
    assert st.pricing.type == "free_customer_service"
    assert st.pricing.category == "service"
    assert not st.errors


@case("status_delivered.json")
def _status_delivered(events: Events) -> None:
    st = only_status(events)
    assert st.status == M.MESSAGE_STATUS_DELIVERED
    assert st.recipient_id == ALEX
    assert st.HasField("pricing") and st.pricing.category == "service"
    assert st.provider_conversation_id == ""


@case("status_read.json")
def _status_read(events: Events) -> None:
    st = only_status(events)
    assert st.status == M.MESSAGE_STATUS_READ
    assert st.provider_message_id == OUR_WAMID_1
    assert not st.HasField("pricing")


@case("status_failed.json")
def _status_failed(events: Events) -> None:
    st = only_status(events)
    assert st.status == M.MESSAGE_STATUS_FAILED
    (err,) = st.errors
    assert err.code == 131047
    assert err.title == "Re-engagement message"
    assert err.details.startswith("Message failed to send because more than 24 hours")
    assert err.href.startswith("https://developers.facebook.com/")


@case("status_failed_undeliverable.json")
def _status_undeliverable(events: Events) -> None:
    st = only_status(events)
    assert st.status == M.MESSAGE_STATUS_FAILED
    assert st.recipient_id == "15550000000"
    assert [e.code for e in st.errors] == [131026]


@case("value_errors.json")
def _value_errors(events: Events) -> None:
    assert events == []


@case("multi_entry_batch.json")
def _batch(events: Events) -> None:
    kinds = [e.WhichOneof("payload") for e in events]
    assert kinds == ["message_new"] * 3 + ["message_status"] * 3
    msgs = [e.message_new for e in events[:3]]
    assert [m.text.body for m in msgs] == ["First message", "Second message", "Hi from Sam"]
    assert [m.contact.wa_id for m in msgs] == [ALEX, ALEX, SAM]
    assert [m.contact.name for m in msgs] == ["Alex Rivera", "Alex Rivera", "Sam Lee"]
    statuses = [e.message_status for e in events[3:]]
    assert [s.status for s in statuses] == [
        M.MESSAGE_STATUS_READ,
        M.MESSAGE_STATUS_DELIVERED,
        M.MESSAGE_STATUS_SENT,
    ]
    assert [s.recipient_id for s in statuses] == [ALEX, SAM, ALEX]
    assert statuses[2].pricing.billable and statuses[2].pricing.category == "utility"
    assert [e.occurred_at.seconds for e in events] == list(range(1767226200, 1767226206))


# -- account and template webhooks (addressed to the WABA) -------------------------

WABA = "104857600000001"


def only(events: Events, kind: str) -> Any:
    assert [e.WhichOneof("payload") for e in events] == [kind]
    return getattr(events[0], kind)


def details(struct: Any) -> dict[str, Any]:
    return json_format.MessageToDict(struct)


@case("account_update_restriction.json")
def _account_restriction(events: Events) -> None:
    account = only(events, "account_updated")
    assert (account.waba_id, account.event) == (WABA, "ACCOUNT_RESTRICTION")
    restrictions = details(account.details)["restriction_info"]
    assert [r["restriction_type"] for r in restrictions] == [
        "RESTRICTED_BIZ_INITIATED_MESSAGING",
        "RESTRICTED_ADD_PHONE_NUMBER_ACTION",
    ]
    assert events[0].occurred_at.seconds == 1767230000


@case("account_update_violation.json")
def _account_violation(events: Events) -> None:
    account = only(events, "account_updated")
    assert account.event == "ACCOUNT_VIOLATION"
    assert details(account.details) == {"violation_info": {"violation_type": "SCAM"}}


@case("account_update_disabled.json")
def _account_disabled(events: Events) -> None:
    account = only(events, "account_updated")
    assert account.event == "DISABLED_UPDATE"
    assert details(account.details)["ban_info"]["waba_ban_state"] == ["SCHEDULE_FOR_DISABLE"]


@case("account_update_partner_added.json")
def _account_partner(events: Events) -> None:
    account = only(events, "account_updated")
    assert account.event == "PARTNER_ADDED"
    assert details(account.details)["waba_info"]["owner_business_id"] == "208000000000001"


@case("account_update_verification.json")
def _account_verification(events: Events) -> None:
    account = only(events, "account_updated")
    assert account.event == "BUSINESS_VERIFICATION_STATUS_UPDATE"
    assert details(account.details) == {"business_verification_status": "verified"}


@case("account_update_deleted.json")
def _account_deleted(events: Events) -> None:
    account = only(events, "account_updated")
    assert account.event == "ACCOUNT_DELETED"
    assert details(account.details) == {"phone_number": BUSINESS}


@case("template_status_approved.json")
def _template_approved(events: Events) -> None:
    t = only(events, "template_updated")
    assert (t.waba_id, t.template_id, t.name, t.language) == (
        WABA,
        "1689556908129832",
        "winter_sale",
        "en_US",
    )
    assert (t.status, t.category, t.reason, t.quality) == ("APPROVED", "MARKETING", "NONE", "")
    assert t.source == "message_template_status_update"


@case("template_status_rejected.json")
def _template_rejected(events: Events) -> None:
    t = only(events, "template_updated")
    assert (t.status, t.reason, t.language) == ("REJECTED", "INCORRECT_CATEGORY", "es")
    assert details(t.details)["rejection_info"]["recommendation"].startswith("Submit it")


@case("template_quality_update.json")
def _template_quality(events: Events) -> None:
    t = only(events, "template_updated")
    assert (t.quality, t.previous_quality, t.status) == ("YELLOW", "GREEN", "")
    assert t.name == "winter_sale"


@case("template_category_update.json")
def _template_category(events: Events) -> None:
    t = only(events, "template_updated")
    assert (t.category, t.previous_category) == ("MARKETING", "UTILITY")
    assert (t.name, t.template_id) == ("welcome_back", "1689556908129834")


@case("template_components_update.json")
def _template_components(events: Events) -> None:
    t = only(events, "template_updated")
    assert t.source == "message_template_components_update"
    assert (t.status, t.quality, t.category) == ("", "", "")
    assert details(t.details)["message_template_title"] == "Winter sale"


@case("business_capability_update.json")
def _unmodelled_account_field(events: Events) -> None:
    recorded = only(events, "provider_event")
    assert recorded.name == "business_capability_update"
    assert json.loads(recorded.data_json)["max_phone_numbers_per_business"] == 2


# -- edits, revokes, echoes ----------------------------------------------------------

TEXT_WAMID = "wamid.MTU1NTEyMzQ1Njc6dGV4dC0xOm1hZGUtdXAtc2FtcGxl"
ECHO_WAMID = "wamid.MTU1NTc2NTQzMjE6ZWNoby0xOm1hZGUtdXAtc2FtcGxl"


@case("message_edit.json")
def _edit(events: Events) -> None:
    edit = only(events, "message_updated")
    assert edit.provider_message_id == TEXT_WAMID  # the original, not the edit
    assert edit.text.body == "Hi, is my order #1042 on its way?"
    assert edit.direction == M.DIRECTION_INBOUND
    assert edit.edited_at.seconds == 1767225720
    (revision,) = edit.revisions
    assert revision.edit_id == "wamid.MTU1NTEyMzQ1Njc6ZWRpdC0xOm1hZGUtdXAtc2FtcGxl"
    assert_alex(edit)


@case("message_revoke.json")
def _revoke(events: Events) -> None:
    deleted = only(events, "message_deleted")
    assert deleted.provider_message_id == TEXT_WAMID
    assert deleted.deleted_at.seconds == 1767225780
    assert deleted.revoke_id.startswith("wamid.")
    assert deleted.contact.wa_id == ALEX


@case("smb_message_echoes.json")
def _echo(events: Events) -> None:
    msg = only_message(events)
    assert msg.provider_message_id == ECHO_WAMID
    assert msg.direction == M.DIRECTION_OUTBOUND
    assert msg.status == M.MESSAGE_STATUS_SENT
    assert msg.contact.wa_id == ALEX  # the conversation is the recipient's
    assert msg.text.body == "Yes, it ships tomorrow morning."


@case("smb_message_echoes_edit.json")
def _echo_edit(events: Events) -> None:
    edit = only(events, "message_updated")
    assert edit.provider_message_id == ECHO_WAMID
    assert edit.direction == M.DIRECTION_OUTBOUND
    assert edit.contact.wa_id == ALEX
    assert edit.text.body == "Yes, it ships tomorrow at 9am."


@case("smb_message_echoes_revoke.json")
def _echo_revoke(events: Events) -> None:
    deleted = only(events, "message_deleted")
    assert deleted.provider_message_id == ECHO_WAMID
    assert deleted.contact.wa_id == ALEX


# -- preferences and calls -------------------------------------------------------------


@case("user_preferences_stop.json")
def _prefs_stop(events: Events) -> None:
    update = only(events, "contact_updated")
    assert (update.category, update.value) == ("marketing_messages", "stop")
    assert update.contact.marketing_messages == "stop"
    assert update.contact.marketing_messages_updated_at.seconds == 1767226100
    assert_alex(update)


@case("user_preferences_resume.json")
def _prefs_resume(events: Events) -> None:
    update = only(events, "contact_updated")
    assert update.contact.marketing_messages == "resume"
    assert update.detail == "User requested to resume marketing messages"


@case("calls_connect.json")
def _call_connect(events: Events) -> None:
    call = only(events, "call")
    assert (call.event, call.direction) == ("connect", "USER_INITIATED")
    assert call.call_id.startswith("wacid.")
    assert_alex(call)
    assert events[0].occurred_at.seconds == 1767226300


@case("calls_terminate.json")
def _call_terminate(events: Events) -> None:
    call = only(events, "call")
    assert (call.event, call.status, call.duration_seconds) == ("terminate", "COMPLETED", 90)
    assert (call.start_time.seconds, call.end_time.seconds) == (1767226310, 1767226400)


@case("calls_status.json")
def _call_status(events: Events) -> None:
    call = only(events, "call")
    assert (call.event, call.status, call.contact.wa_id) == ("status", "RINGING", ALEX)


@case("interactive_call_permission_reply.json")
def _call_permission(events: Events) -> None:
    call = only(events, "call")
    assert (call.event, call.permission_response) == ("permission_reply", "accept")
    assert not call.permission_permanent
    assert call.permission_expires_at.seconds == 1767830800
    assert_alex(call)


@case("status_sent_marketing_pricing.json")
def _status_pricing(events: Events) -> None:
    st = only_status(events)
    assert (st.pricing.category, st.pricing.billable) == ("marketing", True)
    assert st.pricing.conversation_origin_type == "marketing"
    assert st.pricing.conversation_expires_at.seconds == 1767312400
    assert st.pricing.provider_conversation_id == "8a2d0c4e6f8a0b2c4d6e8f0a2b4c6d8e"


def webhook_samples() -> set[str]:
    return {p.name for p in (SAMPLES_DIR / "meta").glob("*.json")}


def test_table_covers_every_meta_sample() -> None:
    assert (SAMPLES_DIR / "meta").is_dir(), SAMPLES_DIR
    assert set(CASES) == webhook_samples()


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample(name: str) -> None:
    CASES[name](parse(load(name), with_accounts=True))


@pytest.mark.parametrize("name", sorted(webhook_samples()))
def test_sample_keeps_every_message_and_status_in_order(name: str) -> None:
    """Common fields against the raw JSON: nothing dropped, reordered or mis-stamped."""
    payload = load(name)
    expected: list[tuple[str, str, int]] = []
    for entry in payload["entry"]:
        for change in entry["changes"]:
            value = change["value"]
            if change["field"] != "messages":
                continue
            for kind, key in (("message_new", "messages"), ("message_status", "statuses")):
                expected += [
                    (kind, raw["id"], int(raw["timestamp"]))
                    for raw in value.get(key, [])
                    if not is_other_event(raw)
                ]
    events = parse(payload, with_accounts=True)
    got: list[tuple[str, str, int]] = []
    for event in events:
        assert event.channel_id == CHANNEL
        kind = event.WhichOneof("payload")
        if kind not in ("message_new", "message_status"):
            continue
        if kind == "message_new" and event.message_new.direction == M.DIRECTION_OUTBOUND:
            continue  # an echo of the business's own message
        if kind == "message_new":
            msg = event.message_new
            assert (msg.channel_id, msg.provider) == (CHANNEL, "meta_cloud")
            assert msg.direction == M.DIRECTION_INBOUND
            assert msg.status == M.MESSAGE_STATUS_RECEIVED
            assert msg.timestamp == event.occurred_at
            assert msg.WhichOneof("content") is not None
            got.append((kind, msg.provider_message_id, msg.timestamp.seconds))
        else:
            st = event.message_status
            assert st.timestamp == event.occurred_at
            got.append((str(kind), st.provider_message_id, st.timestamp.seconds))
    assert got == expected


def is_other_event(raw: dict[str, Any]) -> bool:
    """A `messages[]`/`statuses[]` item that is not a new message or a message status."""
    interactive = raw.get("interactive", {}).get("type")
    return raw.get("type") in ("edit", "revoke", "call") or interactive == "call_permission_reply"


# -- routing and filtering -------------------------------------------------------


def account_samples() -> set[str]:
    return {name for name in webhook_samples() if account_keys(load(name))}


@pytest.mark.parametrize(
    "name", sorted(webhook_samples() - account_samples() - {"multi_entry_batch.json"})
)
def test_route_keys_single(name: str) -> None:
    assert route_keys(load(name)) == [PNID]
    assert account_keys(load(name)) == []


@pytest.mark.parametrize("name", sorted(account_samples()))
def test_account_level_samples_route_by_waba(name: str) -> None:
    """No phone number id: routed by entry[].id, and only parsed as the account's."""
    payload = load(name)
    assert route_keys(payload) == []
    assert account_keys(payload) == [WABA]
    assert parse(payload, phone_number_id=PNID) == []
    assert parse(payload) == []
    assert len(parse_account_changes(payload, channel_id=CHANNEL, waba_ids=[WABA])) == 1
    assert parse_account_changes(payload, channel_id=CHANNEL, waba_ids=["other"]) == []


def test_route_keys_batch_distinct_in_order() -> None:
    assert route_keys(load("multi_entry_batch.json")) == [PNID, PNID_2]


@pytest.mark.parametrize("payload", [None, [], "x", {}, {"entry": 5}])
def test_route_keys_rejects_a_bad_envelope(payload: Any) -> None:
    """Routing validates the envelope, so the shared route answers 400, not 404."""
    with pytest.raises(PayloadError):
        route_keys(payload)


@pytest.mark.parametrize(
    "payload",
    [
        {"entry": [5, {"changes": "x"}, {"changes": [None, {"value": []}]}]},
        {"entry": [{"changes": [{"value": {"metadata": {"phone_number_id": None}}}]}]},
    ],
)
def test_route_keys_defensive_inside_the_envelope(payload: Any) -> None:
    assert route_keys(payload) == []


def test_filter_by_phone_number_id() -> None:
    payload = load("multi_entry_batch.json")
    first = parse(payload, phone_number_id=PNID)
    assert [e.WhichOneof("payload") for e in first] == ["message_new"] * 3 + ["message_status"] * 2
    second = parse(payload, phone_number_id=PNID_2)
    assert [e.message_status.status for e in second] == [M.MESSAGE_STATUS_SENT]
    assert second[0].message_status.recipient_id == ALEX
    assert parse(payload, phone_number_id="999") == []


def test_records_unmodelled_fields_and_accepts_missing_field() -> None:
    payload = load("text.json")
    change = payload["entry"][0]["changes"][0]
    change["field"] = "some_future_field"
    recorded = only(parse(payload), "provider_event")
    assert recorded.name == "some_future_field"
    assert json.loads(recorded.data_json)["messages"][0]["id"] == TEXT_WAMID
    del change["field"]
    assert only_message(parse(payload)).text.body == "Hi, is my order on its way?"


# -- envelope errors -------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "whatsapp",
        {},
        {"object": "whatsapp_business_account"},
        {"object": "whatsapp_business_account", "entry": {}},
        {"object": "page", "entry": []},
    ],
)
def test_malformed_envelope_raises(payload: Any) -> None:
    with pytest.raises(PayloadError):
        parse(payload)


def test_envelope_without_object_key_is_accepted() -> None:
    payload = load("text.json")
    del payload["object"]
    assert len(parse(payload)) == 1


# -- unknown and malformed messages ----------------------------------------------


@pytest.mark.parametrize("mtype", ["poll", "edit", "somethingnew"])
def test_new_type_becomes_unsupported(mtype: str) -> None:
    payload = with_message(type=mtype, **{mtype: {"question": "Lunch?", "options": ["a", "b"]}})
    msg = only_message(parse(payload))
    assert msg.WhichOneof("content") == "unsupported"
    assert msg.unsupported.type == mtype
    assert msg.provider_message_id.startswith("wamid.")
    assert_alex(msg)


@pytest.mark.parametrize(
    ("fields", "unsupported_type"),
    [
        ({"type": "text", "text": 5}, "text"),
        ({"type": "text", "text": {"body": ["x"]}}, "text"),
        ({"type": "text"}, "text"),
        ({"type": "image", "image": "abc"}, "image"),
        ({"type": "location", "location": {"latitude": "north", "longitude": 1}}, "location"),
        ({"type": "location", "location": {"latitude": 1}}, "location"),
        ({"type": "contacts", "contacts": {"name": "x"}}, "contacts"),
        ({"type": "interactive", "interactive": {"type": "button_reply"}}, "interactive"),
        ({"type": "interactive", "interactive": {"type": ["x"]}}, "interactive"),
        (
            {"type": "interactive", "interactive": {"type": "call_permission_reply", "x": {}}},
            "interactive",
        ),
        ({"type": "reaction", "reaction": None}, "reaction"),
        ({"type": "order", "order": []}, "order"),
        ({"type": "button", "button": 1}, "button"),
        ({"type": "system", "system": "changed"}, "system"),
        ({"type": "unsupported", "unsupported": "poll"}, "unsupported"),
        ({"type": 7}, "unknown"),
        ({}, "unknown"),
    ],
)
def test_malformed_message_degrades_to_unsupported(
    fields: dict[str, Any], unsupported_type: str
) -> None:
    payload = with_message(**fields)
    if "type" not in fields:
        del payload["entry"][0]["changes"][0]["value"]["messages"][0]["type"]
    msg = only_message(parse(payload))
    assert msg.WhichOneof("content") == "unsupported"
    assert msg.unsupported.type == unsupported_type
    assert msg.provider_message_id == "wamid.MTU1NTEyMzQ1Njc6dGV4dC0xOm1hZGUtdXAtc2FtcGxl"
    assert_alex(msg)


def test_garbage_common_fields_do_not_raise() -> None:
    payload = with_message(
        type="text",
        text={"body": "hi"},
        timestamp="soon",
        errors=[5, {"code": "x", "error_data": "y"}, {"code": 2**40}],
        context="quoted",
        referral=[],
        group_id={"id": 1},
    )
    event = parse(payload)[0]
    msg = only_message([event])
    assert msg.text.body == "hi"
    assert not msg.HasField("timestamp") and not event.HasField("occurred_at")
    assert [e.code for e in msg.errors] == [0, 0]
    assert not msg.HasField("context")
    assert msg.group_id == ""


def test_lenient_values_are_coerced() -> None:
    payload = with_message(
        type="order",
        order={
            "catalog_id": 194800000000001,
            "product_items": [{"product_retailer_id": "a", "quantity": "3", "item_price": "2.5"}],
        },
        timestamp=1767225660,
        group_id="120363000000000001",
    )
    msg = only_message(parse(payload))
    assert msg.order.catalog_id == "194800000000001"
    (item,) = msg.order.product_items
    assert (item.quantity, item.item_price) == (3, 2.5)
    assert msg.timestamp.seconds == 1767225660
    assert msg.group_id == "120363000000000001"


def test_reaction_with_empty_emoji_is_a_removal() -> None:
    payload = with_message(type="reaction", reaction={"message_id": OUR_WAMID_1, "emoji": ""})
    msg = only_message(parse(payload))
    assert (msg.reaction.message_id, msg.reaction.emoji) == (OUR_WAMID_1, "")


def test_non_dict_messages_are_skipped() -> None:
    payload = load("text.json")
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"] = [None, "x", *value["messages"]]
    assert len(parse(payload)) == 1


# -- contact matching ------------------------------------------------------------


def _contacts_payload(contacts: list[dict[str, Any]], **sender: str) -> dict[str, Any]:
    payload = with_message(type="text", text={"body": "hi"}, **sender)
    payload["entry"][0]["changes"][0]["value"]["contacts"] = contacts
    return payload


def test_contact_matched_by_wa_id() -> None:
    contacts = [
        {"profile": {"name": "Sam Lee"}, "wa_id": SAM},
        {"profile": {"name": "Alex Rivera"}, "wa_id": ALEX},
    ]
    msg = only_message(parse(_contacts_payload(contacts)))
    assert_alex(msg)


def test_contact_matched_by_user_id() -> None:
    contacts = [
        {"profile": {"name": "Sam Lee"}, "wa_id": SAM, "user_id": "user.sam"},
        {"profile": {"name": "Bo"}, "wa_id": "", "user_id": "user.bo"},
    ]
    payload = _contacts_payload(contacts, **{"from": "", "from_user_id": "user.bo"})
    contact = only_message(parse(payload)).contact
    assert (contact.wa_id, contact.user_id, contact.name) == ("", "user.bo", "Bo")


def test_contact_falls_back_to_the_only_contact() -> None:
    contacts = [{"profile": {"name": "Alex Rivera"}, "wa_id": ALEX, "user_id": "user.alex"}]
    payload = _contacts_payload(contacts, **{"from": "+1 555 123 4567"})
    contact = only_message(parse(payload)).contact
    assert (contact.wa_id, contact.user_id, contact.name) == (ALEX, "user.alex", "Alex Rivera")


def test_unmatched_contact_among_many_uses_from() -> None:
    contacts = [{"wa_id": SAM}, {"wa_id": "15550000000"}]
    contact = only_message(parse(_contacts_payload(contacts))).contact
    assert (contact.wa_id, contact.name) == (ALEX, "")


# -- statuses --------------------------------------------------------------------


def test_unknown_status_is_skipped_alone() -> None:
    payload = load("status_read.json")
    statuses = payload["entry"][0]["changes"][0]["value"]["statuses"]
    odd = copy.deepcopy(statuses[0]) | {"status": "deleted"}
    statuses[:] = [odd, {"id": "wamid.x"}, 5, statuses[0]]
    assert only_status(parse(payload)).status == M.MESSAGE_STATUS_READ


def test_status_optional_fields() -> None:
    payload = load("status_sent.json")
    status = payload["entry"][0]["changes"][0]["value"]["statuses"][0]
    status.update(
        status="played",
        recipient_id="",
        recipient_user_id=BSUID,
        biz_opaque_callback_data="order-42",
        timestamp=None,
        pricing="free",
        conversation=None,
    )
    event = parse(payload)[0]
    st = only_status([event])
    assert st.status == M.MESSAGE_STATUS_PLAYED
    assert (st.recipient_id, st.recipient_user_id) == ("", BSUID)
    assert st.biz_opaque_callback_data == "order-42"
    assert not st.HasField("timestamp") and not event.HasField("occurred_at")
    assert not st.HasField("pricing")
    assert st.provider_conversation_id == ""


def test_parse_is_pure() -> None:
    payload = load("multi_entry_batch.json")
    before = copy.deepcopy(payload)
    assert parse(payload) == parse(payload)
    assert payload == before
