"""The console in a real browser: Playwright driving Debian's Chromium (Playwright's own
browser download is not needed), against a real gateway whose providers are fakes on
127.0.0.1. Set WAGATE_SCREENSHOTS=<folder> to keep screenshots of the main screens."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from providers.meta_cloud.testing import ReportingGraphAPI
from providers.qr_session.testing import FakeWahaEngine
from tests.support.procs import Gateway
from tests.support.tenants import (
    ACCESS_TOKEN,
    ACME_SECRET,
    ENGINE_KEY,
    QR_SESSION,
    qr_channel,
    simulated_channel,
    two_tenant_config,
)

# A loaded machine (the whole suite on two cores) can be slow to render and to deliver.
expect.set_options(timeout=15_000)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed (make test installs it)")
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1100, "height": 720})
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    await context.close()
    assert errors == [], f"script errors in the console: {errors}"


@pytest.fixture
async def graph() -> AsyncIterator[ReportingGraphAPI]:
    """Meta's Graph API; like Meta, it reports each accepted send back as statuses."""
    fake = ReportingGraphAPI(webhook_url="", app_secret=ACME_SECRET, expected_token=ACCESS_TOKEN)
    async with fake:
        yield fake


@pytest.fixture
async def engine() -> AsyncIterator[FakeWahaEngine]:
    async with FakeWahaEngine(expected_token=ENGINE_KEY) as fake:
        yield fake


def console_config(graph: ReportingGraphAPI, engine: FakeWahaEngine) -> dict[str, Any]:
    data = two_tenant_config(graph.base_url)
    data["tenants"][0]["channels"] += [qr_channel(engine.base_url), simulated_channel()]
    return data


@pytest.fixture
async def gw(
    gateways: Callable[..., Gateway], graph: ReportingGraphAPI, engine: FakeWahaEngine
) -> Gateway:
    started = gateways(console_config(graph, engine))
    graph.webhook_url = f"{started.url}/webhooks/meta/acme-meta"
    engine.webhook_url = f"{started.url}/webhooks/qr/{QR_SESSION}"
    return started


@pytest.fixture
def screenshot() -> Callable[[Page, str], Any]:
    """`await screenshot(page, name)` keeps a PNG when WAGATE_SCREENSHOTS names a folder."""
    folder = os.environ.get("WAGATE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)

    async def take(page: Page, name: str) -> None:
        if folder:
            await page.screenshot(path=f"{folder}/{name}.png")

    return take
