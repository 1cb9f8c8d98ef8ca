"""A second gateway never shares a port; `--workers` / `WAGATE_WORKERS` refuse what does
not work yet with one line. Run as the real `wagate serve` next to a real gateway."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from unittest.mock import Mock

import grpc
import pytest
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.grpc.auth import AuthInterceptor
from gateway.grpc.server import start_grpc
from tests.support.procs import WAGATE, Gateway, free_port, start_gateway

pytestmark = pytest.mark.integration


def serve(
    cwd: Path, *args: str, env: dict[str, str], config: dict[str, object] | None = None
) -> subprocess.CompletedProcess[str]:
    """`wagate serve` that is expected to refuse to start: its exit status and stderr."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WAGATE_")}
    base = {
        "WAGATE_HTTP_PORT": str(free_port()),
        "WAGATE_GRPC_PORT": str(free_port()),
        "WAGATE_DATABASE_URL": f"sqlite://{cwd}/second.sqlite3",
    }
    argv = [str(WAGATE), "serve", *args]
    if config is not None:
        path = cwd / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        argv += ["--config", str(path)]
    return subprocess.run(
        argv, cwd=cwd, env={**clean, **base, **env}, capture_output=True, text=True, timeout=60
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


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
    result = serve(tmp_path, env={f"WAGATE_{variable}_PORT": str(port)}, config=gateway.config)
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
        result = serve(tmp_path, env={"WAGATE_GRPC_PORT": str(port)})
    assert result.returncode == 1
    assert f"gRPC port 127.0.0.1:{port} is not available" in one_line(result)


async def test_the_grpc_server_binds_its_port_exclusively() -> None:
    """Even past the start-up check (two gateways starting at once), the bind itself fails."""
    port = free_port()
    servicers = {"messaging": Mock(), "sessions": Mock(), "events": Mock(), "bots": Mock()}
    first = await start_grpc("127.0.0.1", port, AuthInterceptor(Mock()), **servicers)
    try:
        with pytest.raises(OSError, match=f"gRPC port 127.0.0.1:{port} is not available"):
            await start_grpc("127.0.0.1", port, AuthInterceptor(Mock()), **servicers)
    finally:
        await first.stop(None)


@pytest.mark.parametrize(
    ("args", "env", "reason"),
    [
        (
            ["--workers", "2"],
            {},
            "wagate: config error: --workers 2 needs PostgreSQL: SQLite takes one writer at a time",
        ),
        (
            [],
            {"WAGATE_WORKERS": "3", "WAGATE_DATABASE_URL": "postgres://w:w@127.0.0.1:1/w"},
            "wagate: config error: --workers 3 is not supported yet: run 3 replicas on ports"
            " of their own with WAGATE_REDIS_URL (see docs/scale-out.md)",
        ),
        (["--workers", "0"], {}, "wagate: config error: --workers must be at least 1, got 0"),
        (
            ["--workers", "2"],
            {"WAGATE_WORKERS": "1"},
            "wagate: config error: --workers 2 needs PostgreSQL: SQLite takes one writer at a time",
        ),
    ],
)
def test_unsupported_workers_exit_2_with_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], reason: str
) -> None:
    result = serve(tmp_path, *args, env=env)
    assert result.returncode == 2
    assert one_line(result) == reason
    assert not (tmp_path / "second.sqlite3").exists()  # refused before opening anything


def test_one_worker_serves(tmp_path: Path) -> None:
    gw = start_gateway(None, env={"WAGATE_WORKERS": "1"}, workdir=tmp_path)
    try:
        assert grpc_serving(gw.grpc_target)
    finally:
        assert gw.stop() == 0
