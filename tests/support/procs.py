"""Start real servers for tests: the gateway as `wagate serve`, PostgreSQL and Redis."""

from __future__ import annotations

import glob
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

WAGATE = Path(sys.executable).with_name("wagate")


# Ports handed out by this process, so two servers of one test never get the same one.
_GIVEN: set[int] = set()
# Below Linux's ephemeral range (ip_local_port_range, 32768-60999 by default): a port
# from bind(("", 0)) comes from that range, so an outgoing connection of another
# process could take it between our choosing it and the server binding it.
_LOW, _HIGH = 20000, 32000


def free_port() -> int:
    """A port that is free now, outside the range outgoing connections are given."""
    for _ in range(500):
        port = random.randint(_LOW, _HIGH)
        if port in _GIVEN:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _GIVEN.add(port)
        return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 20.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    import http.client
    import urllib.request

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except (OSError, http.client.HTTPException) as exc:  # not serving yet, or starting
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"{url} not ready after {timeout}s ({last!r})")


@dataclass
class Gateway:
    """A running `wagate serve` process."""

    proc: subprocess.Popen[bytes]
    http_port: int
    grpc_port: int
    workdir: Path
    database_url: str
    stderr_path: Path
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def logs(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)


def start_gateway(
    config: dict[str, Any] | None,
    *,
    database_url: str | None = None,
    env: dict[str, str] | None = None,
    workdir: Path | None = None,
    ready_within: float = 60.0,
) -> Gateway:
    """Start `wagate serve` with `config` (None: the demo) and wait until it is ready
    (generous: a loaded 2-core machine can take many seconds to start one).

    A port taken by another process between choosing and binding it is a race of the
    test machine, not of the gateway: the start is tried again on fresh ports.
    """
    for attempt in range(3):
        try:
            return _start_gateway(
                config, database_url=database_url, env=env, workdir=workdir, within=ready_within
            )
        except PortTaken:
            if attempt == 2 or (env and ("WAGATE_HTTP_PORT" in env or "WAGATE_GRPC_PORT" in env)):
                raise
    raise AssertionError("unreachable")


class PortTaken(RuntimeError):
    """The gateway refused to start because a port it was given is in use."""


def _start_gateway(
    config: dict[str, Any] | None,
    *,
    database_url: str | None,
    env: dict[str, str] | None,
    workdir: Path | None,
    within: float,
) -> Gateway:
    workdir = workdir or Path(tempfile.mkdtemp(prefix="wagate-test-"))
    http_port, grpc_port = free_port(), free_port()
    database_url = database_url or f"sqlite://{workdir}/wagate.sqlite3"
    full_env = {
        **os.environ,
        "WAGATE_HTTP_PORT": str(http_port),
        "WAGATE_GRPC_PORT": str(grpc_port),
        "WAGATE_DATABASE_URL": database_url,
        "WAGATE_LOG_LEVEL": "info",
        **(env or {}),
    }
    args = [str(WAGATE), "serve"]
    if config is not None:
        path = workdir / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        args += ["--config", str(path)]
    stderr_path = workdir / "stderr.log"
    proc = subprocess.Popen(
        args,
        cwd=workdir,
        env=full_env,
        stdout=open(workdir / "stdout.log", "wb"),
        stderr=open(stderr_path, "wb"),
    )
    gw = Gateway(proc, http_port, grpc_port, workdir, database_url, stderr_path, config or {})
    try:
        wait_http(f"{gw.url}/readyz", within, proc=proc)
    except Exception as exc:
        gw.stop()
        logs = gw.logs()
        error = PortTaken if re.search(r"port \S+ is not available", logs) else RuntimeError
        raise error(f"gateway did not start ({exc}):\n{logs[-3000:]}") from None
    return gw


@dataclass
class Postgres:
    """A throwaway PostgreSQL server from the machine's initdb/pg_ctl."""

    datadir: Path
    port: int
    user: str | None

    @property
    def url_base(self) -> str:
        return f"postgres://wagate:wagate@127.0.0.1:{self.port}"

    def run(self, *cmd: str) -> None:
        full = list(cmd)
        if self.user:
            full = ["runuser", "-u", self.user, "--", *full]
        subprocess.run(full, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def create_database(self, name: str) -> str:
        self.run(
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-c",
            f"CREATE DATABASE {name} OWNER wagate",
        )
        return f"{self.url_base}/{name}"

    def start_server(self) -> None:
        """Start the server on its port (again, after `stop_server`: an outage ends)."""
        base = self.datadir.parent
        self.run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-w",
            "-l",
            str(base / "pg.log"),
            "-o",
            f"-p {self.port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )

    def stop_server(self) -> None:
        """Stop the server, keeping its data: an outage, until `start_server`."""
        self.run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")

    def stop(self) -> None:
        try:
            self.stop_server()
        finally:
            shutil.rmtree(self.datadir.parent, ignore_errors=True)


def start_postgres() -> Postgres:
    # Debian's postgresql package keeps the server binaries off PATH, one folder a version.
    versions = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    initdb = shutil.which("initdb") or max(
        versions, key=lambda p: int(Path(p).parts[4]), default="initdb"
    )
    bindir = str(Path(initdb).resolve().parent)
    os.environ["PATH"] = f"{bindir}:{os.environ['PATH']}"
    base = Path(tempfile.mkdtemp(prefix="wagate-pg-"))
    datadir = base / "data"
    user = "postgres" if os.geteuid() == 0 else None  # initdb refuses to run as root
    if user:
        shutil.chown(base, user)
    pg = Postgres(datadir, free_port(), user)
    pg.run("initdb", "-D", str(datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    pg.start_server()
    pg.run(
        "psql",
        "-h",
        "127.0.0.1",
        "-p",
        str(pg.port),
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-c",
        "CREATE ROLE wagate LOGIN PASSWORD 'wagate' CREATEDB",
    )
    return pg


@dataclass
class RedisServer:
    """A throwaway Redis server (Debian's redis-server), nothing saved to disk."""

    workdir: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start_server(self) -> None:
        """Start it on its port (again, after `stop_server`: an outage ends)."""
        self.proc = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.workdir)),
            ],
            stdout=open(self.workdir / "redis.log", "ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        log = (self.workdir / "redis.log").read_text()
        raise RuntimeError(f"redis-server did not start: {log}")

    def stop_server(self) -> None:
        """Kill it: an outage, until `start_server`."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        try:
            self.stop_server()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)


def start_redis() -> RedisServer:
    server = RedisServer(Path(tempfile.mkdtemp(prefix="wagate-redis-")), free_port())
    server.start_server()
    return server
