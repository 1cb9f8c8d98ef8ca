"""The console in headless Chromium, against a real gateway: sign-in, the live inbox,
replies whose ticks move, media, QR sessions, the simulator, and tenant isolation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import grpc
from playwright.async_api import FilePayload, Page, expect

from providers.meta_cloud.testing import ReportingGraphAPI, customer_webhook
from providers.qr_session.testing import FakeWahaEngine
from tests.support.images import png
from tests.support.polling import eventually
from tests.support.procs import Gateway
from tests.support.tenants import ACME_KEY, ACME_PHONE_ID, GLOBEX_KEY, QR_SESSION, meta_sign
from wagate.v1 import messaging_service_pb2, messaging_service_pb2_grpc

WAIT = 15_000  # ms: what a person would wait for a live update, at most (on a loaded machine)


async def customer_says(
    gw: Gateway, sender: str, name: str, text: str = "", *, kind: str = "text", content: Any = None
) -> None:
    """A signed Meta webhook from a customer of acme's Meta channel."""
    body = customer_webhook(ACME_PHONE_ID, sender, name, kind, content or {"body": text})
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{gw.url}/webhooks/meta", data=body, headers=meta_sign(body)) as resp,
    ):
        assert resp.status == 200, await resp.text()


async def sign_in(page: Page, gw: Gateway, key: str = ACME_KEY) -> None:
    await page.goto(f"{gw.url}/console")
    await page.get_by_test_id("api-key").fill(key)
    await page.get_by_test_id("login").click()
    await expect(page.get_by_test_id("nav-inbox")).to_be_visible()


def conversation(page: Page, name: str) -> Any:
    return page.get_by_test_id("conversation").filter(has_text=name)


async def test_a_bad_key_is_refused_and_a_good_key_signs_in(
    page: Page, gw: Gateway, screenshot: Callable[..., Any]
) -> None:
    await page.goto(f"{gw.url}/console")
    await page.get_by_test_id("api-key").fill("not-a-key")
    await page.get_by_test_id("login").click()
    await expect(page.get_by_test_id("login-error")).to_be_visible()
    await expect(page.get_by_test_id("nav-inbox")).to_be_hidden()
    await screenshot(page, "sign-in")

    await page.get_by_test_id("api-key").fill(ACME_KEY)
    await page.get_by_test_id("login").click()
    await expect(page.get_by_test_id("nav-inbox")).to_be_visible()
    assert ACME_KEY not in page.url
    assert await page.evaluate("sessionStorage.getItem('wagate.apiKey')") == ACME_KEY
    await page.reload()  # the tab remembers the key
    await expect(page.get_by_test_id("nav-sessions")).to_be_visible()


async def test_inbox_lists_conversations_and_a_new_one_appears_live_at_the_top(
    page: Page, gw: Gateway
) -> None:
    await customer_says(gw, "15550000001", "Ada Early", "first")
    await sign_in(page, gw)
    await expect(conversation(page, "Ada Early")).to_contain_text("first")

    await customer_says(gw, "15550000002", "Bo Later", "just now")
    first = page.get_by_test_id("conversation").first
    await expect(first).to_contain_text("Bo Later", timeout=WAIT)
    await expect(first).to_contain_text("just now")
    await expect(page.get_by_test_id("conversation")).to_have_count(2)


async def test_a_reply_reaches_the_provider_and_its_ticks_move_to_read(
    page: Page, gw: Gateway, graph: ReportingGraphAPI, screenshot: Callable[..., Any]
) -> None:
    await customer_says(gw, "15550000003", "Cy Reader", "where is my parcel?")
    await sign_in(page, gw)
    await conversation(page, "Cy Reader").click()
    await expect(page.get_by_test_id("message")).to_have_count(1)
    await page.get_by_test_id("composer").fill("It ships today.")
    await page.get_by_test_id("send").click()

    sent = await eventually(lambda: graph.messages(accepted_only=True), within=15, what="the send")
    assert (
        sent[0]["to"].lstrip("+") == "15550000003" and sent[0]["text"]["body"] == "It ships today."
    )
    reply = page.locator('[data-testid="message"][data-direction="outbound"]')
    await expect(reply).to_contain_text("It ships today.")
    await expect(reply).to_have_attribute("data-status", "read", timeout=WAIT)
    await screenshot(page, "inbox")


async def test_inbound_messages_appear_live_and_html_stays_text(page: Page, gw: Gateway) -> None:
    await customer_says(gw, "15550000004", "Di Tester", "hello")
    await sign_in(page, gw)
    await conversation(page, "Di Tester").click()
    await expect(page.get_by_test_id("message")).to_have_count(1)

    html = '<img src=x onerror="window.pwned=1"><b>bold</b> & <script>x()</script>'
    await customer_says(gw, "15550000004", "Di Tester", html)
    latest = page.get_by_test_id("message").last
    await expect(latest).to_contain_text(html, timeout=WAIT)
    assert await latest.locator("img, b, script").count() == 0
    assert await page.evaluate("window.pwned") is None
    await expect(latest).to_have_attribute("data-direction", "inbound")


async def test_an_inbound_image_is_shown_through_the_media_route(
    page: Page, gw: Gateway, graph: ReportingGraphAPI
) -> None:
    media_id = graph.add_media(png(48, 32), "image/png")
    content = {"id": media_id, "mime_type": "image/png", "caption": "the box"}
    await customer_says(gw, "15550000005", "Ed Photo", kind="image", content=content)
    await sign_in(page, gw)
    await conversation(page, "Ed Photo").click()
    image = page.get_by_test_id("message").locator("img")
    await expect(image).to_be_visible(timeout=WAIT)
    await page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=message] img');"
        " return i && i.complete && i.naturalWidth === 48; }"
    )


async def test_the_qr_is_shown_then_gone_when_the_session_connects(
    page: Page, gw: Gateway, engine: FakeWahaEngine, screenshot: Callable[..., Any]
) -> None:
    await sign_in(page, gw)
    await page.get_by_test_id("nav-sessions").click()
    session = page.locator(f'[data-testid="session"][data-session-id="{QR_SESSION}"]')
    await expect(session).to_have_attribute("data-status", "session_not_connected")

    await session.get_by_role("button", name="Start").click()  # the engine answers with a QR
    await expect(session).to_have_attribute("data-status", "qr_generated", timeout=WAIT)
    await expect(session.get_by_test_id("qr")).to_be_visible()
    starts = [r for r in engine.requests if r.path == f"/api/sessions/{QR_SESSION}/start"]
    assert [r.header("X-Api-Key") for r in starts] == ["acme-engine-key"]
    await screenshot(page, "sessions")

    first = await session.get_by_test_id("qr").get_attribute("src")
    await engine.emit_bridge("qr", {"qr": "2@rotated,qr,payload"}, session=QR_SESSION)
    await expect(session.get_by_test_id("qr")).not_to_have_attribute(
        "src", first or "", timeout=WAIT
    )

    await engine.scan(session=QR_SESSION)
    await expect(session).to_have_attribute("data-status", "session_connected", timeout=WAIT)
    await expect(session.get_by_test_id("qr")).to_have_count(0)


async def test_the_simulator_round_trip(page: Page, gw: Gateway) -> None:
    await sign_in(page, gw)
    await page.get_by_test_id("nav-simulator").click()
    await page.get_by_test_id("sim-channel").select_option("acme-sim")
    await page.get_by_test_id("sim-from").fill("15557770000")
    await page.get_by_test_id("sim-name").fill("Sim Customer")
    await page.get_by_test_id("sim-text").fill("is anyone there?")
    await page.get_by_test_id("sim-send").click()

    await page.get_by_test_id("nav-inbox").click()
    await conversation(page, "Sim Customer").click()
    await expect(page.get_by_test_id("message")).to_contain_text("is anyone there?")
    await page.get_by_test_id("composer").fill("Yes, how can I help?")
    await page.get_by_test_id("composer").press("Enter")
    reply = page.locator('[data-testid="message"][data-direction="outbound"]')
    await expect(reply).to_have_attribute("data-status", "read", timeout=WAIT)


async def test_another_tenant_sees_nothing_stored_or_live(page: Page, gw: Gateway) -> None:
    await customer_says(gw, "15550000006", "Fay Private", "acme only")
    await sign_in(page, gw, GLOBEX_KEY)
    await expect(page.locator("#conversations-state")).to_contain_text("No conversations yet")
    await page.get_by_test_id("nav-sessions").click()
    await expect(page.locator("#sessions-state")).to_contain_text("No QR sessions")
    await expect(page.get_by_test_id("nav-simulator")).to_be_hidden()

    await customer_says(gw, "15550000006", "Fay Private", "still acme only")
    await page.get_by_test_id("nav-inbox").click()
    await page.wait_for_timeout(1500)  # long enough for a live event to have arrived
    await expect(page.get_by_test_id("conversation")).to_have_count(0)


async def test_a_file_goes_out_as_media_and_is_shown(
    page: Page, gw: Gateway, graph: ReportingGraphAPI
) -> None:
    await customer_says(gw, "15550000007", "Gus Files", "send me the label")
    await sign_in(page, gw)
    await conversation(page, "Gus Files").click()
    await expect(page.get_by_test_id("message")).to_have_count(1)
    label = png(40, 20)
    await page.get_by_test_id("attach").set_input_files(
        files=[FilePayload(name="label.png", mimeType="image/png", buffer=label)]
    )
    sent = await eventually(
        lambda: graph.messages(accepted_only=True), within=15, what="the media send"
    )
    media_id = sent[0]["image"]["id"]
    assert graph.media[media_id].data == label  # uploaded to the provider first
    reply = page.locator('[data-testid="message"][data-direction="outbound"]')
    await expect(reply.locator("img")).to_be_visible(timeout=WAIT)
    await page.wait_for_function(
        "() => [...document.querySelectorAll('[data-direction=outbound] img')]"
        ".some((i) => i.complete && i.naturalWidth === 40)"
    )


async def test_the_typing_indicator_follows_the_conversation(page: Page, gw: Gateway) -> None:
    await customer_says(gw, "15550000008", "Hal Waiting", "anyone?")
    await sign_in(page, gw)
    await conversation(page, "Hal Waiting").click()
    await expect(page.get_by_test_id("message")).to_have_count(1)
    conversation_id = await conversation(page, "Hal Waiting").get_attribute("data-conversation-id")
    async with grpc.aio.insecure_channel(gw.grpc_target) as channel:
        stub = messaging_service_pb2_grpc.MessagingServiceStub(channel)
        request = messaging_service_pb2.SendTypingRequest(conversation_id=conversation_id)
        await stub.SendTyping(request, metadata=(("authorization", f"Bearer {ACME_KEY}"),))
    await expect(page.get_by_test_id("typing")).to_be_visible(timeout=WAIT)

    await page.get_by_test_id("composer").fill("Here!")  # a reply ends the indicator
    await page.get_by_test_id("send").click()
    await expect(page.get_by_test_id("typing")).to_be_hidden(timeout=WAIT)
