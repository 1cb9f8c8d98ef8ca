"""Runs `providers.testing.FakeGraphAPI` on 127.0.0.1 until SIGTERM/SIGINT.

`python -m bench.fake_graph --port 0` prints `READY <port>` on stdout once it listens.
Recorded requests are dropped every second so memory stays flat under load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from bench import aio
from providers.testing import FakeGraphAPI


async def serve(host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    fake = FakeGraphAPI()
    await fake.start(host, port)
    try:
        sys.stdout.write(f"READY {fake.port}\n")
        sys.stdout.flush()
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            fake.requests.clear()
    finally:
        await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    aio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
