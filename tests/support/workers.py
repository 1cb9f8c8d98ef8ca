"""Look inside a running `wagate serve --workers N` from a test: its worker processes, and
which of them holds each connection to a port (Linux /proc, see proc(5))."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tests.support.polling import eventually
from tests.support.procs import Gateway

PROC = Path("/proc")


def worker_pids(gw: Gateway) -> set[int]:
    """The supervisor's children that serve (not multiprocessing's resource tracker)."""
    pids = set()
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == gw.proc.pid and b"spawn_main" in cmdline:
            pids.add(int(entry.name))
    return pids


def _established_inodes(port: int) -> set[int]:
    """Inodes of the accepted sockets of connections to `port` (local side == port)."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        lines = (PROC / "net" / table).read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
                inodes.add(int(fields[9]))
    return inodes


def connection_owners(port: int, pids: set[int]) -> Counter[int]:
    """How many accepted connections to `port` each of `pids` holds open now."""
    wanted = {f"socket:[{inode}]" for inode in _established_inodes(port)}
    owners: Counter[int] = Counter()
    for pid in pids:
        for fd in (PROC / str(pid) / "fd").iterdir():
            try:
                if str(fd.readlink()) in wanted:
                    owners[pid] += 1
            except OSError:
                continue
    return owners


def log_entries(gw: Gateway) -> list[dict[str, object]]:
    """The gateway's JSON log lines (its whole group's: the workers share its stderr)."""
    entries = []
    for line in gw.logs().splitlines():
        if line.startswith("{"):
            entries.append(json.loads(line))
    return entries


def times_all_started(gw: Gateway) -> int:
    """How often the supervisor said every worker serves (again after a replacement)."""
    return sum(e["msg"] == "wagate workers started" for e in log_entries(gw))


async def all_workers_started(gw: Gateway, count: int, times: int = 1) -> set[int]:
    """Wait until each of `count` workers serves (for the `times`th time); their pids."""
    await eventually(
        lambda: times_all_started(gw) >= times, within=60, what=f"{count} workers started"
    )
    pids = worker_pids(gw)
    assert len(pids) == count, pids
    return pids
