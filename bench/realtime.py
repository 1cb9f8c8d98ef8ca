"""Realtime benchmarks: webhook → Socket.IO latency, fan-out to many clients, memory per client.

1. Latency: one python-socketio client (websocket) is connected; signed Meta webhooks are
   POSTed open-loop at a fixed rate (default 200/s for 30 s), each with its own wamid; the
   latency of a message is from just before its POST to the `message:new` on the client.
2. Fan-out: N clients (default 500, websocket) are connected; one webhook at a time is
   POSTed; we record when the first and the last client got its `message:new`.
3. Memory: the gateway's RSS before and after the N clients connected, per client.

Clients and the load run in this process, on one event loop; the gateway is its own
process on the same machine.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import socketio

from bench.ingest import sign, wamid, webhook_body
from bench.report import mib, ms, num, table
from bench.servers import API_KEY, Server, tree_rss_kib

LATENCY_P50_TARGET_MS = 5.0
LATENCY_P99_TARGET_MS = 20.0
FANOUT_TARGET_MS = 100.0


@dataclass
class RealtimeResult:
    rate: float = 0.0
    duration_s: float = 0.0
    sent: int = 0
    received: int = 0
    non2xx: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    post_p50_ms: float = 0.0
    # From the webhook's 200 to the client: processing after the ack, bus, Socket.IO.
    after_ack_p50_ms: float = 0.0
    after_ack_p99_ms: float = 0.0
    clients: int = 0
    connect_s: float = 0.0
    fanout_rounds: int = 0
    fanout_missing: int = 0
    # Per round: webhook POST -> first client, -> last client.
    first_ms: list[float] = field(default_factory=list)
    last_ms: list[float] = field(default_factory=list)
    rss_before_kib: int = 0
    rss_after_kib: int = 0
    error: str = ""

    @property
    def kib_per_client(self) -> float:
        return (self.rss_after_kib - self.rss_before_kib) / self.clients if self.clients else 0.0


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class _Receiver:
    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.seen: dict[str, float] = {}
        self.sio.on("message:new", self._on_new)

    async def _on_new(self, data: Any) -> None:
        self.seen[data["message"]["providerMessageId"]] = time.perf_counter()


async def _post(http: aiohttp.ClientSession, url: str, body: bytes) -> int:
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + sign(body)}
    async with http.post(url, data=body, headers=headers) as resp:
        await resp.read()
        return resp.status


async def _latency(
    gw: Server, result: RealtimeResult, rate: float, duration: float, listen: Server | None = None
) -> None:
    """Webhooks to `gw` at `rate`, received by a Socket.IO client of `listen` (or `gw`)."""
    run = uuid.uuid4().hex[:8]
    count = int(rate * duration)
    bodies = [(wamid(run, n), webhook_body(wamid(run, n))) for n in range(count)]
    receiver = _Receiver()
    await receiver.sio.connect(
        (listen or gw).url, auth={"token": API_KEY}, transports=["websocket"]
    )
    sent_at: dict[str, float] = {}
    acked_at: dict[str, float] = {}
    post_ms: list[float] = []
    statuses: list[int] = []
    connector = aiohttp.TCPConnector(limit=128)
    async with aiohttp.ClientSession(connector=connector) as http:
        url = gw.url + "/webhooks/meta"
        # Warm-up: a few messages, not measured.
        for n in range(5):
            await _post(http, url, webhook_body(wamid(run + "w", n)))

        async def one(key: str, body: bytes) -> None:
            t = time.perf_counter()
            sent_at[key] = t
            statuses.append(await _post(http, url, body))
            acked_at[key] = time.perf_counter()
            post_ms.append((acked_at[key] - t) * 1000)

        tasks = []
        start = time.perf_counter()
        for n, (key, body) in enumerate(bodies):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(key, body)))
        await asyncio.gather(*tasks)
        result.duration_s = time.perf_counter() - start
        deadline = time.perf_counter() + 30
        while time.perf_counter() < deadline:
            if len(receiver.seen) >= count + 5:
                break
            await asyncio.sleep(0.05)
    await receiver.sio.disconnect()
    latencies = [(receiver.seen[k] - t) * 1000 for k, t in sent_at.items() if k in receiver.seen]
    after_ack = [(receiver.seen[k] - t) * 1000 for k, t in acked_at.items() if k in receiver.seen]
    result.after_ack_p50_ms = _pct(after_ack, 0.50)
    result.after_ack_p99_ms = _pct(after_ack, 0.99)
    result.rate, result.sent, result.received = rate, count, len(latencies)
    result.non2xx = sum(1 for s in statuses if s != 200)
    result.p50_ms, result.p99_ms = _pct(latencies, 0.50), _pct(latencies, 0.99)
    result.max_ms = max(latencies, default=0.0)
    result.post_p50_ms = _pct(post_ms, 0.50)


async def _fanout(gw: Server, result: RealtimeResult, clients: int, rounds: int) -> None:
    result.rss_before_kib = tree_rss_kib(gw.pid)
    receivers = [_Receiver() for _ in range(clients)]
    t0 = time.perf_counter()
    for i in range(0, clients, 50):
        await asyncio.gather(
            *(
                r.sio.connect(gw.url, auth={"token": API_KEY}, transports=["websocket"])
                for r in receivers[i : i + 50]
            )
        )
    result.connect_s = time.perf_counter() - t0
    result.clients = clients
    await asyncio.sleep(2.0)
    result.rss_after_kib = tree_rss_kib(gw.pid)
    run = uuid.uuid4().hex[:8]
    try:
        async with aiohttp.ClientSession() as http:
            for n in range(rounds):
                key = wamid(run, n)
                t = time.perf_counter()
                await _post(http, gw.url + "/webhooks/meta", webhook_body(key))
                deadline = time.perf_counter() + 5
                while time.perf_counter() < deadline:
                    if all(key in r.seen for r in receivers):
                        break
                    await asyncio.sleep(0.002)
                got = [r.seen[key] for r in receivers if key in r.seen]
                result.fanout_missing += clients - len(got)
                if got:
                    result.first_ms.append((min(got) - t) * 1000)
                    result.last_ms.append((max(got) - t) * 1000)
                await asyncio.sleep(0.3)
        result.fanout_rounds = rounds
    finally:
        for i in range(0, clients, 100):
            await asyncio.gather(
                *(r.sio.disconnect() for r in receivers[i : i + 100]), return_exceptions=True
            )


def cross_replica_latency(a: Server, b: Server, rate: float, duration: float) -> RealtimeResult:
    """Webhooks POSTed to replica `a`, `message:new` received by a client of replica `b`."""
    result = RealtimeResult()
    asyncio.run(_latency(a, result, rate, duration, listen=b))
    return result


def run_realtime(gw: Server, quick: bool, result: RealtimeResult) -> None:
    rate = 200.0
    duration = 5.0 if quick else 30.0
    clients = 100 if quick else 500
    rounds = 5 if quick else 20

    async def main() -> None:
        await _latency(gw, result, rate, duration)
        await asyncio.sleep(1.0)
        await _fanout(gw, result, clients, rounds)

    asyncio.run(main())


def print_realtime(r: RealtimeResult) -> None:
    print(
        f"\n## Realtime: webhook → Socket.IO (python-socketio client, websocket), "
        f"{num(r.rate)} webhooks/s for {r.duration_s:.0f} s; fan-out to {r.clients} clients\n"
    )
    if r.error:
        print(f"FAILED: {r.error}\n")
    rows = [
        [
            "webhook → message:new, 1 client",
            f"{num(r.received)} / {num(r.sent)}",
            ms(r.p50_ms),
            ms(r.p99_ms),
            ms(r.max_ms),
            f"webhook 200 p50 {ms(r.post_p50_ms)} ms; 200 → client p50 "
            f"{ms(r.after_ack_p50_ms)} / p99 {ms(r.after_ack_p99_ms)} ms; non-2xx {r.non2xx}",
        ]
    ]
    if r.last_ms:
        spread = statistics.median(b - a for a, b in zip(r.first_ms, r.last_ms, strict=True))
        rows.append(
            [
                f"fan-out, last of {r.clients} clients",
                f"{r.fanout_rounds} events",
                ms(statistics.median(r.last_ms)),
                ms(max(r.last_ms)),
                ms(max(r.last_ms)),
                f"first client p50 {ms(statistics.median(r.first_ms))} ms; first → last p50 "
                f"{ms(spread)} ms; missing {r.fanout_missing}",
            ]
        )
    print(table(["what", "received", "p50 ms", "p99 ms", "max ms", "notes"], rows))
    if r.clients:
        print(
            f"\n{r.clients} clients connected in {r.connect_s:.1f} s; gateway RSS "
            f"{mib(r.rss_before_kib)} → {mib(r.rss_after_kib)}: "
            f"{r.kib_per_client:.0f} KiB per connected client"
        )


def summary_rows(r: RealtimeResult) -> list[list[str]]:
    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    if r.error or not r.received:
        return [["Realtime", "did not run: " + r.error[:80], "", "FAIL"]]
    rows = [
        [
            f"Webhook → Socket.IO p50 / p99 ({num(r.rate)}/s)",
            f"{ms(r.p50_ms)} / {ms(r.p99_ms)} ms",
            f"<= {LATENCY_P50_TARGET_MS:.0f} / {LATENCY_P99_TARGET_MS:.0f} ms",
            verdict(r.p50_ms <= LATENCY_P50_TARGET_MS and r.p99_ms <= LATENCY_P99_TARGET_MS),
        ]
    ]
    if r.last_ms:
        worst = max(r.last_ms)
        rows.append(
            [
                f"Fan-out: webhook → last of {r.clients} clients (worst of {r.fanout_rounds})",
                f"{ms(worst)} ms (median {ms(statistics.median(r.last_ms))})",
                f"<= {FANOUT_TARGET_MS:.0f} ms",
                verdict(worst <= FANOUT_TARGET_MS and r.fanout_missing == 0),
            ]
        )
        rows.append(["Gateway memory per Socket.IO client", f"{r.kib_per_client:.0f} KiB", "", ""])
    return rows
