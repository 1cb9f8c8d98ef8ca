"""A second gateway never shares a port; `--workers` / `WAGATE_WORKERS` refuse what they
cannot run with one line. Run as the real `wagate serve` next to a real gateway.
(Several workers serving: tests/scale/test_workers.py.)"""

from __future__ import annotations

import socket
from pathlib import Path
from unittest.mock import Mock

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.grpc.auth import AuthInterceptor
from gateway.grpc.server import start_grpc
from tests.support.procs import Gateway, free_port, start_gateway
from tests.support.refusals import one_line, refused_serve
from tests.support.tenants import simulated_channel

pytestmark = pytest.mark.integration


def grpc_serving(target: str) -> bool:
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        answer = stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
        return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)


@pytest.mark.parametrize(("what", "variable"), [("gRPC", "GRPC"), ("HTTP", "HTTP")])
def test_a_second_gateway_on_a_port_in_use_exits_naming_it(
    gateway: Gateway, tmp_path: Path, what: str, variable: str
) -> None:
    port = gateway.grpc_port if what == "gRPC" else gateway.http_port
    env = {f"WAGATE_{variable}_PORT": str(port)}
    result = refused_serve(tmp_path, env=env, config=gateway.config)
    assert result.returncode == 1
    assert one_line(result) == (
        f"wagate: cannot start: {what} port 127.0.0.1:{port}"
        " is not available (Address already in use)"
    )
    assert gateway.proc.poll() is None
    assert grpc_serving(gateway.grpc_target)  # the first one still answers


def test_a_port_whose_listener_allows_sharing_is_still_refused(tmp_path: Path) -> None:
    """grpc listens with SO_REUSEPORT by default, which lets another such socket bind too."""
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        port = other.getsockname()[1]
        result = refused_serve(tmp_path, env={"WAGATE_GRPC_PORT": str(port)})
    assert result.returncode == 1
    assert f"gRPC port 127.0.0.1:{port} is not available" in one_line(result)


async def test_the_grpc_server_binds_its_port_exclusively() -> None:
    """Even past the start-up check (two gateways starting at once), the bind itself fails."""
    port = free_port()
    servicers = {
        "messaging": Mock(),
        "sessions": Mock(),
        "events": Mock(),
        "bots": Mock(),
        "admin": Mock(),
    }
    first = await start_grpc("127.0.0.1", port, AuthInterceptor(Mock()), **servicers)
    try:
        with pytest.raises(OSError, match=f"gRPC port 127.0.0.1:{port} is not available"):
            await start_grpc("127.0.0.1", port, AuthInterceptor(Mock()), **servicers)
    finally:
        await first.stop(None)


PG = {"WAGATE_DATABASE_URL": "postgres://w:w@127.0.0.1:1/w"}  # never reached: refused first
REDIS = {"WAGATE_REDIS_URL": "redis://127.0.0.1:1/0"}
SQLITE_REASON = (
    "wagate: config error: --workers 2 needs PostgreSQL: SQLite takes one writer at a time"
)


@pytest.mark.parametrize(
    ("args", "env", "config", "reason"),
    [
        (["--workers", "2"], REDIS, None, SQLITE_REASON),
        (["--workers", "2"], {"WAGATE_WORKERS": "1", **REDIS}, None, SQLITE_REASON),
        (
            [],
            {"WAGATE_WORKERS": "3", **PG},
            None,
            "wagate: config error: --workers 3 needs WAGATE_REDIS_URL:"
            " workers share live events on Redis",
        ),
        (
            ["--workers", "2"],
            {**PG, **REDIS},
            {"tenants": [{"id": "acme", "api_keys": ["k"], "channels": [simulated_channel()]}]},
            "wagate: config error: --workers 2 cannot run the demo or simulated channels:"
            " their fake providers live in one process",
        ),
        (["--workers", "0"], {}, None, "wagate: config error: --workers must be at least 1, got 0"),
    ],
)
def test_unsupported_workers_exit_2_with_one_line(
    tmp_path: Path,
    args: list[str],
    env: dict[str, str],
    config: dict[str, object] | None,
    reason: str,
) -> None:
    result = refused_serve(tmp_path, *args, env=env, config=config)
    assert result.returncode == 2
    assert one_line(result) == reason
    assert not (tmp_path / "second.sqlite3").exists()  # refused before opening anything


def test_one_worker_serves(tmp_path: Path) -> None:
    gw = start_gateway(None, env={"WAGATE_WORKERS": "1"}, workdir=tmp_path)
    try:
        assert grpc_serving(gw.grpc_target)
    finally:
        assert gw.stop() == 0
