"""Every command the demo prints works pasted into bash: run them all against a demo gateway."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storage.inbox import PENDING, RAW
from tests.support.gateway_db import db_count
from tests.support.procs import Gateway
from tests.support.shell import PastedShell


def printed_commands(text: str) -> list[str]:
    """The commands as a reader sees them: a line indented by three spaces starts one,
    lines indented by five continue it (as printed, indentation included)."""
    commands: list[str] = []
    for line in text.splitlines():
        if re.match(r"^ {3}\S", line):
            commands.append(line)
        elif re.match(r"^ {5}", line) and commands:
            commands[-1] += "\n" + line
    return commands


def settled(gw: Gateway) -> bool:
    """Every acknowledged webhook is applied (a reader pastes slower than that)."""
    return (
        db_count(gw, "SELECT count(*) FROM webhook_inbox WHERE state IN (?, ?)", (RAW, PENDING))
        == 0
    )


def wait_settled(gw: Gateway, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not settled(gw):
        assert time.monotonic() < deadline, "webhooks not applied in time"
        time.sleep(0.02)


def output_of(pairs: list[tuple[str, tuple[int, str]]], *needles: str) -> list[str]:
    return [out for cmd, (_, out) in pairs if all(n in cmd for n in needles)]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the demo's signing step uses openssl")
def test_every_printed_command_works_pasted_into_bash(
    gateways: Callable[..., Gateway], tmp_path: Path
) -> None:
    gw = gateways(None)  # no config: the demo
    printed = (gw.workdir / "stdout.log").read_text()
    assert "app secret 'demo-app-secret'" in printed
    commands = printed_commands(printed)
    assert len(commands) >= 12, printed
    assert all(gw.url in cmd or cmd.startswith("   SIG=") for cmd in commands)

    elsewhere = tmp_path / "another-directory"
    elsewhere.mkdir()
    shell = PastedShell(elsewhere)
    pairs = []
    try:
        for cmd in commands:
            status, out = shell.run(cmd)
            assert status == 0, f"failed ({status}):\n{cmd}\n{out}"
            pairs.append((cmd, (status, out)))
            wait_settled(gw)
    finally:
        shell.close()

    for out in output_of(pairs, "/webhooks/"):
        assert out == "OK"
    listed = json.loads(output_of(pairs, "/api/v1/conversations")[0])
    assert listed["items"][0]["contact"]["name"] == "Alex Rivera", listed
    messages = json.loads(output_of(pairs, "/messages")[0].splitlines()[-1])
    bodies = [m.get("text", {}).get("body") for m in messages["items"]]
    assert "Hi, is my order on its way?" in bodies and "menu" in bodies  # both webhooks

    sends: list[dict[str, Any]] = [
        json.loads(out)["message"] for out in output_of(pairs, "-X POST", "/api/v1/messages")
    ]
    assert [s["channelId"] for s in sends] == ["demo-meta", "demo-qr"]
    for sent in sends:
        assert sent["status"] == "MESSAGE_STATUS_SENT", sent
        assert sent["providerMessageId"]
    connected = json.loads(output_of(pairs, "status=session_connected")[0])
    assert [s["sessionId"] for s in connected["items"]] == ["demo-main"]


def test_commands_are_found_only_where_printed() -> None:
    text = "1. Title:\n   curl a \\\n     -d '{}'\n\n2. Other: x\n   echo b\nnot   a command\n"
    assert printed_commands(text) == ["   curl a \\\n     -d '{}'", "   echo b"]
