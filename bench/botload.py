"""Bot load from several processes: signed webhooks to the menu flow, and the time until
its reply reaches a fake Graph API living in the same process (bench/scale.py).

The load generator must not be what is measured, so it is split into `procs` worker
processes (`python -m bench.botload`). Each one runs its own fake Graph API for its own
tenant (`t1`, `t2`, ...; the menu flow, send rate limit lifted) and drives its share of
the conversations:

- **closed loop**: each conversation sends, waits for the reply, sends again (the
  capacity: replies per second);
- **open loop**: messages leave at a fixed rate whatever the replies do, round-robin
  over the conversations; a reply is matched to the oldest unanswered message of its
  conversation (the flow answers each message once, in order).

Protocol with the parent: the worker prints `READY <graph base url>`; the parent starts
the gateway with every worker's tenant and writes `GO <gateway url> <start time>`; the
worker warms each conversation up with `menu` (not measured) before the start time,
loads for the measured window and prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench import aio
from bench.servers import PYTHON, REPO, BenchError
from providers.testing import FakeGraphAPI
from tests.support.bots import tenant, text_webhook
from tests.support.tenants import meta_sign

# After "menu", the customer asks for help ("4") and goes back to the menu ("0"):
# one text reply each.
SCRIPT = ("4", "0")
REPLY_TIMEOUT = 30.0


class ReplyGraph(FakeGraphAPI):
    """Notes when each text message to a watched contact arrives, and wakes its waiter."""

    def __init__(self) -> None:
        super().__init__()
        self.on_reply: dict[str, collections.deque[float]] = {}
        self.arrived: dict[str, asyncio.Event] = {}

    def answer_message(self, phone_number_id: str, body: Any) -> tuple[int, Any]:
        answer = super().answer_message(phone_number_id, body)
        if isinstance(body, dict) and "text" in body:
            wa_id = str(body.get("to", "")).lstrip("+")
            if wa_id in self.on_reply:
                self.on_reply[wa_id].append(time.perf_counter())
                self.arrived[wa_id].set()
        return answer


@dataclass
class Conversation:
    wa_id: str
    sent: collections.deque[float] = field(default_factory=collections.deque)
    count: int = 0


def wa_id(index: int, n: int) -> str:
    return f"16{index:02d}{n:07d}"


class Load:
    def __init__(self, args: argparse.Namespace, graph: ReplyGraph, url: str) -> None:
        self.args = args
        self.graph = graph
        self.url = url
        self.secret = f"t{args.index}-secret"
        self.conversations = [Conversation(wa_id(args.index, n)) for n in range(args.conversations)]
        for c in self.conversations:
            graph.on_reply[c.wa_id] = collections.deque()
            graph.arrived[c.wa_id] = asyncio.Event()
        self.latencies: list[float] = []
        self.acks: list[float] = []
        self.errors: collections.Counter[str] = collections.Counter()
        self.sent_in_window = 0
        self.http: aiohttp.ClientSession | None = None

    async def post(self, c: Conversation, text: str) -> float:
        """POST one message of `c`; the time it left (perf_counter)."""
        assert self.http is not None
        c.count += 1
        body = text_webhook(
            self.args.index,
            f"wamid.bench-{c.wa_id}-{c.count}",
            text,
            wa_id=c.wa_id,
            ts=1767225660 + c.count,
        )
        headers = meta_sign(body, self.secret)
        started = time.perf_counter()
        c.sent.append(started)
        try:
            async with self.http.post(self.url, data=body, headers=headers) as resp:
                await resp.read()
                if resp.status != 200:
                    self.errors[f"HTTP {resp.status}"] += 1
        except aiohttp.ClientError as exc:
            self.errors[type(exc).__name__] += 1
        self.acks.append(time.perf_counter() - started)
        return started

    async def reply(self, c: Conversation) -> float | None:
        """Wait for the reply to `c`'s oldest unanswered message; its latency in seconds
        (None: none within REPLY_TIMEOUT)."""
        arrivals = self.graph.on_reply[c.wa_id]
        event = self.graph.arrived[c.wa_id]
        deadline = time.perf_counter() + REPLY_TIMEOUT
        while not arrivals:
            event.clear()
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), left)
        return arrivals.popleft() - c.sent.popleft()

    async def warm(self, c: Conversation) -> None:
        await self.post(c, "menu")
        if await self.reply(c) is None:
            self.errors["no reply to the warm-up"] += 1

    async def closed(self, c: Conversation, start: float, end: float) -> None:
        while time.time() < end:
            await self.post(c, SCRIPT[c.count % 2])
            latency = await self.reply(c)
            now = time.time()
            if latency is None:
                self.errors["no reply within 30 s"] += 1
            elif start <= now < end:
                self.latencies.append(latency)

    async def open(self, start: float, end: float) -> None:
        rate = self.args.rate
        tasks: list[asyncio.Task[None]] = []
        t0 = time.perf_counter() + (start - time.time())
        n = 0
        while True:
            due = t0 + n / rate
            if due - t0 >= end - start:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            c = self.conversations[n % len(self.conversations)]
            tasks.append(asyncio.create_task(self._open_one(c)))
            n += 1
        self.sent_in_window = n
        await asyncio.gather(*tasks)

    async def _open_one(self, c: Conversation) -> None:
        await self.post(c, SCRIPT[c.count % 2])
        # Whichever task wakes first takes the oldest reply and the oldest message of
        # the conversation: the flow answers in order, so the pairs are right.
        latency = await self.reply(c)
        if latency is None:
            self.errors["no reply within 30 s"] += 1
        else:
            self.latencies.append(latency)


async def _clear_records(graph: FakeGraphAPI) -> None:
    """The fake keeps every request: drop them so memory stays flat under load."""
    while True:
        await asyncio.sleep(1.0)
        graph.requests.clear()


async def worker(args: argparse.Namespace) -> dict[str, Any]:
    async with ReplyGraph() as graph:
        sys.stdout.write(f"READY {graph.base_url}\n")
        sys.stdout.flush()
        line = await asyncio.to_thread(sys.stdin.readline)
        _, gateway_url, start_text = line.split()
        start = float(start_text)
        end = start + args.duration
        load = Load(args, graph, gateway_url + "/webhooks/meta")
        clearing = asyncio.create_task(_clear_records(graph))
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as load.http:
            await asyncio.gather(*(load.warm(c) for c in load.conversations))
            warm_errors = sum(load.errors.values())
            load.acks.clear()
            await asyncio.sleep(max(0.0, start - time.time()))
            cpu0, wall0 = time.process_time(), time.perf_counter()
            if args.mode == "closed":
                await asyncio.gather(*(load.closed(c, start, end) for c in load.conversations))
            else:
                await load.open(start, end)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        clearing.cancel()
    return {
        "latencies": load.latencies,
        "acks": load.acks,
        "errors": dict(load.errors),
        "warm_errors": warm_errors,
        "sent": load.sent_in_window,
        "cpu_s": cpu,
        "wall_s": wall,
    }


# -- parent side ----------------------------------------------------------------------


@dataclass
class BotLoadResult:
    mode: str
    conversations: int
    procs: int
    duration_s: float
    rate: float = 0.0  # open loop: messages/s offered
    replies: int = 0
    sent: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    ack_p50_ms: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    # The generator's own CPU, summed over its processes (100 % = one core).
    client_cpu_pct: float = 0.0
    client_max_cpu_pct: float = 0.0  # the busiest generator process

    @property
    def replies_per_s(self) -> float:
        return self.replies / self.duration_s if self.duration_s else 0.0


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


class BotLoad:
    """The worker processes of one measurement, from `start()` to `collect()`."""

    def __init__(self, mode: str, conversations: int, procs: int, duration: float, rate: float):
        self.mode, self.duration, self.rate = mode, duration, rate
        self.conversations, self.procs = conversations, procs
        self.workers: list[subprocess.Popen[str]] = []
        self.graph_urls: list[str] = []

    def start(self) -> None:
        """Start the workers and their fake Graph APIs (`graph_urls`, in tenant order)."""
        shares = [
            self.conversations // self.procs + (i < self.conversations % self.procs)
            for i in range(self.procs)
        ]
        for i, share in enumerate(shares):
            argv = [
                *(PYTHON, "-m", "bench.botload", "--index", str(i + 1)),
                *("--conversations", str(share), "--mode", self.mode),
                *("--duration", repr(self.duration), "--rate", repr(self.rate / self.procs)),
            ]
            proc = subprocess.Popen(
                argv,
                cwd=REPO,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            self.workers.append(proc)
        for proc in self.workers:
            assert proc.stdout is not None
            line = proc.stdout.readline().split()
            if len(line) != 2 or line[0] != "READY":
                raise BenchError(f"bot load worker did not start: {proc.stderr.read()[-2000:]}")  # type: ignore[union-attr]
            self.graph_urls.append(line[1])

    def tenants(self) -> list[dict[str, Any]]:
        """One tenant per worker, each running the menu flow, sends unthrottled."""
        out = []
        for i, url in enumerate(self.graph_urls):
            config = tenant(i + 1, url, [{"plugin": "flows", "flows_file": "menu.yaml"}])
            # The channel's send rate limit (80/s by default) would dominate: lift it.
            config["channels"][0]["rate_limit"] = 100_000
            out.append(config)
        return out

    def go(self, gateway_url: str, lead: float = 4.0) -> float:
        """Tell every worker where the gateway is; the measured window starts in `lead` s
        (returned, as `time.time()`)."""
        start = time.time() + lead
        for proc in self.workers:
            assert proc.stdin is not None
            proc.stdin.write(f"GO {gateway_url} {start!r}\n")
            proc.stdin.flush()
        return start

    def collect(self) -> BotLoadResult:
        outputs = []
        for proc in self.workers:
            out, err = proc.communicate(timeout=self.duration + 120)
            lines = out.strip().splitlines()
            if proc.returncode != 0 or not lines or not lines[-1].startswith("{"):
                raise BenchError(f"bot load worker failed (exit {proc.returncode}):\n{err[-3000:]}")
            outputs.append(json.loads(lines[-1]))
        latencies = [x for o in outputs for x in o["latencies"]]
        acks = [x for o in outputs for x in o["acks"]]
        errors: collections.Counter[str] = collections.Counter()
        for o in outputs:
            errors.update(o["errors"])
            if o["warm_errors"]:
                errors["warm-up"] += o["warm_errors"]
        cpu = [100 * o["cpu_s"] / o["wall_s"] for o in outputs if o["wall_s"]]
        return BotLoadResult(
            mode=self.mode,
            conversations=self.conversations,
            procs=self.procs,
            duration_s=self.duration,
            rate=self.rate,
            replies=len(latencies),
            sent=sum(o["sent"] for o in outputs),
            p50_ms=_pct(latencies, 0.50) * 1000,
            p99_ms=_pct(latencies, 0.99) * 1000,
            max_ms=max(latencies, default=0.0) * 1000,
            ack_p50_ms=_pct(acks, 0.50) * 1000,
            errors=dict(errors),
            client_cpu_pct=sum(cpu),
            client_max_cpu_pct=max(cpu, default=0.0),
        )

    def close(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="one bot load worker (bench/scale.py)")
    parser.add_argument("--index", type=int, required=True, help="tenant t<index>")
    parser.add_argument("--conversations", type=int, required=True)
    parser.add_argument("--mode", choices=["open", "closed"], required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--rate", type=float, default=0.0, help="open loop: messages/s")
    args = parser.parse_args(argv)
    result = aio.run(worker(args))
    # The event loop may leave stdout non-blocking: a long line would be cut at the
    # pipe's 64 KiB.
    os.set_blocking(sys.stdout.fileno(), True)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
