"""`python -m bench [--quick] [--only ingest|send|realtime]`: run the benchmarks, print the tables.

1. Ingest: wrk (32 connections, 2 threads) POSTs signed ~1 KB Meta text webhooks to
   a bare Sanic app and to the gateway's `POST /webhooks/meta` (unique wamid per
   request: the headline; and one identical body: the dedup path), then Kapso
   (`/webhooks/kapso/...`) and QR-engine (`/webhooks/qr/...`, WAHA) text webhooks.
2. Send: gRPC `SendMessage` with 64 calls in flight; the gateway sends to a
   FakeGraphAPI in its own process.
3. Memory: the gateway's RSS when idle and its peak under load (VmRSS every 100 ms).
4. Realtime (bench/realtime.py): webhook → Socket.IO latency at 200 webhooks/s, fan-out of
   one event to 500 clients, gateway memory per connected client.

All servers bind to 127.0.0.1, every run is time-bounded and every child process is
stopped on exit.
"""

from __future__ import annotations

import argparse
import faulthandler
import shutil
import signal
import sqlite3
import sys
import time
import uuid
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from bench import realtime as realtime_mod
from bench import send as send_mod
from bench.ingest import KINDS, THREADS, IngestLoad, WrkResult, bodies_needed, ensure_wrk
from bench.report import log_problems, machine_facts, mib, ms, num, save_json, table
from bench.servers import (
    REPO,
    BenchError,
    ProcessGroup,
    RssSampler,
    Server,
    cpu_seconds,
    start_bare_sanic,
    start_fake_graph,
    start_gateway,
    tree_rss_kib,
    wait_drained,
)

# The targets the tables are judged against (bench/README.md, "Against the targets").
INGEST_TARGET = 0.50  # gateway req/s >= 50 % of bare Sanic
SEND_TARGET = 2000.0  # SendMessage/s
RESULTS = REPO / "bench" / "results" / "latest.json"


@dataclass
class Options:
    quick: bool
    only: str | None
    duration: float
    warmup: float
    clients: int
    concurrency: int


@dataclass
class GatewayRun:
    """What we saw of one `wagate serve` process."""

    name: str
    idle_rss_kib: int = 0
    peak_rss_kib: int = 0
    cpu_pct: float = 0.0
    exit_code: int | None = None
    stop_seconds: float = 0.0
    killed: bool = False
    log_levels: dict[str, int] = field(default_factory=dict)
    log_samples: list[str] = field(default_factory=list)
    db: dict[str, Any] = field(default_factory=dict)


@dataclass
class IngestReport:
    bare: WrkResult | None = None
    bare_cpu_pct: float = 0.0
    bare_rss_kib: int = 0
    unique: WrkResult | None = None
    duplicate: WrkResult | None = None
    kapso: WrkResult | None = None
    qr: WrkResult | None = None
    body_size: int = 0
    # After the unique-body run: how long until every acknowledged webhook was stored.
    drain_s: float | None = None
    gateway: GatewayRun | None = None
    error: str = ""


@dataclass
class SendReport:
    result: send_mod.SendResult | None = None
    gateway: GatewayRun | None = None
    fake_cpu_pct: float = 0.0
    error: str = ""


# -- helpers ----------------------------------------------------------------------------------


def _sleep_until(t: float) -> None:
    delay = t - time.time()
    if delay > 0:
        time.sleep(delay)


def _db_summary(db_path: Path) -> dict[str, Any]:
    """Row counts the gateway left in its SQLite file (read after it stopped)."""
    if not db_path.exists():
        return {"error": f"{db_path.name} not found"}
    out: dict[str, Any] = {}
    try:
        with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "webhook_inbox" in tables:
                out["webhook_inbox"] = dict(
                    conn.execute("SELECT state, COUNT(*) FROM webhook_inbox GROUP BY state")
                )
            if "message" in tables:
                out["message"] = {
                    f"direction={d} status={s}": n
                    for d, s, n in conn.execute(
                        "SELECT direction, status, COUNT(*) FROM message GROUP BY direction, status"
                    )
                }
            if "event_log" in tables:
                out["event_log"] = conn.execute("SELECT COUNT(*) FROM event_log").fetchone()[0]
    except sqlite3.Error as exc:
        out["error"] = str(exc)
    return out


def _finish_gateway(server: Server, run: GatewayRun, group: ProcessGroup) -> None:
    server.stop(timeout=20.0)
    run.exit_code = server.exit_code
    run.stop_seconds = server.stop_seconds
    run.killed = server.killed
    text = server.stderr_text()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    (RESULTS.parent / f"{server.name}.log").write_text(text)
    levels, samples = log_problems(text)
    run.log_levels = dict(levels)
    run.log_samples = samples
    run.db = _db_summary(group.tmpdir / server.name / "bench.sqlite3")


def _idle_rss(server: Server) -> int:
    time.sleep(1.0)  # let start-up settle
    return tree_rss_kib(server.pid)


# -- benchmarks -----------------------------------------------------------------------------


def bench_ingest(group: ProcessGroup, opts: Options, graph: Server, report: IngestReport) -> None:
    wrk = ensure_wrk()
    run_id = uuid.uuid4().hex[:10]

    print("ingest: bare Sanic ...", flush=True)
    bare = start_bare_sanic(group)
    load = IngestLoad(wrk, group.tmpdir / "ingest-bare", "/")
    script = load.prepare(f"{run_id}b", 20_000)
    report.body_size = load.body_size
    load.run("bare Sanic", bare.port, script, opts.warmup)
    cpu0 = cpu_seconds(bare.pid)
    report.bare = load.run("bare Sanic (POST /)", bare.port, script, opts.duration)
    report.bare_cpu_pct = 100 * (cpu_seconds(bare.pid) - cpu0) / report.bare.duration_s
    report.bare_rss_kib = tree_rss_kib(bare.pid)
    bare.stop()

    print("ingest: gateway ...", flush=True)
    gateway = start_gateway(group, "gateway-ingest", f"{graph.url}/v23.0")
    run = report.gateway = GatewayRun("gateway-ingest")
    sampler = RssSampler(gateway.pid)
    try:
        run.idle_rss_kib = _idle_rss(gateway)
        load = IngestLoad(wrk, group.tmpdir / "ingest-gateway", "/webhooks/meta")
        with sampler:
            warm = load.run(
                "warm-up", gateway.port, load.prepare(f"{run_id}w", 20_000), opts.warmup
            )
            if warm.non2xx:
                print(f"  warm-up: {warm.non2xx} non-2xx, e.g. {warm.first_bad}", flush=True)
            script = load.prepare(f"{run_id}u", bodies_needed(warm, opts.duration))
            db_path = group.tmpdir / gateway.name / "bench.sqlite3"
            wait_drained(db_path)  # every run starts from an empty backlog
            cpu0 = cpu_seconds(gateway.pid)
            report.unique = load.run("gateway, unique bodies", gateway.port, script, opts.duration)
            run.cpu_pct = 100 * (cpu_seconds(gateway.pid) - cpu0) / report.unique.duration_s
            report.drain_s = wait_drained(db_path)
            print("ingest: gateway, identical body ...", flush=True)
            script = load.prepare(f"{run_id}d", 1)
            report.duplicate = load.run(
                "gateway, identical body (dedup)", gateway.port, script, opts.duration
            )
            for kind in ("kapso", "qr"):
                print(f"ingest: gateway, {kind} webhooks ...", flush=True)
                spec = KINDS[kind]
                load = IngestLoad(wrk, group.tmpdir / f"ingest-{kind}", spec.url_path, kind)
                script = load.prepare(
                    f"{run_id}{kind}", bodies_needed(report.unique, opts.duration)
                )
                result = load.run(
                    f"gateway, {kind} unique bodies", gateway.port, script, opts.duration
                )
                setattr(report, kind, result)
                wait_drained(db_path)
    finally:
        run.peak_rss_kib = sampler.peak_kib
        _finish_gateway(gateway, run, group)


def bench_send(group: ProcessGroup, opts: Options, graph: Server, report: SendReport) -> None:
    print("send: gateway + gRPC clients ...", flush=True)
    gateway = start_gateway(group, "gateway-send", f"{graph.url}/v23.0")
    run = report.gateway = GatewayRun("gateway-send")
    procs: list[Any] = []
    sampler = RssSampler(gateway.pid)
    try:
        run.idle_rss_kib = _idle_rss(gateway)
        with sampler:
            procs, start_at = send_mod.start_workers(
                gateway.extra["grpc_port"],
                clients=opts.clients,
                concurrency=opts.concurrency,
                warmup=opts.warmup,
                duration=opts.duration,
            )
            _sleep_until(start_at + opts.warmup)
            gw0, fake0, t0 = cpu_seconds(gateway.pid), cpu_seconds(graph.pid), time.monotonic()
            _sleep_until(start_at + opts.warmup + opts.duration)
            elapsed = time.monotonic() - t0
            run.cpu_pct = 100 * (cpu_seconds(gateway.pid) - gw0) / elapsed
            report.fake_cpu_pct = 100 * (cpu_seconds(graph.pid) - fake0) / elapsed
            report.result = send_mod.collect_workers(
                procs,
                concurrency=opts.concurrency,
                duration=opts.duration,
                timeout=opts.warmup + opts.duration + 90,
            )
    finally:
        run.peak_rss_kib = sampler.peak_kib
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        _finish_gateway(gateway, run, group)


def bench_realtime(
    group: ProcessGroup, opts: Options, graph: Server, result: realtime_mod.RealtimeResult
) -> bool:
    print("realtime: gateway + Socket.IO clients ...", flush=True)
    try:
        gateway = start_gateway(group, "gateway-realtime", f"{graph.url}/v23.0")
    except BenchError as exc:
        result.error = str(exc)
        return False
    try:
        realtime_mod.run_realtime(gateway, opts.quick, result)
    except Exception as exc:  # a benchmark reports its failure, it does not hide the others
        result.error = f"{type(exc).__name__}: {exc}"
        print(f"realtime benchmark failed: {result.error}", file=sys.stderr, flush=True)
    finally:
        _finish_gateway(gateway, GatewayRun("gateway-realtime"), group)
    return not result.error


# -- output -----------------------------------------------------------------------------------


def _ratio(report: IngestReport) -> float | None:
    if report.bare and report.unique and report.bare.rps > 0:
        return report.unique.rps / report.bare.rps
    return None


def _wrk_row(result: WrkResult, bare: WrkResult | None) -> list[str]:
    ratio = f"{100 * result.rps / bare.rps:.0f} %" if bare and bare.rps else "-"
    notes = []
    if result.bodies == 1:
        notes.append("the same body every request")
    elif result.wraps:
        notes.append(f"{result.bodies:,} distinct bodies, each sent ~{result.wraps + 1}x")
    else:
        notes.append("every body distinct")
    if result.codes:
        notes.append("codes " + ", ".join(f"{k}: {v}" for k, v in sorted(result.codes.items())))
    if result.socket_errors:
        notes.append(", ".join(f"{k} {v}" for k, v in result.socket_errors.items()))
    return [
        result.target,
        num(result.rps),
        ms(result.p50_ms),
        ms(result.p99_ms),
        ratio,
        num(result.non2xx),
        "; ".join(notes),
    ]


def print_ingest(report: IngestReport, opts: Options) -> None:
    print(
        f"\n## Webhook ingest: signed {report.body_size} B Meta text webhooks, wrk "
        f"{THREADS} threads x 32 connections, {opts.duration:.0f} s "
        f"after {opts.warmup:.0f} s warm-up\n"
    )
    if report.error:
        print(f"FAILED: {report.error}\n")
    rows = [
        _wrk_row(r, report.bare)
        for r in (report.bare, report.unique, report.duplicate, report.kapso, report.qr)
        if r is not None
    ]
    if rows:
        headers = ["target", "req/s", "p50 ms", "p99 ms", "vs bare", "non-2xx", "notes"]
        print(table(headers, rows))
    for r in (report.unique, report.duplicate, report.kapso, report.qr):
        if r and r.first_bad:
            print(f"\nfirst non-2xx from {r.target}: {r.first_bad}")
    if report.bare:
        print(f"\nbare Sanic CPU {report.bare_cpu_pct:.0f} %, RSS {mib(report.bare_rss_kib)}")
    u = report.unique
    if u and report.drain_s is not None:
        total = u.duration_s + report.drain_s
        print(
            f"after-ack backlog of the unique-body run applied {report.drain_s:.1f} s after the "
            f"load stopped: {num(u.ok / total)} webhooks/s stored end to end "
            f"({100 * u.ok / total / report.bare.rps:.0f} % of bare Sanic)"
            if report.bare and report.bare.rps
            else ""
        )
    _print_gateway(report.gateway)


def print_send(report: SendReport, opts: Options) -> None:
    print(
        f"\n## gRPC SendMessage: {opts.concurrency} calls in flight "
        f"({opts.clients} client process{'es' if opts.clients > 1 else ''}), text to "
        f"FakeGraphAPI, {opts.duration:.0f} s after {opts.warmup:.0f} s warm-up\n"
    )
    if report.error:
        print(f"FAILED: {report.error}\n")
    r = report.result
    if r is not None:
        other = {k: v for k, v in r.statuses.items() if k != "SENT"}
        rows = [
            [
                num(r.rate),
                ms(r.p50_ms),
                ms(r.p99_ms),
                num(r.sent),
                ", ".join(f"{k} {v:,}" for k, v in sorted(other.items())) or "0",
                ", ".join(f"{k} {v:,}" for k, v in sorted(r.errors.items())) or "0",
                f"{r.client_cpu_pct:.0f} %",
                f"{report.fake_cpu_pct:.0f} %",
            ]
        ]
        headers = [
            "sends/s",
            "p50 ms",
            "p99 ms",
            "SENT",
            "other status",
            "gRPC errors",
            "client CPU",
            "fake CPU",
        ]
        print(table(headers, rows))
        print(f"\nprobe call(s) before the load: {', '.join(r.probes)}")
        if r.first_error:
            print(f"first gRPC error: {r.first_error}")
    _print_gateway(report.gateway)


def _print_gateway(run: GatewayRun | None) -> None:
    if run is None:
        return
    stop = f"exit code {run.exit_code} {run.stop_seconds:.1f} s after SIGTERM"
    if run.killed:
        stop = f"did NOT stop within 20 s of SIGTERM (killed, code {run.exit_code})"
    print(
        f"\n{run.name}: RSS idle {mib(run.idle_rss_kib)}, peak {mib(run.peak_rss_kib)}; "
        f"CPU {run.cpu_pct:.0f} % of one core in the measured window; {stop}"
    )
    if run.db:
        print(f"  database after stop: {run.db}")
    if run.log_levels:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run.log_levels.items()))
        print(f"  stderr: {counts}; e.g.:")
        for sample in run.log_samples:
            print(f"    {sample}")


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("PASS" if ok else "FAIL")


def print_summary(
    facts: dict[str, str],
    ingest: IngestReport | None,
    send: SendReport | None,
    opts: Options,
    realtime: realtime_mod.RealtimeResult | None = None,
) -> None:
    rows: list[list[str]] = []
    if ingest is not None:
        ratio = _ratio(ingest)
        u, b = ingest.unique, ingest.bare
        if u and b and ratio is not None:
            rows.append(
                [
                    "Webhook ingest (unique signed 1 KB bodies, durable)",
                    f"{num(u.rps)} req/s = {100 * ratio:.0f} % of bare Sanic ({num(b.rps)})",
                    f">= {100 * INGEST_TARGET:.0f} % of bare Sanic",
                    _verdict(ratio >= INGEST_TARGET),
                ]
            )
            rows.append(["Ingest latency p50 / p99", f"{ms(u.p50_ms)} / {ms(u.p99_ms)} ms", "", ""])
            rows.append(["Ingest non-2xx answers", num(u.non2xx), "0", _verdict(u.non2xx == 0)])
        else:
            rows.append(["Webhook ingest", "did not run: " + ingest.error[:80], "", "FAIL"])
        for label, other in (("Kapso", ingest.kapso), ("QR engine (WAHA)", ingest.qr)):
            if other and b and b.rps:
                share = other.rps / b.rps
                rows.append(
                    [
                        f"{label} webhook ingest (unique signed bodies)",
                        f"{num(other.rps)} req/s = {100 * share:.0f} % of bare Sanic, "
                        f"non-2xx {other.non2xx}",
                        f">= {100 * INGEST_TARGET:.0f} % of bare Sanic",
                        _verdict(share >= INGEST_TARGET and other.non2xx == 0),
                    ]
                )
        if u and ingest.drain_s is not None:
            total = u.duration_s + ingest.drain_s
            rows.append(
                [
                    "Ingest end to end (acked and stored, incl. backlog drain)",
                    f"{num(u.ok / total)} req/s; backlog drained {ingest.drain_s:.1f} s after load",
                    "",
                    "",
                ]
            )
        d = ingest.duplicate
        if d:
            rows.append(
                [
                    "Ingest, identical body (dedup path)",
                    f"{num(d.rps)} req/s, p99 {ms(d.p99_ms)} ms, non-2xx {d.non2xx}",
                    "",
                    "",
                ]
            )
    if send is not None:
        r = send.result
        if r:
            rows.append(
                [
                    f"gRPC SendMessage ({r.concurrency} in flight, FakeGraphAPI)",
                    f"{num(r.rate)} /s",
                    f">= {num(SEND_TARGET)} /s",
                    _verdict(r.rate >= SEND_TARGET),
                ]
            )
            rows.append(["SendMessage p50 / p99", f"{ms(r.p50_ms)} / {ms(r.p99_ms)} ms", "", ""])
            errors = sum(r.errors.values())
            rows.append(
                [
                    "SendMessage answers SENT / other",
                    f"{num(r.sent)} / {num(r.not_sent)}"
                    + (f" ({errors:,} gRPC errors)" if errors else ""),
                    "all SENT",
                    _verdict(r.not_sent == 0),
                ]
            )
        else:
            rows.append(["gRPC SendMessage", "did not run: " + send.error[:80], "", "FAIL"])
    if realtime is not None:
        rows += realtime_mod.summary_rows(realtime)
    gateways = [g for g in ((ingest and ingest.gateway), (send and send.gateway)) if g]
    if gateways:
        idle = min(g.idle_rss_kib for g in gateways)
        peak = max(g.peak_rss_kib for g in gateways)
        rows.append(["Gateway RSS idle / peak under load", f"{mib(idle)} / {mib(peak)}", "", ""])
    mode = "quick smoke run, " if opts.quick else ""
    print("\n## Summary\n")
    print(table(["metric", "result", "target", ""], rows))
    print(
        f"\n{mode}{facts['nproc']} CPUs ({facts['cpu']}), {facts['kernel']}, "
        f"Python {facts['python']}, Sanic {facts['sanic']}, grpcio {facts['grpcio']}, "
        f"uvloop {facts['uvloop']}, wrk {facts['wrk']}; SQLite; load generator, fake "
        f"Graph API and gateway share the machine."
    )


# -- entry --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="~3 s runs (smoke test)")
    parser.add_argument("--only", choices=["ingest", "send", "realtime"], help="run one benchmark")
    parser.add_argument("--duration", type=float, help="seconds per measured run (default 10)")
    parser.add_argument("--clients", type=int, default=1, help="SendMessage client processes")
    parser.add_argument("--concurrency", type=int, default=64, help="SendMessage calls in flight")
    args = parser.parse_args(argv)
    duration = args.duration or (3.0 if args.quick else 10.0)
    warmup = 1.0 if args.quick else 2.0
    if args.clients < 1 or args.concurrency < args.clients:
        parser.error("need 1 <= --clients <= --concurrency")
    return Options(args.quick, args.only, duration, warmup, args.clients, args.concurrency)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1`: dump stacks
    wrk: str | None = None
    ingest = IngestReport() if opts.only in (None, "ingest") else None
    send = SendReport() if opts.only in (None, "send") else None
    realtime = realtime_mod.RealtimeResult() if opts.only in (None, "realtime") else None
    failed = False
    with ProcessGroup() as group:
        try:
            graph = start_fake_graph(group)
        except BenchError as exc:
            print(f"cannot start the fake Graph API: {exc}", file=sys.stderr)
            return 1
        if ingest is not None:
            try:
                wrk = ensure_wrk()
                bench_ingest(group, opts, graph, ingest)
            except BenchError as exc:
                ingest.error = str(exc)
                failed = True
                print(f"ingest benchmark failed: {exc}", file=sys.stderr, flush=True)
        if send is not None:
            try:
                bench_send(group, opts, graph, send)
            except BenchError as exc:
                send.error = str(exc)
                failed = True
                print(f"send benchmark failed: {exc}", file=sys.stderr, flush=True)
        if realtime is not None:
            failed = not bench_realtime(group, opts, graph, realtime) or failed
        graph.stop()
    facts = machine_facts(wrk or shutil.which("wrk"))
    print("\n## Machine\n")
    print(table(["fact", "value"], [[k, v] for k, v in facts.items()]))
    if ingest is not None:
        print_ingest(ingest, opts)
    if send is not None:
        print_send(send, opts)
    if realtime is not None:
        realtime_mod.print_realtime(realtime)
    print_summary(facts, ingest, send, opts, realtime)
    save_json(
        RESULTS,
        {
            "options": asdict(opts),
            "machine": facts,
            "ingest": asdict(ingest) if ingest else None,
            "send": asdict(send) if send else None,
            "realtime": asdict(realtime) if realtime else None,
        },
    )
    print(f"\n(raw numbers: {RESULTS.relative_to(REPO)})")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\nbench: interrupted; child processes stopped", file=sys.stderr)
        sys.exit(130)
