"""docs/admin.md's onboarding works pasted into bash: every ```bash block of the document
runs, in order, in one shell, against a real gateway (the `sh` blocks are the ones a
reader adapts: starting the server, grpcurl, psql). Only two things are swapped: the
gateway's address and Meta's Graph API (a fake on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from providers.testing import FakeGraphAPI
from tests.support import bots
from tests.support.admin import ADMIN_ENV
from tests.support.paths import ROOT
from tests.support.procs import Gateway
from tests.support.shell import PASTED, PastedShell

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="the doc signs with openssl"),
]

DOC = ROOT / "docs" / "admin.md"
DOC_GATEWAY = "http://127.0.0.1:8080"
GRAPH = "https://graph.facebook.com/v23.0"


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```$", text, re.S | re.M)


def test_the_blocks_are_found() -> None:
    text = "```bash\na\nb\n```\n```sh\nno\n```\n```bash\nc\n```\n"
    assert bash_blocks(text) == ["a\nb\n", "c\n"]


async def test_every_bash_block_of_the_admin_doc_works_pasted(
    gateways: Callable[..., Gateway], fake_graph: FakeGraphAPI, tmp_path: Path
) -> None:
    gw = gateways({"tenants": []}, env=ADMIN_ENV)
    blocks = bash_blocks(DOC.read_text())
    assert len(blocks) >= 10
    assert all(GRAPH not in b or "api_base_url" in b for b in blocks)
    env = {**os.environ, **ADMIN_ENV}
    shell = PastedShell(tmp_path, prelude=PASTED, env=env)
    out: list[str] = []
    try:
        for block in blocks:
            pasted = block.replace(DOC_GATEWAY, gw.url).replace(GRAPH, fake_graph.base_url)
            # In a thread: the fake Graph API answers the sends on this loop meanwhile.
            status, printed = await asyncio.to_thread(shell.run, pasted)
            assert status == 0, f"failed ({status}):\n{pasted}\n{printed}"
            out.append(printed)
    finally:
        shell.close()

    def output(needle: str) -> str:
        (found,) = [o for b, o in zip(blocks, out, strict=True) if needle in b]
        return found

    tenant = json.loads(output('{"id": "globex"}'))
    assert (tenant["id"], tenant["managedBy"]) == ("globex", "api")
    new_key = json.loads(output("NEW=$(curl"))
    assert new_key["key"].startswith("wag_")
    meta = json.loads(output('"provider": "meta_cloud"'))
    assert meta["app_secret"] == meta["access_token"] == "***"
    assert output("hub.challenge") == "1158201444"
    sent = json.loads(output("Welcome to Globex"))["message"]
    assert sent["status"] == "MESSAGE_STATUS_SENT", sent
    assert json.loads(output('"provider": "qr_session"'))["engine_api_key"] == "***"
    sessions = json.loads(output("/api/v1/sessions"))["items"]
    assert [s["sessionId"] for s in sessions] == ["globex-main"]
    chain = json.loads(output("-X PUT"))["bots"]
    assert chain[0]["name"] == "opening-hours"
    assert json.loads(output("-X PATCH"))["app_secret"] == "***"
    assert output("SIG=$(") == "OK"
    assert output("OLD=$(") == "401"
    replies = await bots.wait_replies(fake_graph, 1, "15551234567")
    assert replies[-1] == "We are open Monday to Friday, 9:00 to 18:00."
    revoked, refused, conversations = output("KEY2=$(").splitlines()
    assert (revoked, refused) == ("204", "401")
    assert json.loads(conversations)["items"][0]["contact"]["name"] == "Alex"
    entries = json.loads(output("/api/v1/admin/audit"))["entries"]
    assert [e["action"] for e in entries] == [
        "tenant.create",
        "api_key.create",
        "channel.create",
        "channel.create",
        "bots.put",
        "channel.update",
        "api_key.create",
        "api_key.revoke",
    ]
    assert output("globex-qr -H").splitlines() == ["204", "404", "204", "401"]
    for secret in ("first-app-secret", "second-app-secret", "EAAG-globex", new_key["key"]):
        assert secret not in gw.logs()
