"""One contract every registered provider passes, the third-party test plugin included.

For each provider found in the `wagate.providers` entry-point group: every sample
parses to the events its kit promises, each stamped with the channel (and
messages with the provider's slug); signatures are accepted when right and
refused when wrong or missing; and a text send round-trips through the
provider's fake server on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from providers.base import OutboundMessage, Provider, SignatureError, WebhookRequest
from providers.registry import provider_classes
from providers.testing import ContractKit, Sample
from tests.support.samples import SAMPLES_DIR
from wagate.v1 import message_pb2

PROVIDERS = sorted(provider_classes().items())


def kit_of(cls: type[Provider]) -> ContractKit:
    kit = cls.contract_kit()
    assert kit is not None, f"{cls.kind} ships no contract kit (Provider.contract_kit)"
    return kit


class _Offline:
    """Stands in for a fake server when only settings are needed (no sends)."""

    base_url = origin = "http://127.0.0.1:9"


def channel(cls: type[Provider], server: Any = None) -> Provider:
    return cls.from_channel("contract-ch", kit_of(cls).settings(server or _Offline()))


def request(
    kit: ContractKit, provider: Provider, sample: Sample, sign: bool = True
) -> WebhookRequest:
    headers = dict(sample.headers)
    if sign:
        headers |= kit.sign(sample.body, provider.settings)
    return WebhookRequest(sample.body, {k.lower(): v for k, v in headers.items()})


def all_samples() -> list[Any]:
    return [
        pytest.param(cls, sample, id=f"{kind}:{sample.name}")
        for kind, cls in PROVIDERS
        for sample in kit_of(cls).samples(SAMPLES_DIR)
    ]


def test_the_test_plugin_and_builtins_are_registered() -> None:
    assert {"meta_cloud", "kapso", "qr_session", "acme_echo"} <= {kind for kind, _ in PROVIDERS}


@pytest.mark.parametrize(("kind", "cls"), PROVIDERS, ids=[k for k, _ in PROVIDERS])
def test_provider_declares_itself(kind: str, cls: type[Provider]) -> None:
    assert cls.kind == kind  # the entry point name is the slug
    assert cls.secret_settings <= cls.required_settings | cls.optional_settings
    assert kit_of(cls).samples(SAMPLES_DIR), f"{kind} has no samples"
    provider = channel(cls)
    assert provider.channel_id == "contract-ch"


@pytest.mark.parametrize(("cls", "sample"), all_samples())
def test_sample_parses_to_the_promised_events(cls: type[Provider], sample: Sample) -> None:
    kit = kit_of(cls)
    provider = channel(cls)
    req = request(kit, provider, sample)
    provider.authenticate(req)
    events = provider.parse(req, provider.decode(req.body))
    assert tuple(e.WhichOneof("payload") for e in events) == sample.expect
    for event in events:
        assert event.channel_id == "contract-ch"
        if event.HasField("message_new"):
            msg = event.message_new
            assert msg.provider == cls.kind and msg.channel_id == "contract-ch"
            assert msg.provider_message_id, "a message needs the provider's id for dedup"
            assert msg.contact.wa_id or msg.contact.user_id, "a message needs a contact"
            assert msg.WhichOneof("content") is not None
        if event.HasField("message_status"):
            assert event.message_status.provider_message_id
            assert event.message_status.status != message_pb2.MESSAGE_STATUS_UNSPECIFIED


@pytest.mark.parametrize(("kind", "cls"), PROVIDERS, ids=[k for k, _ in PROVIDERS])
def test_signatures_are_accepted_and_refused(kind: str, cls: type[Provider]) -> None:
    kit = kit_of(cls)
    provider = channel(cls)
    sample = kit.samples(SAMPLES_DIR)[0]
    provider.authenticate(request(kit, provider, sample))
    with pytest.raises(SignatureError):
        provider.authenticate(request(kit, provider, sample, sign=False))
    tampered = Sample(sample.name, sample.body + b" ", sample.headers)
    headers = {**dict(sample.headers), **kit.sign(sample.body, provider.settings)}
    with pytest.raises(SignatureError):
        provider.authenticate(
            WebhookRequest(tampered.body, {k.lower(): v for k, v in headers.items()})
        )
    wrong = {**provider.settings}
    secret_key = sorted(k for k in cls.secret_settings if "secret" in k)[0]
    wrong[secret_key] = "not-the-secret"
    other = cls.from_channel("contract-ch", wrong)
    with pytest.raises(SignatureError):
        other.authenticate(request(kit, provider, sample))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.parametrize(("kind", "cls"), PROVIDERS, ids=[k for k, _ in PROVIDERS])
async def test_send_round_trips_through_the_fake_server(
    kind: str, cls: type[Provider], http: aiohttp.ClientSession
) -> None:
    kit = kit_of(cls)
    server = kit.fake_server()
    await server.start()
    try:
        provider = channel(cls, server)
        provider.bind_http(http)
        out = OutboundMessage(
            to="15551234567",
            message=message_pb2.Message(text=message_pb2.TextContent(body="contract says hi")),
        )
        provider.validate(out)
        result = await provider.send(out)
        assert result.provider_message_id
        sent = kit.sent(server)
        assert len(sent) == 1
        assert "contract says hi" in str(sent[0])
        second = await provider.send(out)
        assert second.provider_message_id != result.provider_message_id
    finally:
        await server.stop()
