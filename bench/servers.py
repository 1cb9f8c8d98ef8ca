"""Child processes for the benchmarks: start, wait for readiness, stop; ports; RSS and CPU.

Everything binds to 127.0.0.1. Every process started here is registered in a
`ProcessGroup`, whose `close()` (called from a `finally`) terminates whatever is
still running.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import yaml

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
_CLK_TCK = os.sysconf("SC_CLK_TCK")

# Channel and tenant used by every benchmark (CONTRACT.md config).
TENANT_ID = "bench"
API_KEY = "bench-key"
CHANNEL_ID = "bench-meta"
PHONE_NUMBER_ID = "109876543210001"
APP_SECRET = "bench-secret"
VERIFY_TOKEN = "bench-verify"
ACCESS_TOKEN = "bench-token"
KAPSO_CHANNEL_ID = "bench-kapso"
KAPSO_SECRET = "bench-kapso-secret"
QR_SESSION_ID = "bench-session"
QR_SECRET = "bench-qr-secret"


class BenchError(RuntimeError):
    """A benchmark could not run (a server did not start, a tool is missing...)."""


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (the OS picks; small race accepted)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# -- /proc readings ------------------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # Field 4 (ppid) comes after the parenthesised command name.
        rest = stat[stat.rfind(b")") + 2 :].split()
        children.setdefault(int(rest[1]), []).append(int(entry))
    return children


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    children = _children_map()
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def rss_kib(pid: int) -> int:
    """VmRSS of one process in KiB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kib(pid: int) -> int:
    """Summed VmRSS of `pid` and its descendants, in KiB."""
    return sum(rss_kib(p) for p in process_tree(pid))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` and its descendants (live ones), in seconds."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(b")") + 2 :].split()
        total += int(rest[11]) + int(rest[12])  # utime, stime (fields 14, 15)
    return total / _CLK_TCK


class RssSampler:
    """Samples the process tree's VmRSS every `interval` seconds in a thread; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, tree_rss_kib(self.pid))
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()


# -- processes ---------------------------------------------------------------------------


@dataclass
class Server:
    """A child process with its stderr captured to a file."""

    name: str
    proc: subprocess.Popen[bytes]
    stderr_path: Path
    port: int = 0
    extra: dict[str, int] = field(default_factory=dict)
    # Filled in by `stop()`.
    exit_code: int | None = None
    stop_seconds: float = 0.0
    killed: bool = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def stderr_tail(self, lines: int = 20) -> str:
        return "\n".join(self.stderr_text().splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, wait up to `timeout` s, then SIGKILL. Records exit code and duration."""
        if self.exit_code is not None:
            return
        start = time.monotonic()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                self.proc.wait(5)
        self.stop_seconds = time.monotonic() - start
        self.exit_code = self.proc.returncode


class ProcessGroup:
    """Owns the temporary directory and every child process of a benchmark run."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="wagate-bench-")
        self.tmpdir = Path(self._tmp.name)
        self.servers: list[Server] = []

    def spawn(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        unset: tuple[str, ...] = (),
        port: int = 0,
        capture_stdout: bool = False,
    ) -> Server:
        """Start `argv`; stderr (and stdout unless captured) go to `<tmpdir>/<name>.log`."""
        stderr_path = self.tmpdir / f"{name}.log"
        full_env = {k: v for k, v in os.environ.items() if k not in unset}
        full_env.update(env or {})
        with open(stderr_path, "wb") as err:
            proc = subprocess.Popen(
                argv,
                cwd=REPO,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if capture_stdout else err,
                stderr=err,
                start_new_session=True,
            )
        server = Server(name, proc, stderr_path, port)
        self.servers.append(server)
        return server

    def close(self) -> None:
        for server in reversed(self.servers):
            server.stop(timeout=10.0)
            if server.proc.stdout is not None:
                server.proc.stdout.close()
        self._tmp.cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def http_get_status(url: str, timeout: float = 2.0) -> int:
    """Status code of a GET (0 when the connection fails)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            status: int = resp.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, urllib.error.URLError):
        return 0


def wait_http(server: Server, path: str, timeout: float = 30.0, method: str = "GET") -> None:
    """Wait until `path` answers 200; BenchError if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    url = server.url + path
    last = 0
    while time.monotonic() < deadline:
        if not server.alive():
            raise BenchError(
                f"{server.name} exited with code {server.proc.returncode} before it was "
                f"ready; stderr tail:\n{server.stderr_tail()}"
            )
        if method == "GET":
            last = http_get_status(url)
        else:
            request = urllib.request.Request(url, data=b"{}", method=method)
            try:
                with urllib.request.urlopen(request, timeout=2.0) as resp:
                    last = resp.status
            except urllib.error.HTTPError as exc:
                last = exc.code
            except (OSError, urllib.error.URLError):
                last = 0
        if last == 200:
            return
        time.sleep(0.1)
    raise BenchError(
        f"{server.name}: {method} {path} did not answer 200 within {timeout:.0f} s "
        f"(last status {last}); stderr tail:\n{server.stderr_tail()}"
    )


def _read_ready_line(server: Server, timeout: float) -> str:
    """Read the child's first stdout line ("READY <port>") with a deadline."""
    stdout: IO[bytes] | None = server.proc.stdout
    if stdout is None:
        raise BenchError(f"{server.name}: no stdout pipe")
    result: list[bytes] = []
    reader = threading.Thread(target=lambda: result.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not result or not result[0]:
        raise BenchError(
            f"{server.name} did not report readiness within {timeout:.0f} s; "
            f"stderr tail:\n{server.stderr_tail()}"
        )
    return result[0].decode().strip()


def start_bare_sanic(group: ProcessGroup, workers: int = 1, cpus: str | None = None) -> Server:
    port = free_port()
    argv = [PYTHON, "-m", "bench.bare_sanic", "--port", str(port), "--workers", str(workers)]
    name = "bare-sanic" if workers == 1 else f"bare-sanic-{workers}w"
    server = group.spawn(name, [*taskset(cpus), *argv], port=port)
    wait_http(server, "/", method="POST")
    return server


def start_fake_graph(group: ProcessGroup, cpus: str | None = None) -> Server:
    server = group.spawn(
        "fake-graph",
        [*taskset(cpus), PYTHON, "-m", "bench.fake_graph", "--port", "0"],
        capture_stdout=True,
    )
    line = _read_ready_line(server, 30.0)
    if not line.startswith("READY "):
        raise BenchError(f"fake-graph: unexpected first line {line!r}")
    server.port = int(line.split()[1])
    return server


def write_gateway_config(path: Path, graph_base_url: str) -> None:
    config = {
        "tenants": [
            {
                "id": TENANT_ID,
                "api_keys": [API_KEY],
                "channels": [
                    {
                        "id": CHANNEL_ID,
                        "provider": "meta_cloud",
                        "phone_number_id": PHONE_NUMBER_ID,
                        "app_secret": APP_SECRET,
                        "verify_token": VERIFY_TOKEN,
                        "access_token": ACCESS_TOKEN,
                        "api_base_url": graph_base_url,
                        "rate_limit": 1000000,
                    },
                    {
                        "id": KAPSO_CHANNEL_ID,
                        "provider": "kapso",
                        "phone_number_id": PHONE_NUMBER_ID,
                        "webhook_secret": KAPSO_SECRET,
                        "api_key": ACCESS_TOKEN,
                        "api_base_url": graph_base_url,
                    },
                    {
                        "id": "bench-qr",
                        "provider": "qr_session",
                        "session_id": QR_SESSION_ID,
                        "webhook_secret": QR_SECRET,
                        "engine_base_url": graph_base_url,
                    },
                ],
            }
        ]
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def wagate_executable() -> str:
    candidate = Path(PYTHON).parent / "wagate"
    if candidate.exists():
        return str(candidate)
    return str(REPO / ".venv" / "bin" / "wagate")


@dataclass(frozen=True)
class Deployment:
    """Where a gateway keeps its state and how many processes it runs (bench/scale.py).

    The default is the single-process SQLite gateway of `python -m bench`.
    """

    database_url: str | None = None  # None: a fresh SQLite file in the gateway's directory
    redis_url: str | None = None
    workers: int = 1
    cpus: str | None = None  # `taskset -c` list the gateway's processes are pinned to
    config_path: Path | None = None  # None: the bench tenant (`write_gateway_config`)


# Every replica of one deployment signs realtime tokens with the same secret.
REALTIME_SECRET = "bench-realtime-secret"


def ensure_tool(name: str, package: str, home: str, elsewhere: str) -> str:
    """Path of a load tool, installing its Debian package on demand (as root, like CI);
    BenchError naming how to install it if that is impossible."""
    found = shutil.which(name)
    if found:
        return found
    print(f"{name} not found; trying `apt-get install -y {package}` ...", flush=True)
    install = ["apt-get", "install", "-y", "-q", package]
    for argvs in ([install], [["apt-get", "update", "-q"], install]):
        for argv in argvs:
            try:
                subprocess.run(argv, check=False, capture_output=True, timeout=300)
            except (OSError, subprocess.TimeoutExpired):
                break
        found = shutil.which(name)
        if found:
            return found
    raise BenchError(
        f"this benchmark needs {name} ({home}) and installing it with apt-get failed: "
        f"install it yourself (`sudo apt-get install {package}` on Debian/Ubuntu, "
        f"{elsewhere}) and re-run"
    )


def taskset_exe() -> str:
    found = shutil.which("taskset")
    if found is None:
        raise BenchError("pinning to cores needs taskset (util-linux)")
    return found


def taskset(cpus: str | None) -> list[str]:
    """The `taskset -c CPUS` prefix pinning a command (nothing when `cpus` is None)."""
    return [] if cpus is None else [taskset_exe(), "-c", cpus]


def start_gateway(
    group: ProcessGroup,
    name: str,
    graph_base_url: str,
    source: Path | None = None,
    deployment: Deployment = Deployment(),
) -> Server:
    """`wagate serve` with a fresh database; returns once `GET /readyz` is 200.

    `source`: another checkout of this repository to run instead of the installed
    package (bench/compare.py); its modules are imported ahead of the installed ones.
    """
    workdir = group.tmpdir / name
    workdir.mkdir()
    config_path = deployment.config_path or workdir / "wagate.yaml"
    if deployment.config_path is None:
        write_gateway_config(config_path, graph_base_url)
    http_port, grpc_port = free_port(), free_port()
    while grpc_port == http_port:
        grpc_port = free_port()
    env = {
        "WAGATE_HTTP_HOST": HOST,
        "WAGATE_HTTP_PORT": str(http_port),
        "WAGATE_GRPC_PORT": str(grpc_port),
        "WAGATE_DATABASE_URL": deployment.database_url or f"sqlite://{workdir}/bench.sqlite3",
        "WAGATE_LOG_LEVEL": "warning",
        "WAGATE_REALTIME_SECRET": REALTIME_SECRET,
    }
    # Unset what could point the gateway elsewhere (embedded bus, this config only).
    unset: tuple[str, ...] = ("WAGATE_CONFIG", "WAGATE_REDIS_URL", "WAGATE_WORKERS")
    if deployment.redis_url:
        env["WAGATE_REDIS_URL"] = deployment.redis_url
        unset = ("WAGATE_CONFIG", "WAGATE_WORKERS")
    argv = [wagate_executable(), "serve", "--config", str(config_path)]
    if deployment.workers != 1:
        argv += ["--workers", str(deployment.workers)]
    if source is not None:
        env["PYTHONPATH"] = f"{source}{os.pathsep}{source / 'proto'}"
        run = "import sys; from gateway.cli import main; sys.exit(main(sys.argv[1:]))"
        # -P: `python -c` would put the working directory (this checkout) ahead of
        # PYTHONPATH, and the gateway measured would be this one, not `source`.
        argv = [PYTHON, "-P", "-c", run, *argv[1:]]
    argv = taskset(deployment.cpus) + argv
    server = group.spawn(name, argv, env=env, unset=unset, port=http_port)
    server.extra["grpc_port"] = grpc_port
    wait_http(server, "/readyz", timeout=60.0)
    return server


def wait_drained(db_path: Path, timeout: float = 120.0) -> float | None:
    """Seconds until the inbox has no pending row (the after-ack backlog is applied)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
                (pending,) = conn.execute(
                    "SELECT COUNT(*) FROM webhook_inbox WHERE state IN ('pending', 'raw')"
                ).fetchone()
        except sqlite3.Error:
            pending = 1
        if not pending:
            return time.monotonic() - start
        time.sleep(0.05)
    return None
