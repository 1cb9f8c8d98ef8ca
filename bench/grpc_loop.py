"""`python -m bench.grpc_loop`: how fast grpc.aio accepts calls when its loop is busy.

A model of the gateway's gRPC side, without the gateway: a bare grpc.aio server with
`SendMessage` answering after 10 ms, on a loop that something else keeps busy in
slices (as Sanic, the outbox and the database do in `wagate serve`), driven by the
same client as `python -m bench --only send` (64 calls in flight). It also runs the
server on its own loop in a second thread, handing each call to the busy loop.

grpc.aio keeps one pending "request call" per method and re-arms it from the loop
after each accepted RPC, so the accept rate follows the loop's iteration rate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from typing import Any

from bench import send as send_mod
from bench.report import num, table
from bench.servers import PYTHON, ProcessGroup, free_port

HANDLER_SLEEP = 0.010


# -- the server (a child process) ------------------------------------------------------


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def _busy(slice_s: float) -> None:
    """Keep the loop busy in `slice_s` slices, yielding between them."""
    while True:
        _spin(slice_s)
        await asyncio.sleep(0)


def serve(port: int, slice_s: float, threaded: bool) -> None:
    import uvloop
    from grpc import aio

    from wagate.v1 import message_pb2, messaging_service_pb2, messaging_service_pb2_grpc

    main_loop: asyncio.AbstractEventLoop | None = None

    async def answer() -> Any:
        await asyncio.sleep(HANDLER_SLEEP)
        return messaging_service_pb2.SendMessageResponse(
            message=message_pb2.Message(id="m", status=message_pb2.MESSAGE_STATUS_SENT)
        )

    class Servicer(messaging_service_pb2_grpc.MessagingServiceServicer):
        async def SendMessage(self, request: Any, context: Any) -> Any:
            if threaded:  # the work runs on the busy loop, as the gateway's would
                assert main_loop is not None
                return await asyncio.wrap_future(
                    asyncio.run_coroutine_threadsafe(answer(), main_loop)
                )
            return await answer()

    async def grpc_server() -> None:
        server = aio.server()
        messaging_service_pb2_grpc.add_MessagingServiceServicer_to_server(Servicer(), server)  # type: ignore[no-untyped-call]
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        print("ready", flush=True)
        await server.wait_for_termination()

    async def main() -> None:
        nonlocal main_loop
        main_loop = asyncio.get_running_loop()
        if threaded:
            thread = threading.Thread(
                target=lambda: uvloop.run(grpc_server()), name="grpc", daemon=True
            )
            thread.start()
        else:
            asyncio.get_running_loop().create_task(grpc_server())
        if slice_s > 0:
            await _busy(slice_s)
        await asyncio.Event().wait()

    uvloop.run(main())


# -- the driver ------------------------------------------------------------------------


def measure(slice_s: float, threaded: bool, duration: float) -> send_mod.SendResult:
    with ProcessGroup() as group:
        port = free_port()
        argv = [PYTHON, "-m", "bench.grpc_loop", "--serve", str(port), "--slice", str(slice_s)]
        server = group.spawn(
            "grpc-model",
            argv + (["--threaded"] if threaded else []),
            port=port,
            capture_stdout=True,
        )
        assert server.proc.stdout is not None
        if server.proc.stdout.readline().strip() != b"ready":
            raise RuntimeError(f"the model server did not start:\n{server.stderr_tail()}")
        procs, _ = send_mod.start_workers(
            port, clients=1, concurrency=64, warmup=1.0, duration=duration
        )
        return send_mod.collect_workers(procs, concurrency=64, duration=duration, timeout=60.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--slice", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--threaded", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.slice, args.threaded)
        return
    rows = []
    for slice_ms in (0.0, 0.25, 0.5, 1.0):
        for threaded in (False, True):
            result = measure(slice_ms / 1000, threaded, args.duration)
            rows.append(
                [
                    f"{slice_ms:g} ms" if slice_ms else "idle",
                    "own thread" if threaded else "shared",
                    num(result.calls / result.window_s),
                    num(result.p50_ms, 1),
                ]
            )
            print(f"  {rows[-1]}", flush=True, file=sys.stderr)
    print(
        f"## grpc.aio accept rate vs a busy loop: SendMessage answered after "
        f"{HANDLER_SLEEP * 1000:g} ms, 64 in flight, {args.duration:g} s each\n"
    )
    print(table(["loop busy in slices of", "gRPC server loop", "calls/s", "p50 ms"], rows))
    print(f"\n{os.cpu_count()} CPUs; client and server share them.")


if __name__ == "__main__":
    main()
