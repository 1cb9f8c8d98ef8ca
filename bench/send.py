"""gRPC `MessagingService.SendMessage` throughput against the gateway (FakeGraphAPI behind it).

The coordinator (`run_send`) starts client worker processes (`python -m bench.send ...`),
each keeping `concurrency` SendMessage calls in flight on one grpc.aio channel, all
aligned on a shared wall-clock start. Each worker first sends one probe message, then
loads through a warm-up and a measured window, and prints one JSON line: latencies and
message statuses of the calls that completed inside the window, plus errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench import aio
from bench.servers import API_KEY, CHANNEL_ID, HOST, PYTHON, REPO, BenchError

TO = "15551234567"
CALL_TIMEOUT = 30.0


# -- worker (runs in its own process) ----------------------------------------------------


async def _worker(args: argparse.Namespace) -> dict[str, Any]:
    import grpc

    from wagate.v1 import message_pb2, messaging_service_pb2, messaging_service_pb2_grpc

    metadata = (("authorization", f"Bearer {API_KEY}"),)
    counter = 0
    prefix = f"bench-{args.run_id}-{args.index}-"

    def request() -> messaging_service_pb2.SendMessageRequest:
        nonlocal counter
        counter += 1
        return messaging_service_pb2.SendMessageRequest(
            channel_id=CHANNEL_ID,
            to=TO,
            idempotency_key=f"{prefix}{counter}",
            text=message_pb2.TextContent(body=f"bench message {counter}"),
        )

    def status_name(value: int) -> str:
        return message_pb2.MessageStatus.Name(value).removeprefix("MESSAGE_STATUS_")

    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    first_error = ""
    window_start = args.start_at + args.warmup
    window_end = window_start + args.duration

    # Several channels: with `--workers N` the kernel hands each connection to one
    # worker (SO_REUSEPORT), so one channel would load one worker only. Channels of one
    # process share their connections unless each has a subchannel pool of its own.
    options = [("grpc.use_local_subchannel_pool", 1)]
    channels = [
        grpc.aio.insecure_channel(args.target, options=options) for _ in range(args.channels)
    ]
    stubs = [
        messaging_service_pb2_grpc.MessagingServiceStub(channel)  # type: ignore[no-untyped-call]
        for channel in channels
    ]
    stub = stubs[0]
    try:
        try:
            reply = await stub.SendMessage(request(), metadata=metadata, timeout=CALL_TIMEOUT)
            probe = status_name(reply.message.status)
        except grpc.aio.AioRpcError as exc:
            probe = f"{exc.code().name}: {exc.details()}"
        delay = args.start_at - time.time()
        if delay > 0:
            await asyncio.sleep(delay)

        async def loop(stub: Any) -> None:
            nonlocal first_error
            while True:
                started = time.time()
                if started >= window_end:
                    return
                t0 = time.perf_counter()
                status = ""
                try:
                    reply = await stub.SendMessage(
                        request(), metadata=metadata, timeout=CALL_TIMEOUT
                    )
                    status = status_name(reply.message.status)
                except grpc.aio.AioRpcError as exc:
                    status = ""
                    error = exc.code().name
                    if not first_error:
                        first_error = f"{error}: {exc.details()}"
                elapsed = time.perf_counter() - t0
                finished = time.time()
                if window_start <= finished < window_end:
                    latencies.append(elapsed * 1000)
                    if status:
                        statuses[status] += 1
                    else:
                        errors[error] += 1

        cpu0 = time.process_time()
        await asyncio.gather(*(loop(stubs[i % len(stubs)]) for i in range(args.concurrency)))
        cpu = time.process_time() - cpu0
    finally:
        for channel in channels:
            await channel.close()
    return {
        "probe": probe,
        "latencies_ms": latencies,
        "statuses": dict(statuses),
        "errors": dict(errors),
        "first_error": first_error,
        "cpu_s": cpu,
        "wall_s": args.warmup + args.duration,
    }


def worker_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="one SendMessage load worker")
    parser.add_argument("--target", required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--start-at", type=float, required=True)
    parser.add_argument("--warmup", type=float, required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--channels", type=int, default=1, help="gRPC channels (connections)")
    args = parser.parse_args(argv)
    result = aio.run(_worker(args))
    sys.stdout.write(json.dumps(result) + "\n")


# -- coordinator ---------------------------------------------------------------------------


@dataclass
class SendResult:
    calls: int
    window_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    errors: dict[str, int]
    first_error: str
    probes: list[str]
    client_cpu_pct: float
    clients: int
    concurrency: int
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.calls / self.window_s if self.window_s > 0 else 0.0

    @property
    def sent(self) -> int:
        return self.statuses.get("SENT", 0)

    @property
    def not_sent(self) -> int:
        return self.calls - self.sent


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), round(p / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def start_workers(
    grpc_port: int,
    *,
    clients: int,
    concurrency: int,
    warmup: float,
    duration: float,
    channels: int = 1,
) -> tuple[list[subprocess.Popen[str]], float]:
    """Start the workers; returns them and the shared wall-clock start time."""
    run_id = uuid.uuid4().hex[:12]
    start_at = time.time() + 3.0  # time for the workers to import, connect and probe
    per_client = [concurrency // clients + (i < concurrency % clients) for i in range(clients)]
    procs = [
        subprocess.Popen(
            [
                PYTHON,
                "-m",
                "bench.send",
                "--target",
                f"{HOST}:{grpc_port}",
                "--concurrency",
                str(n),
                "--start-at",
                repr(start_at),
                "--warmup",
                repr(warmup),
                "--duration",
                repr(duration),
                "--run-id",
                run_id,
                "--index",
                str(i),
                "--channels",
                str(channels),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, n in enumerate(per_client)
    ]
    return procs, start_at


def collect_workers(
    procs: list[subprocess.Popen[str]], *, concurrency: int, duration: float, timeout: float
) -> SendResult:
    outputs: list[dict[str, Any]] = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            line = out.strip().splitlines()[-1] if out.strip() else ""
            if proc.returncode != 0 or not line.startswith("{"):
                raise BenchError(
                    f"SendMessage worker failed (exit {proc.returncode}):\n{err[-3000:]}"
                )
            outputs.append(json.loads(line))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    latencies = sorted(x for o in outputs for x in o["latencies_ms"])
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for o in outputs:
        statuses.update(o["statuses"])
        errors.update(o["errors"])
    cpu = sum(o["cpu_s"] for o in outputs)
    wall = max(o["wall_s"] for o in outputs)
    return SendResult(
        calls=len(latencies),
        window_s=duration,
        p50_ms=statistics.median(latencies) if latencies else 0.0,
        p90_ms=percentile(latencies, 90),
        p99_ms=percentile(latencies, 99),
        max_ms=latencies[-1] if latencies else 0.0,
        statuses=dict(statuses),
        errors=dict(errors),
        first_error=next((o["first_error"] for o in outputs if o["first_error"]), ""),
        probes=[o["probe"] for o in outputs],
        client_cpu_pct=100 * cpu / wall if wall else 0.0,
        clients=len(outputs),
        concurrency=concurrency,
    )


if __name__ == "__main__":
    worker_main(sys.argv[1:])
