"""gRPC `SendMessage` load from h2load (nghttp2's HTTP/2 load generator, in C).

A Python gRPC client spends about as much CPU per call as the gateway's handler does,
so on two shared cores it would hold the gateway back. h2load speaks HTTP/2, and a
unary gRPC call is an HTTP/2 POST to `/<service>/<method>` whose body is the message
with a 5-byte prefix (a compression flag and a big-endian length; gRPC over HTTP/2,
https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md). Every call sends the
same request without an idempotency key, so each one is a new message.

h2load does not read gRPC's trailers: the outcome of every call is read back from the
database afterwards (every message `SENT`).
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.send import TO, percentile
from bench.servers import API_KEY, CHANNEL_ID, HOST, BenchError, ensure_tool

PATH = "/wagate.v1.MessagingService/SendMessage"


def ensure_h2load() -> str:
    return ensure_tool(
        "h2load",
        "nghttp2-client",
        "https://nghttp2.org/documentation/h2load-howto.html",
        "brew install nghttp2",
    )


def request_body() -> bytes:
    """One length-prefixed SendMessageRequest (text to the bench channel)."""
    from wagate.v1 import message_pb2, messaging_service_pb2

    request = messaging_service_pb2.SendMessageRequest(
        channel_id=CHANNEL_ID, to=TO, text=message_pb2.TextContent(body="bench message")
    )
    raw = request.SerializeToString()
    return b"\x00" + struct.pack(">I", len(raw)) + raw


@dataclass
class H2Result:
    connections: int
    streams: int  # concurrent calls per connection
    duration_s: float
    calls: int = 0
    failed: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    cpu_s: float = 0.0  # h2load's own CPU time
    statuses: dict[str, int] = field(default_factory=dict)  # from the database

    @property
    def rate(self) -> float:
        return self.calls / self.duration_s if self.duration_s else 0.0

    @property
    def in_flight(self) -> int:
        return self.connections * self.streams


class H2Load:
    """One h2load run in the background: `start()`, then `finish()`."""

    def __init__(
        self,
        port: int,
        workdir: Path,
        connections: int,
        streams: int,
        warmup: float,
        duration: float,
    ) -> None:
        self.result = H2Result(connections, streams, duration)
        workdir.mkdir(parents=True, exist_ok=True)
        self.body = workdir / "send.bin"
        self.log = workdir / "h2load.log"
        self.body.write_bytes(request_body())
        self.argv = [
            ensure_h2load(),
            *("-c", str(connections), "-m", str(streams), "-t", "1"),
            *("--warm-up-time", str(max(1, round(warmup))), "-D", str(max(1, round(duration)))),
            *("-d", str(self.body), "--log-file", str(self.log)),
            *("-H", "content-type: application/grpc", "-H", "te: trailers"),
            *("-H", f"authorization: Bearer {API_KEY}"),
            f"http://{HOST}:{port}{PATH}",
        ]
        self.out = tempfile.TemporaryFile("w+")
        self.proc: subprocess.Popen[str] | None = None
        self.warmup, self.duration = warmup, duration

    def start(self) -> float:
        """Start h2load; returns when (time.time()) its measured window begins."""
        self.proc = subprocess.Popen(
            self.argv, stdout=self.out, stderr=subprocess.STDOUT, text=True
        )
        return time.time() + max(1, round(self.warmup))

    def finish(self) -> H2Result:
        assert self.proc is not None
        deadline = time.monotonic() + self.warmup + self.duration + 60
        while True:
            pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                self.proc.returncode = os.waitstatus_to_exitcode(status)
                self.result.cpu_s = usage.ru_utime + usage.ru_stime
                break
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise BenchError("h2load did not end in time")
            time.sleep(0.05)
        self.out.seek(0)
        text = self.out.read()
        self.out.close()
        done = re.search(
            r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed", text
        )
        if self.proc.returncode != 0 or done is None:
            raise BenchError(f"h2load failed (exit {self.proc.returncode}):\n{text[-2000:]}")
        r = self.result
        r.calls, r.failed = int(done.group(1)), int(done.group(2))
        # The log: one line per call of the measured window (start µs, status, duration µs).
        durations = sorted(
            int(parts[2]) / 1000
            for parts in (line.split() for line in self.log.read_text().splitlines())
            if len(parts) == 3
        )
        r.p50_ms, r.p99_ms = percentile(durations, 50), percentile(durations, 99)
        r.max_ms = durations[-1] if durations else 0.0
        return r
