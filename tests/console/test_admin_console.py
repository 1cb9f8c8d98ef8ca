"""docs/admin.md's promise, in a real browser: a QR channel created through the admin API
shows up in the console of the customer's new key, and its QR comes and goes there."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from playwright.async_api import Page, expect

from providers.qr_session.testing import FakeWahaEngine
from tests.console.test_browser import WAIT, sign_in
from tests.support.admin import ADMIN_ENV, ok
from tests.support.procs import Gateway
from tests.support.tenants import ENGINE_KEY

SESSION = "initech-main"


async def test_a_qr_channel_made_at_run_time_is_in_the_console(
    page: Page,
    gateways: Callable[..., Gateway],
    engine: FakeWahaEngine,
    http: aiohttp.ClientSession,
) -> None:
    gw = gateways({"tenants": []}, env=ADMIN_ENV)
    await ok(http, gw, "POST", "/tenants", {"id": "initech"})
    key = (await ok(http, gw, "POST", "/tenants/initech/api-keys"))["key"]
    channel = {
        "id": "initech-qr",
        "provider": "qr_session",
        "session_id": SESSION,
        "engine_base_url": engine.base_url,
        "engine_api_key": ENGINE_KEY,
    }
    await ok(http, gw, "POST", "/tenants/initech/channels", channel)
    engine.webhook_url = f"{gw.url}/webhooks/qr/{SESSION}"

    await sign_in(page, gw, key)
    await page.get_by_test_id("nav-sessions").click()
    session = page.locator(f'[data-testid="session"][data-session-id="{SESSION}"]')
    await expect(session).to_have_attribute("data-status", "session_not_connected")
    await session.get_by_role("button", name="Start").click()  # the engine answers with a QR
    await expect(session).to_have_attribute("data-status", "qr_generated", timeout=WAIT)
    await expect(session.get_by_test_id("qr")).to_be_visible()
    starts = [r for r in engine.requests if r.path == f"/api/sessions/{SESSION}/start"]
    assert [r.header("X-Api-Key") for r in starts] == [ENGINE_KEY]  # the sealed key, opened

    await engine.scan(session=SESSION)
    await expect(session).to_have_attribute("data-status", "session_connected", timeout=WAIT)
    await expect(session.get_by_test_id("qr")).to_have_count(0)
