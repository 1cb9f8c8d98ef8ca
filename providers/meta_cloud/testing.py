"""The Meta Cloud API contract kit (its fake server is providers.testing.FakeGraphAPI)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from providers.signing import hmac_hex
from providers.testing import ContractKit, FakeGraphAPI, Sample, load_samples

PHONE_NUMBER_ID = "109876543210001"  # the samples' business number
ACCESS_TOKEN = "meta-test-token"
APP_SECRET = "test-app-secret"

_MESSAGE = ("message_new",)
_STATUS = ("message_status",)
_INBOUND = (
    "audio_voice button_template_quick_reply contacts document image interactive_button_reply "
    "interactive_list_reply interactive_nfm_reply location order reaction reaction_removed "
    "request_welcome sticker system_user_changed_number text text_bsuid_username "
    "text_forwarded text_frequently_forwarded text_message_business_button text_referral_ctwa "
    "text_reply_context unknown_legacy unsupported video"
).split()
_STATUSES = "status_delivered status_failed status_failed_undeliverable status_read status_sent"


class MetaCloudKit(ContractKit):
    def samples(self, fixtures_dir: Path) -> list[Sample]:
        expect: dict[str, tuple[str, ...]] = dict.fromkeys(_INBOUND, _MESSAGE)
        expect |= dict.fromkeys(_STATUSES.split(), _STATUS)
        expect["value_errors"] = ()
        expect["multi_entry_batch"] = _MESSAGE * 3 + _STATUS * 2
        return load_samples(fixtures_dir / "meta", expect)

    def fake_server(self) -> FakeGraphAPI:
        return FakeGraphAPI(expected_token=ACCESS_TOKEN)

    def settings(self, server: Any) -> dict[str, Any]:
        return {
            "phone_number_id": PHONE_NUMBER_ID,
            "app_secret": APP_SECRET,
            "verify_token": "meta-verify",
            "access_token": ACCESS_TOKEN,
            "api_base_url": server.base_url,
        }

    def sign(self, body: bytes, settings: Mapping[str, Any]) -> dict[str, str]:
        return {"X-Hub-Signature-256": "sha256=" + hmac_hex(str(settings["app_secret"]), body)}

    def sent(self, server: Any) -> list[Any]:
        messages: list[Any] = server.messages(accepted_only=True)
        return messages
