"""What the demo prints: numbered steps of commands to paste into bash.

Every command must work pasted as printed, from any directory: sample bodies are
written under `data/` and named by absolute path, JSON stays inside single quotes,
and a line continues with `\\` only outside quotes. tests/gateway/test_demo_guide.py
runs each printed command. To add a step, add a `Step` to the list `steps()` builds.
"""

from __future__ import annotations

import copy
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from providers.signing import hmac_hex

# Command lines start at INDENT; a command's continuation lines start at CONTINUED.
INDENT = " " * 3
CONTINUED = " " * 5


@dataclass(frozen=True)
class Step:
    title: str
    commands: tuple[str, ...]


@dataclass(frozen=True)
class Demo:
    """What the steps need to know about the running demo."""

    base_url: str
    api_key: str
    meta_app_secret: str
    kapso_secret: str
    kapso_phone_id: str
    qr_secret: str
    qr_session: str
    meta_sample: Mapping[str, Any]
    data_dir: Path


def command(*lines: str) -> str:
    """One shell command over several lines (each break is outside any quotes)."""
    return " \\\n".join(lines)


def render(header: str, steps: list[Step]) -> str:
    out = [header.rstrip(), ""]
    for number, step in enumerate(steps, 1):
        out.append(f"{number}. {step.title}")
        for cmd in step.commands:
            first, *rest = cmd.split("\n")
            out.append(INDENT + first)
            out.extend(CONTINUED + line for line in rest)
        out.append("")
    return "\n".join(out)


def _write(demo: Demo, name: str, body: bytes) -> str:
    """Write a sample body; its `@path` argument for curl, quoted for the shell."""
    path = demo.data_dir / name
    path.write_bytes(body)
    return shlex.quote(f"@{path}")


def _meta_message(demo: Demo, message_id: str, text: str) -> bytes:
    sample = copy.deepcopy(dict(demo.meta_sample))
    value = sample["entry"][0]["changes"][0]["value"]
    value["messages"][0].update(id=message_id, text={"body": text})
    return orjson.dumps(sample, option=orjson.OPT_INDENT_2)


def steps(demo: Demo) -> list[Step]:
    demo.data_dir.mkdir(parents=True, exist_ok=True)
    base = demo.base_url
    auth = f"-H 'Authorization: Bearer {demo.api_key}'"
    json_type = "-H 'Content-Type: application/json'"

    sample = orjson.dumps(demo.meta_sample)
    sample_file = _write(demo, "demo-webhook.json", sample)
    own_path = demo.data_dir / "demo-my-webhook.json"
    own_file = _write(demo, own_path.name, _meta_message(demo, "wamid.DEMO-0002", "menu"))
    kapso = orjson.dumps(
        {
            "message": {
                "from": "15551234567",
                "id": "wamid.DEMO-KAPSO-0001",
                "timestamp": "1767225700",
                "type": "text",
                "text": {"body": "Hello via Kapso"},
                "kapso": {"direction": "inbound", "status": "received"},
            },
            "conversation": {"id": "demo-conv", "phone_number": "+15551234567"},
            "phone_number_id": demo.kapso_phone_id,
        }
    )
    kapso_file = _write(demo, "demo-kapso.json", kapso)
    qr = orjson.dumps({"event": "qr", "data": {"qr": "2@demo-qr-payload,made-up,keys,here"}})
    ready = orjson.dumps({"event": "ready", "data": {"info": {"pushname": "Demo"}}})
    qr_file, ready_file = _write(demo, "demo-qr.json", qr), _write(demo, "demo-ready.json", ready)
    qsig, rsig = (hmac_hex(demo.qr_secret, body, "sha512") for body in (qr, ready))
    buttons = orjson.dumps(
        {
            "channelId": "demo-qr",
            "to": "15551234567",
            "interactive": {
                "body": "Pick a slot",
                "buttons": {
                    "buttons": [
                        {"id": "mon", "title": "Monday"},
                        {"id": "tue", "title": "Tuesday"},
                    ]
                },
            },
        }
    ).decode()
    reply = orjson.dumps(
        {"channelId": "demo-meta", "to": "15551234567", "text": {"body": "On its way!"}}
    ).decode()
    first_id = 'python3 -c \'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])\''
    own = shlex.quote(str(own_path))
    secret = shlex.quote(demo.meta_app_secret)
    return [
        Step(
            f"Open {base}/console in a browser and sign in with the API key"
            f" {demo.api_key}: its Simulator panel plays a customer (write hi to the menu bot).",
            (),
        ),
        Step(
            'Post a signed sample webhook ("Hi, ..."; the menu bot answers with its menu):',
            (
                command(
                    f"curl -s -X POST {base}/webhooks/meta {json_type}",
                    f"-H 'X-Hub-Signature-256: sha256={hmac_hex(demo.meta_app_secret, sample)}'",
                    f"--data-binary {sample_file}",
                ),
            ),
        ),
        Step(
            "Sign a webhook of your own with the Meta app secret (edit the file first if"
            " you like; a new message id makes a new message):",
            (
                f"SIG=$(openssl dgst -sha256 -hmac {secret} < {own} | awk '{{print $NF}}')",
                command(
                    f"curl -s -X POST {base}/webhooks/meta {json_type}",
                    '-H "X-Hub-Signature-256: sha256=$SIG"',
                    f"--data-binary {own_file}",
                ),
            ),
        ),
        Step(
            "Read what was stored:",
            (
                f"curl -s {auth} {base}/api/v1/conversations",
                command(
                    f"CID=$(curl -s {auth} {base}/api/v1/conversations",
                    f"| {first_id})",
                ),
                f"curl -s {auth} {base}/api/v1/conversations/$CID/messages",
            ),
        ),
        Step(
            "Send a reply (it goes to the fake Graph API and comes back SENT with a wamid):",
            (
                command(
                    f"curl -s -X POST {base}/api/v1/messages {auth}",
                    json_type,
                    f"-d {shlex.quote(reply)}",
                ),
            ),
        ),
        Step(
            "A Kapso event webhook (channel 'demo-kapso', a fake Kapso proxy):",
            (
                command(
                    f"curl -s -X POST {base}/webhooks/kapso/demo-kapso",
                    "-H 'X-Webhook-Event: whatsapp.message.received'",
                    f"-H 'X-Webhook-Signature: {hmac_hex(demo.kapso_secret, kapso)}'",
                    f"--data-binary {kapso_file}",
                ),
            ),
        ),
        Step(
            "A QR-session engine's QR, its ready event, and the session status"
            " (channel 'demo-qr', a fake WAHA engine):",
            (
                command(
                    f"curl -s -X POST {base}/webhooks/qr/{demo.qr_session}",
                    f"-H 'X-Webhook-Hmac: {qsig}'",
                    f"--data-binary {qr_file}",
                ),
                f"curl -s {auth} {base}/api/v1/sessions/{demo.qr_session}",
                command(
                    f"curl -s -X POST {base}/webhooks/qr/{demo.qr_session}",
                    f"-H 'X-Webhook-Hmac: {rsig}'",
                    f"--data-binary {ready_file}",
                ),
                f"curl -s {auth} '{base}/api/v1/sessions?status=session_connected'",
            ),
        ),
        Step(
            'Buttons on the QR channel go out as a numbered menu; an answer "2" maps back:',
            (
                command(
                    f"curl -s -X POST {base}/api/v1/messages {auth}",
                    json_type,
                    f"-d {shlex.quote(buttons)}",
                ),
            ),
        ),
    ]
