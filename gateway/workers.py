"""`wagate serve --workers N`: N whole gateways on one machine, sharing its two ports.

Each worker is a process of its own running everything `wagate serve` runs
(`gateway.compose`: ingest, outbox, bus, Socket.IO, gRPC), so N workers use N cores
where one process uses one (CPython runs one process's Python on one core at a time).
They coordinate through PostgreSQL and Redis exactly as replicas do
(docs/scale-out.md). Each one listens on the HTTP port and on the gRPC port with
SO_REUSEPORT, and the kernel spreads new connections over them (socket(7)).

This process, the supervisor, serves nothing itself. `wagate serve` checked the ports
before it started the workers, so a second gateway still finds them taken. A worker
that dies after it started is replaced by a new one; one that cannot start stops the
group (a port or the database it needs will not come back by itself), with status 1.
SIGTERM or SIGINT stops every worker gracefully, once, and exits 0 when they all did.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from types import FrameType

from gateway.config import Settings
from gateway.logs import setup_logging
from gateway.preflight import bind_socket
from gateway.worker_sessions import WorkerSessions

log = logging.getLogger("wagate")

# A worker's graceful stop: Sanic's GRACEFUL_SHUTDOWN_TIMEOUT (10 s) for requests in
# flight, then gRPC's grace and the bounded shutdown steps (gateway/compose.py).
STOP_TIMEOUT = 60.0


@dataclass
class Worker:
    number: int
    process: BaseProcess
    ready: Connection  # the worker sends its pid once it serves
    started: bool = False


class Supervisor:
    """Starts the workers, replaces one that dies, and stops them all on a signal."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # spawn, not fork: each worker starts from a clean interpreter, with no copy of
        # the supervisor's threads or grpc state (grpc's C core does not survive fork).
        self.context = multiprocessing.get_context("spawn")
        self.workers: dict[int, Worker] = {}
        # Each worker's private Unix socket (gateway/worker_sessions.py), owner-only.
        self.directory = ""
        self.stopping = False
        self.stop_deadline = 0.0
        self.exit_code = 0

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self.directory = tempfile.mkdtemp(prefix="wagate-workers-")
        try:
            for number in range(1, self.settings.workers + 1):
                self._start(number)
            self._supervise()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
        return self.exit_code

    def _supervise(self) -> None:
        while self.workers:
            sentinels = {w.process.sentinel: w for w in self.workers.values()}
            pending = {w.ready: w for w in self.workers.values() if not w.started}
            woke = wait([*sentinels, *pending], timeout=1.0)
            for obj in woke:
                if obj in pending:
                    self._on_ready(pending[obj])
            for obj in woke:
                if obj in sentinels:
                    self._on_exit(sentinels[obj])
            if self.stopping and time.monotonic() > self.stop_deadline:
                self._kill_remaining()

    def _start(self, number: int) -> None:
        receive, send = self.context.Pipe(duplex=False)
        process = self.context.Process(
            target=serve_worker,
            args=(
                self.settings,
                WorkerSessions(self.directory, number, self.settings.workers),
                send,
            ),
            name=f"wagate-worker-{number}",
        )
        process.start()
        send.close()
        self.workers[number] = Worker(number, process, receive)

    def _on_ready(self, worker: Worker) -> None:
        try:
            worker.ready.recv()
        except EOFError:  # it exited before it served: its sentinel tells the rest
            return
        worker.started = True
        if all(w.started for w in self.workers.values()):
            log.info("wagate workers started", extra={"workers": len(self.workers)})

    def _on_exit(self, worker: Worker) -> None:
        worker.process.join()
        worker.ready.close()
        del self.workers[worker.number]
        code = worker.process.exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"status {code}"
        fields = {"worker": worker.number, "pid": worker.process.pid, "exit": how}
        if self.stopping:
            # Stopped before it served (Sanic takes SIGTERM gracefully once it serves).
            quiet = not worker.started and code == -signal.SIGTERM
            if code != 0 and not quiet:
                log.warning("worker did not stop cleanly", extra=fields)
                self.exit_code = 1
        elif not worker.started:
            log.error("worker could not start; stopping the others", extra=fields)
            self.exit_code = 1
            self.stop()
        else:
            log.error("worker exited; starting a new one", extra=fields)
            self._start(worker.number)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if not self.stopping:
            log.info("stopping the workers", extra={"signal": signal.Signals(signum).name})
            self.stop()

    def stop(self) -> None:
        """SIGTERM to each worker, once: a second one would cut its graceful stop short."""
        self.stopping = True
        self.stop_deadline = time.monotonic() + STOP_TIMEOUT
        for worker in self.workers.values():
            if worker.process.pid is not None and worker.process.is_alive():
                os.kill(worker.process.pid, signal.SIGTERM)

    def _kill_remaining(self) -> None:
        for worker in self.workers.values():
            log.error("worker did not stop in time; killing it", extra={"worker": worker.number})
            worker.process.kill()
        self.stop_deadline = float("inf")


def run_workers(settings: Settings) -> int:
    """Serve with `settings.workers` processes until a signal; the exit status."""
    return Supervisor(settings).run()


def serve_worker(settings: Settings, sessions: WorkerSessions, ready: Connection) -> None:
    """One worker's whole life (the target of its process)."""
    number = sessions.number
    # A process group of its own: a terminal's Ctrl-C reaches the supervisor only,
    # which stops each worker once (Sanic treats a second signal as "exit now").
    os.setpgrp()
    setup_logging(settings.log_level, settings.secrets, settings.log_format, worker=number)
    _stop_when_orphaned()
    from gateway.app import create_app, run_app

    app = create_app(settings)
    app.ctx.worker_sessions = sessions

    @app.before_server_start  # after create_app's own: the runtime exists
    async def route_sessions(_: object) -> None:
        sockets = app.ctx.runtime.realtime.sockets
        sockets.prefix_session_ids(sessions.prefix)
        await sessions.listen(sockets.asgi)

    @app.before_server_stop  # Sanic runs these in reverse: before create_app's own
    async def stop_routing(_: object) -> None:
        await sessions.close()

    @app.after_server_start
    async def announce(_: object) -> None:
        ready.send(os.getpid())
        ready.close()

    try:
        sock = bind_socket(settings.http_host, settings.http_port, shared=True)
        run_app(app, settings, sock)
    except OSError as exc:
        print(f"wagate: cannot start worker {number}: {exc}", file=sys.stderr)
        sys.exit(1)


def _stop_when_orphaned() -> None:
    """Stop gracefully if the supervisor is gone (killed -9): never serve unsupervised."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()
