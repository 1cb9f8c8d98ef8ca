"""`python -m bench.compare REV [--kind unique|dedup|stored|send] [--reps 4] [--duration 6]`

Did a change make the gateway faster? On a shared 2-core VM one run moves by ±20 %,
so a single before/after pair proves little. This runs the gateway at git revision
REV (A, from a temporary worktree) and the working tree (B) alternately, A B B A
A B ..., each on a fresh database against the same fake Graph API, and prints every
run and the medians.

Kinds:
- `unique`: signed Meta webhooks, every body distinct: acknowledged req/s.
- `dedup`: one body, resent: acknowledged req/s (the redelivery path).
- `stored`: as `unique`, then waits until the backlog is applied: webhooks stored
  per second end to end, and gateway CPU microseconds per stored webhook.
- `send`: gRPC SendMessage, 64 in flight: sends per second.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import uuid
from pathlib import Path

from bench import send as send_mod
from bench.ingest import IngestLoad, ensure_wrk
from bench.report import num, table
from bench.servers import (
    REPO,
    ProcessGroup,
    Server,
    cpu_seconds,
    start_fake_graph,
    start_gateway,
    wait_drained,
)

KINDS = ("unique", "dedup", "stored", "send")


def _ingest(group: ProcessGroup, gateway: Server, kind: str, duration: float) -> dict[str, float]:
    load = IngestLoad(ensure_wrk(), group.tmpdir / f"load-{gateway.name}", "/webhooks/meta")
    run_id = uuid.uuid4().hex[:10]
    # The warm-up has bodies of its own: wrk starts a script's bodies from the top on
    # every run, so a shared script would resend the warm-up's bodies as duplicates.
    load.run("warm-up", gateway.port, load.prepare(f"{run_id}w", 20_000), 1.0)
    db_path = group.tmpdir / gateway.name / "bench.sqlite3"
    if wait_drained(db_path) is None:  # measure from an empty backlog
        raise RuntimeError(f"{gateway.name}: the warm-up's backlog was not applied in 120 s")
    script = load.prepare(run_id, 1 if kind == "dedup" else 200_000)
    cpu0 = cpu_seconds(gateway.pid)
    result = load.run(gateway.name, gateway.port, script, duration)
    out = {"req/s": result.rps, "p99 ms": result.p99_ms, "non-2xx": float(result.non2xx)}
    if kind == "stored":
        drain = wait_drained(db_path)
        if drain is None:
            raise RuntimeError(f"{gateway.name}: the backlog was not applied within 120 s")
        out["stored/s"] = result.requests / (result.duration_s + drain)
        out["CPU us/stored"] = (cpu_seconds(gateway.pid) - cpu0) / result.requests * 1e6
    return out


def _send(gateway: Server, duration: float) -> dict[str, float]:
    procs, _ = send_mod.start_workers(
        gateway.extra["grpc_port"], clients=1, concurrency=64, warmup=1.0, duration=duration
    )
    result = send_mod.collect_workers(procs, concurrency=64, duration=duration, timeout=60.0)
    bad = sum(result.errors.values()) + sum(
        n for status, n in result.statuses.items() if status != "SENT"
    )
    return {"sends/s": result.calls / result.window_s, "p99 ms": result.p99_ms, "not SENT": bad}


def compare(rev: str, kind: str, reps: int, duration: float) -> str:
    with tempfile.TemporaryDirectory(prefix="wagate-compare-") as tmp:
        tree = Path(tmp) / "rev"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), rev],
            check=True,
            capture_output=True,
        )
        try:
            runs = _interleaved(tree, kind, reps, duration)
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                check=False,
                capture_output=True,
            )
    return _report(rev, kind, runs)


def _interleaved(
    tree: Path, kind: str, reps: int, duration: float
) -> dict[str, list[dict[str, float]]]:
    sources: dict[str, Path | None] = {"A": tree, "B": None}
    runs: dict[str, list[dict[str, float]]] = {"A": [], "B": []}
    with ProcessGroup() as group:
        graph = start_fake_graph(group)
        for rep in range(reps):
            for name in ("A", "B") if rep % 2 == 0 else ("B", "A"):
                gateway = start_gateway(
                    group, f"{name}-{rep}", f"{graph.url}/v23.0", source=sources[name]
                )
                try:
                    if kind == "send":
                        runs[name].append(_send(gateway, duration))
                    else:
                        runs[name].append(_ingest(group, gateway, kind, duration))
                finally:
                    gateway.stop()
                print(f"  {name} run {rep + 1}: {_cells(runs[name][-1])}", flush=True)
    return runs


def _cells(values: dict[str, float]) -> str:
    return ", ".join(
        f"{key} {num(value, 1 if value < 100 else 0)}" for key, value in values.items()
    )


def _report(rev: str, kind: str, runs: dict[str, list[dict[str, float]]]) -> str:
    metrics = list(runs["A"][0])
    rows = []
    for metric in metrics:
        a = statistics.median(r[metric] for r in runs["A"])
        b = statistics.median(r[metric] for r in runs["B"])
        change = f"{100 * (b - a) / a:+.0f} %" if a else "-"
        spread = [num(r[metric], 1 if r[metric] < 100 else 0) for r in runs["A"] + runs["B"]]
        rows.append(
            [
                metric,
                num(a, 1 if a < 100 else 0),
                num(b, 1 if b < 100 else 0),
                change,
                " ".join(spread),
            ]
        )
    headers = [
        "metric",
        f"A = {rev} (median)",
        "B = working tree (median)",
        "B vs A",
        "runs (A…, B…)",
    ]
    return f"## {kind}: {len(runs['A'])} runs each, interleaved\n\n" + table(headers, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rev", help="git revision to compare the working tree against")
    parser.add_argument("--kind", choices=KINDS, default="unique")
    parser.add_argument("--reps", type=int, default=4, help="runs of each side (default 4)")
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per run")
    args = parser.parse_args()
    print(compare(args.rev, args.kind, args.reps, args.duration))


if __name__ == "__main__":
    main()
