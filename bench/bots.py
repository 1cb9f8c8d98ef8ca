"""`python -m bench.bots [--conversations 100] [--rounds 10]`: bot overhead.

A gateway whose tenant runs the shipped menu flow; N contacts talk to it in
parallel, each sending a message and waiting for the flow's reply before the next.
Measured: signed webhook POSTed → the flow's reply received by the fake Graph API
(in this process), p50 and p99. No model is involved, so this is all overhead:
ack, ingest, the bot host, the flow, the outbox and the provider call.
Target: p99 <= 30 ms at 100 conversations (bench/README.md, "Against the targets").
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.report import ms, table
from providers.testing import FakeGraphAPI
from tests.support.bots import tenant, text_webhook
from tests.support.procs import start_gateway
from tests.support.tenants import meta_sign

TARGET_P99 = 0.030
# Each contact opens the menu, then either answers with digits (help, back to the
# menu: the flow as customers use it) or with words (the flow's "please reply with a
# number": no numbered-menu lookup on the ingest path).
SCRIPTS = {"digits": ("4", "0"), "words": ("hello", "ok")}


class TimedGraph(FakeGraphAPI):
    """Wakes the waiting contact as soon as a reply to it arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: dict[str, asyncio.Event] = {}

    def answer_message(self, phone_number_id: str, body: Any) -> tuple[int, Any]:
        answer = super().answer_message(phone_number_id, body)
        if isinstance(body, dict) and "text" in body:
            event = self.waiting.get(str(body.get("to", "")).lstrip("+"))
            if event is not None:
                event.set()
        return answer


@dataclass
class Samples:
    replies: list[float] = field(default_factory=list)
    acks: list[float] = field(default_factory=list)


async def contact(
    http: aiohttp.ClientSession,
    url: str,
    graph: TimedGraph,
    wa_id: str,
    script: tuple[str, ...],
    rounds: int,
    out: Samples,
) -> None:
    event = graph.waiting[wa_id] = asyncio.Event()
    for i in range(rounds):
        text = "menu" if i == 0 else script[i % len(script)]
        body = text_webhook(1, f"wamid.bench-{wa_id}-{i}", text, wa_id=wa_id, ts=1767225660 + i)
        event.clear()
        started = time.perf_counter()
        async with http.post(url, data=body, headers=meta_sign(body, "t1-secret")) as resp:
            assert resp.status == 200, resp.status
        acked = time.perf_counter()
        await asyncio.wait_for(event.wait(), 30)
        out.replies.append(time.perf_counter() - started)
        out.acks.append(acked - started)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def run(conversations: int, rounds: int) -> int:
    rows = []
    async with TimedGraph() as graph:
        config = tenant(1, graph.base_url, [{"plugin": "flows", "flows_file": "menu.yaml"}])
        # The channel's send rate limit (80/s by default) would dominate: lift it.
        config["channels"][0]["rate_limit"] = 100_000
        gw = await asyncio.to_thread(
            start_gateway, {"tenants": [config]}, env={"WAGATE_LOG_LEVEL": "warning"}
        )
        try:
            connector = aiohttp.TCPConnector(limit=conversations)
            async with aiohttp.ClientSession(connector=connector) as http:
                url = gw.url + "/webhooks/meta"
                for k, (name, script) in enumerate(SCRIPTS.items()):
                    warm = Samples()
                    await contact(http, url, graph, f"17770000{k}", script, 3, warm)
                    got = Samples()
                    await asyncio.gather(
                        *(
                            contact(http, url, graph, f"166{k}{n:06d}", script, rounds, got)
                            for n in range(conversations)
                        )
                    )
                    p99 = pct(got.replies, 0.99)
                    rows.append(
                        [
                            name,
                            str(conversations),
                            str(len(got.replies)),
                            ms(pct(got.acks, 0.5) * 1000),
                            ms(pct(got.replies, 0.5) * 1000),
                            ms(p99 * 1000),
                            ms(TARGET_P99 * 1000),
                            "PASS" if p99 <= TARGET_P99 else "MISS",
                        ]
                    )
        finally:
            await asyncio.to_thread(gw.stop)
    print("\nBots: signed webhook → the menu flow's reply at the fake provider (no model)")
    headers = ["answers", "conversations", "replies", "ack p50 ms", "p50 ms", "p99 ms"]
    print(table([*headers, "target p99", "verdict"], rows))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bots")
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    return asyncio.run(run(args.conversations, args.rounds))


if __name__ == "__main__":
    sys.exit(main())
