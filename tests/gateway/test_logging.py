"""Log formats and the access log, read from real `wagate serve` processes."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from providers.testing import FakeGraphAPI
from tests.support.procs import WAGATE, Gateway, free_port, wait_http
from tests.support.tenants import (
    ACCESS_TOKEN,
    ACME_KEY,
    ACME_PHONE_ID,
    ACME_SECRET,
    GLOBEX_KEY,
    GLOBEX_SECRET,
    meta_sign,
    two_tenant_config,
)

# Every test here runs `wagate` as a process.
pytestmark = pytest.mark.integration

SECRETS = (ACME_KEY, ACME_SECRET, ACCESS_TOKEN, GLOBEX_KEY, GLOBEX_SECRET)


def webhook_body() -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": ACME_PHONE_ID},
        "contacts": [{"profile": {"name": "Log Test"}, "wa_id": "15557770000"}],
        "messages": [
            {
                "from": "15557770000",
                "id": "wamid.LOGTEST-1",
                "timestamp": "1767225660",
                "type": "text",
                "text": {"body": "hello logs"},
            }
        ],
    }
    entry = {"id": "1", "changes": [{"field": "messages", "value": value}]}
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()


async def traffic(http: aiohttp.ClientSession, url: str) -> None:
    """One request of each kind the access log must describe."""
    auth = {"Authorization": f"Bearer {ACME_KEY}"}
    async with http.get(f"{url}/api/v1/conversations", headers=auth) as resp:
        assert resp.status == 200
    body = webhook_body()
    async with http.post(f"{url}/webhooks/meta", data=body, headers=meta_sign(body)) as resp:
        assert resp.status == 200
    bad = {"Authorization": "Bearer not-a-key"}
    async with http.get(f"{url}/api/v1/conversations", headers=bad) as resp:
        assert resp.status == 401
    async with http.get(f"{url}/no/such/route") as resp:
        assert resp.status == 404


def wait_for(read: Callable[[], str], needle: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = read()
        if needle in text:
            return text
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} not logged:\n{read()[-3000:]}")


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def test_json_by_default_off_a_terminal_with_an_access_line_per_request(
    gateways: Callable[..., Gateway], fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    gw = gateways(two_tenant_config(fake_graph.base_url))
    await traffic(http, gw.url)
    text = wait_for(gw.logs, "/no/such/route")
    records = json_lines(text)  # every line is one JSON object
    access = {
        (r["method"], r["path"], r["status"]): r for r in records if r["logger"] == "wagate.access"
    }
    listed = access[("GET", "/api/v1/conversations", 200)]
    assert listed["route"] == "/api/v1/conversations"
    assert listed["tenant"] == "acme"
    assert isinstance(listed["duration_ms"], float) and 0 <= listed["duration_ms"] < 10_000
    took = listed["duration_ms"]
    assert listed["msg"] == f"GET /api/v1/conversations 200 {took:.1f}ms tenant=acme"
    webhook = access[("POST", "/webhooks/meta", 200)]
    assert webhook["tenant"] == "acme" and webhook["route"] == "/webhooks/meta"
    assert access[("GET", "/api/v1/conversations", 401)]["tenant"] is None
    unknown = access[("GET", "/no/such/route", 404)]
    assert unknown["route"] is None
    # The readiness probe the fixture waited on is logged too, by its route.
    assert any(r.get("route") == "/readyz" for r in records)
    for secret in SECRETS:
        assert secret not in text


async def test_access_log_can_be_turned_off(
    gateways: Callable[..., Gateway], fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    by_env = gateways(two_tenant_config(fake_graph.base_url), env={"WAGATE_ACCESS_LOG": "false"})
    by_file = gateways({**two_tenant_config(fake_graph.base_url), "access_log": False})
    for gw in (by_env, by_file):
        await traffic(http, gw.url)
    for gw in (by_env, by_file):
        gw.stop()
        records = json_lines(gw.logs())
        assert any(r["msg"] == "wagate started" for r in records)
        assert not [r for r in records if r["logger"] == "wagate.access"]


async def test_text_format_is_one_readable_line_per_request(
    gateways: Callable[..., Gateway], fake_graph: FakeGraphAPI, http: aiohttp.ClientSession
) -> None:
    gw = gateways(two_tenant_config(fake_graph.base_url), env={"WAGATE_LOG_FORMAT": "text"})
    await traffic(http, gw.url)
    text = wait_for(gw.logs, "/no/such/route")
    lines = text.splitlines()
    listed = [ln for ln in lines if "wagate.access: GET /api/v1/conversations 200 " in ln]
    assert len(listed) == 1
    assert re.search(r" 200 \d+\.\dms tenant=acme$", listed[0]), listed
    assert any("wagate: wagate started" in ln and "tenants=2" in ln for ln in lines)
    for line in lines:
        assert not line.startswith("{")
    for secret in SECRETS:
        assert secret not in text


class TerminalGateway:
    """`wagate serve` with stderr on a pseudo-terminal, as when run by hand."""

    def __init__(self, workdir: Path, env: dict[str, str], config: dict[str, Any]) -> None:
        self.http_port = free_port()
        path = workdir / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        clean = {k: v for k, v in os.environ.items() if not k.startswith("WAGATE_")}
        master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [str(WAGATE), "serve", "--config", str(path)],
            cwd=workdir,
            env={
                **clean,
                "WAGATE_HTTP_PORT": str(self.http_port),
                "WAGATE_GRPC_PORT": str(free_port()),
                "WAGATE_DATABASE_URL": f"sqlite://{workdir}/wagate.sqlite3",
                **env,
            },
            stdout=subprocess.DEVNULL,
            stderr=slave,
        )
        os.close(slave)
        self.output = b""
        self.reader = threading.Thread(target=self._read, args=(master,), daemon=True)
        self.reader.start()
        wait_http(f"http://127.0.0.1:{self.http_port}/readyz", proc=self.proc)

    def _read(self, fd: int) -> None:
        try:
            while chunk := os.read(fd, 65536):
                self.output += chunk
        except OSError:
            pass  # the terminal closed with the process
        finally:
            os.close(fd)

    def text(self) -> str:
        return self.output.decode(errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)
        self.reader.join(5)


@pytest.fixture
def terminal(tmp_path: Path, fake_graph: FakeGraphAPI) -> Iterator[Callable[..., TerminalGateway]]:
    started: list[TerminalGateway] = []

    def start(env: dict[str, str]) -> TerminalGateway:
        workdir = tmp_path / str(len(started))
        workdir.mkdir()
        gw = TerminalGateway(workdir, env, two_tenant_config(fake_graph.base_url))
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.stop()


def test_a_terminal_gets_text_unless_json_is_asked_for(
    terminal: Callable[..., TerminalGateway],
) -> None:
    readable = terminal({})
    text = wait_for(readable.text, "wagate.access: GET /readyz 200")
    assert "wagate: wagate started" in text
    assert "{" not in text.splitlines()[0]

    machine = terminal({"WAGATE_LOG_FORMAT": "json"})
    text = wait_for(machine.text, '"route":"/readyz"')
    for line in text.splitlines():
        assert json.loads(line)["logger"]
