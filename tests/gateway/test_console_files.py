"""The console's files: the vendored Socket.IO client is exactly the pinned npm
package's, the page loads nothing from outside the gateway, and message data is never
written as HTML. A channel kind the simulator cannot play is refused in the config."""

from __future__ import annotations

import json
import re

import pytest

from core.errors import ConfigError
from gateway.config import build_settings
from gateway.console import ASSETS, STATIC
from tests.support.paths import ROOT
from tests.support.tenants import two_tenant_config

NODE = ROOT / "tests" / "node"


def test_the_vendored_socketio_client_is_the_pinned_npm_build() -> None:
    pinned = json.loads((NODE / "package.json").read_text())["dependencies"]["socket.io-client"]
    vendored = (STATIC / "socket.io.min.js").read_bytes()
    assert f"Socket.IO v{pinned}".encode() in vendored[:200]
    npm = NODE / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
    assert vendored == npm.read_bytes()


def test_the_page_loads_only_its_own_files() -> None:
    page = (STATIC / "index.html").read_text()
    loaded = set(re.findall(r'(?:src|href)="([^"]+)"', page))
    assert loaded == {f"/console/{name}" for name in ASSETS}
    assert all((STATIC / name).is_file() for name in ASSETS)


def test_the_script_never_writes_html() -> None:
    script = (STATIC / "console.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink


def test_only_channels_the_simulator_can_play_may_be_simulated() -> None:
    data = two_tenant_config("http://127.0.0.1:9/v23.0", simulator=True)
    assert build_settings(data, env={}).tenants[0].channels[0].simulator
    kapso = {
        "id": "k",
        "provider": "kapso",
        "simulator": True,
        "phone_number_id": "1",
        "webhook_secret": "s",
        "api_key": "k",
    }
    data["tenants"][1]["channels"] = [kapso]
    with pytest.raises(ConfigError, match=r"tenants\[1\]\.channels\[0\]\.simulator"):
        build_settings(data, env={})
