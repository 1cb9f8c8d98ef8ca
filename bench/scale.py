"""`python -m bench.scale [--quick] [--only ROW ...] [--duration S]`: the scale-out table.

Every row of issue 12's benchmark table, measured in one run, side by side, on one
throwaway PostgreSQL (fsync on) and one throwaway Redis (bench/stores.py), each
deployment on a fresh database:

1. `ingest`: signed Meta webhooks (wrk), acknowledged req/s with `--workers 2` against
   `--workers 1` and against a bare Sanic handler (one process); then, from the same
   runs, stored end to end (until the inbox has nothing left to apply), 2 against 1.
   wrk against a bare Sanic with 2 workers shows what the generator itself can drive.
2. `send`: gRPC `SendMessage` with `--workers 2` (and 1, for the per-core figure), from
   h2load over 8 connections (bench/h2send.py), to the fake Graph API.
3. `realtime`: webhooks to replica A at 200/s, `message:new` on a Socket.IO client of
   replica B.
4. `coordination`: one replica, then two, all pinned to the same core (`taskset`), wrk,
   PostgreSQL and Redis on the other: stored webhooks/s of 2 against 1.
5. `bots`: the menu flow, webhook → reply at the fake provider: open loop at 200
   messages/s over 100 conversations (p99), then closed loop (each of 100
   conversations waits for its reply) with 1 and 2 workers (replies/s).

Each measured window also records the CPU the gateway processes, PostgreSQL, Redis and
the load generator used, for the per-core figures in bench/README.md.
"""

from __future__ import annotations

import argparse
import faulthandler
import signal
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench import botload
from bench.extrapolate import extrapolation
from bench.h2send import H2Load, H2Result
from bench.ingest import IngestLoad, WrkResult, bodies_needed, ensure_wrk
from bench.meter import Meter, Window
from bench.realtime import cross_replica_latency
from bench.report import machine_facts, ms, num, save_json, table
from bench.servers import (
    REPO,
    BenchError,
    Deployment,
    ProcessGroup,
    Server,
    cpu_seconds,
    start_bare_sanic,
    start_fake_graph,
    start_gateway,
)
from bench.stores import (
    PENDING,
    Stores,
    count_rows,
    fdatasync_us,
    outbound_statuses,
    start_stores,
    wait_drained_pg,
)

RESULTS = REPO / "bench" / "results" / "scale.json"
ROWS = ("ingest", "send", "realtime", "coordination", "bots")
# `coordination`: the gateways get this core; wrk, PostgreSQL and Redis the other.
GATEWAY_CPU, LOAD_CPU = "1", "0"


@dataclass
class Options:
    quick: bool
    only: tuple[str, ...]
    duration: float
    warmup: float
    conversations: int
    load_procs: int
    source: Path | None = None  # another checkout's gateway instead of this one
    fsync: bool = True  # PostgreSQL's fsync


@dataclass
class Verdict:
    """One line of the final table."""

    what: str
    measured: str
    target: str
    ok: bool | None
    notes: str = ""


@dataclass
class IngestRun:
    name: str
    wrk: WrkResult | None = None
    drain_s: float | None = None
    acked: int = 0  # every 2xx answer of the run, warm-up included
    stored: int = 0  # messages in the database once the inbox was applied
    cpu: Window = field(default_factory=Window)
    # The after-ack backlog when the load stopped, and the CPU its applying took.
    backlog: int = 0
    drain_cpu: Window = field(default_factory=Window)
    stores: bool = True  # False: bare Sanic, where a resent body costs the same

    @property
    def acked_per_s(self) -> float:
        return self.wrk.rps if self.wrk else 0.0

    @property
    def stored_per_s(self) -> float:
        if self.wrk is None or self.drain_s is None:
            return 0.0
        return self.wrk.ok / (self.wrk.duration_s + self.drain_s)

    def us_per(self, cpu: float) -> float:
        return 1e6 * self.per(cpu)

    def per(self, amount: float) -> float:
        """`amount` per acknowledged webhook of the measured window."""
        return amount / self.wrk.ok if self.wrk and self.wrk.ok else 0.0

    @property
    def apply_us(self) -> float:
        """Gateway CPU per webhook applied after the load stopped (acks all done)."""
        return 1e6 * self.drain_cpu.gateway / self.backlog if self.backlog >= 500 else 0.0

    @property
    def apply_per_s(self) -> float:
        return self.backlog / self.drain_s if self.backlog >= 500 and self.drain_s else 0.0


class Scale:
    def __init__(self, group: ProcessGroup, stores: Stores, graph: Server, opts: Options):
        self.group, self.stores, self.graph, self.opts = group, stores, graph, opts
        self.verdicts: list[Verdict] = []
        self.details: dict[str, Any] = {}
        self.sections: list[str] = []
        self._names = 0
        # What the extrapolation (bench/extrapolate.py) reads.
        self.ingest: dict[int, IngestRun] = {}
        self.send: dict[int, tuple[H2Result, Window]] = {}
        self.bots: dict[tuple[str, int], tuple[botload.BotLoadResult, Window]] = {}

    def name(self, base: str) -> str:
        self._names += 1
        return f"{base}-{self._names}"

    def gateway(self, base: str, deployment: Deployment) -> Server:
        try:
            return start_gateway(
                self.group,
                self.name(base),
                f"{self.graph.url}/v23.0",
                source=self.opts.source,
                deployment=deployment,
            )
        except BenchError as exc:
            raise BenchError(f"{base}: {exc}") from exc

    def stop(self, *servers: Server) -> None:
        for server in servers:
            server.stop(timeout=20.0)
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            (RESULTS.parent / f"scale-{server.name}.log").write_text(server.stderr_text())

    def verdict(
        self, what: str, measured: str, target: str, ok: bool | None, notes: str = ""
    ) -> None:
        self.verdicts.append(Verdict(what, measured, target, ok, notes))

    # -- 1. ingest, acknowledged and stored ------------------------------------------

    def ingest_run(
        self,
        name: str,
        gateways: list[Server],
        database_url: str,
        connections: int = 32,
        load_cpus: str | None = None,
    ) -> IngestRun:
        """wrk against every gateway at once (`connections` split among them)."""
        opts = self.opts
        run = IngestRun(name)
        run_id = uuid.uuid4().hex[:8]
        loads = [
            IngestLoad(ensure_wrk(), self.group.tmpdir / f"load-{g.name}", "/webhooks/meta")
            for g in gateways
        ]
        per = connections // len(gateways)

        def blast(tag: str, count: int, seconds: float) -> list[WrkResult]:
            scripts = [load.prepare(f"{run_id}{tag}{i}", count) for i, load in enumerate(loads)]
            started = [
                load.start(g.port, script, seconds, connections=per, cpus=load_cpus)
                for load, g, script in zip(loads, gateways, scripts, strict=True)
            ]
            return [s.finish(f"{name} {g.name}") for s, g in zip(started, gateways, strict=True)]

        warm = blast("w", 20_000, opts.warmup)
        if wait_drained_pg(database_url) is None:  # every run starts from an empty backlog
            raise BenchError(f"{name}: the warm-up's backlog was not applied within 120 s")
        # Enough distinct bodies that no wrk thread sends one twice (a redelivery is
        # cheaper to acknowledge), at the warm-up's rate and then some.
        rate = sum(r.rps for r in warm)
        count = bodies_needed(warm[0], opts.duration, minimum=60_000) if rate else 200_000
        meter = Meter(self.stores, gateways)
        with meter.window(run.cpu):
            results = blast("m", count, opts.duration)
        run.cpu.generator = sum(r.cpu_s for r in results)
        run.wrk = merge(name, results)
        with meter.window(run.drain_cpu):
            run.backlog = count_rows(database_url, PENDING)
            run.drain_s = wait_drained_pg(database_url)
        run.acked = sum(r.ok for r in warm) + run.wrk.ok
        run.stored = count_rows(database_url, "SELECT COUNT(*) FROM message")
        return run

    def bare(self, workers: int) -> IngestRun:
        server = start_bare_sanic(self.group, workers=workers)
        try:
            load = IngestLoad(ensure_wrk(), self.group.tmpdir / f"load-{server.name}", "/")
            script = load.prepare(uuid.uuid4().hex[:8], 20_000)
            load.run("warm-up", server.port, script, self.opts.warmup)
            run = IngestRun(
                f"bare Sanic, {workers} worker{'s' if workers > 1 else ''}", stores=False
            )
            t0, c0 = time.monotonic(), cpu_seconds(server.pid)
            run.wrk = load.run(run.name, server.port, script, self.opts.duration)
            run.cpu.seconds, run.cpu.gateway = time.monotonic() - t0, cpu_seconds(server.pid) - c0
            run.cpu.generator = run.wrk.cpu_s
            return run
        finally:
            self.stop(server)

    def row_ingest(self) -> None:
        print("ingest: bare Sanic (1 worker, then 2: the generator's ceiling) ...", flush=True)
        bare1 = self.bare(1)
        bare2 = self.bare(2)
        runs: dict[int, IngestRun] = {}
        for workers in (1, 2):
            print(f"ingest: gateway --workers {workers} ...", flush=True)
            db = self.stores.new_database()
            gw = self.gateway(f"ingest-w{workers}", Deployment(db, self.stores.redis.url, workers))
            try:
                runs[workers] = self.ingest_run(f"--workers {workers}", [gw], db)
            finally:
                self.stop(gw)
        one, two = runs[1], runs[2]
        self.ingest = runs
        self.details["ingest"] = {
            "bare_1": asdict(bare1),
            "bare_2": asdict(bare2),
            "workers_1": asdict(one),
            "workers_2": asdict(two),
        }
        self.sections.append(ingest_section([bare1, bare2, one, two], self.opts))
        acked = ratio(two.acked_per_s, one.acked_per_s)
        self.verdict(
            "signed webhook ingest, acknowledged, --workers 2 vs 1",
            f"{num(two.acked_per_s)} vs {num(one.acked_per_s)} req/s = {acked:.2f}x",
            ">= 1.5x",
            acked >= 1.5,
        )
        share = ratio(two.acked_per_s, bare1.acked_per_s)
        self.verdict(
            "the same, --workers 2 vs bare Sanic (1 worker)",
            f"{num(two.acked_per_s)} vs {num(bare1.acked_per_s)} req/s = {100 * share:.0f} %",
            ">= 50 %",
            share >= 0.5,
        )
        stored = ratio(two.stored_per_s, one.stored_per_s)
        self.verdict(
            "stored end to end, --workers 2 vs 1",
            f"{num(two.stored_per_s)} vs {num(one.stored_per_s)} /s = {stored:.2f}x",
            ">= 1.3x",
            stored >= 1.3,
        )

    # -- 2. SendMessage --------------------------------------------------------------

    def row_send(self) -> None:
        opts = self.opts
        connections, streams = 8, 16
        results: dict[int, tuple[H2Result, Window]] = {}
        for workers in (1, 2):
            print(f"send: gateway --workers {workers}, h2load ...", flush=True)
            db = self.stores.new_database()
            gw = self.gateway(f"send-w{workers}", Deployment(db, self.stores.redis.url, workers))
            try:
                load = H2Load(
                    gw.extra["grpc_port"],
                    self.group.tmpdir / f"h2-{gw.name}",
                    connections,
                    streams,
                    opts.warmup,
                    opts.duration,
                )
                start = load.start()
                window = Window()
                sleep_until(start)
                fake0 = cpu_seconds(self.graph.pid)
                with Meter(self.stores, [gw]).window(window):
                    sleep_until(start + opts.duration)
                window.fake = cpu_seconds(self.graph.pid) - fake0
                result = load.finish()
                window.generator = result.cpu_s * opts.duration / (opts.duration + opts.warmup)
                # Calls h2load cut off when it stopped leave their message to the outbox.
                deadline = time.monotonic() + 15
                result.statuses = outbound_statuses(db)
                while result.statuses.get("PENDING") and time.monotonic() < deadline:
                    time.sleep(0.5)
                    result.statuses = outbound_statuses(db)
                results[workers] = (result, window)
            finally:
                self.stop(gw)
        self.send = results
        self.details["send"] = {
            f"workers_{w}": {**asdict(r), "cpu": asdict(c)} for w, (r, c) in results.items()
        }
        self.sections.append(send_section(results, opts))
        two, _ = results[2]
        one, _ = results[1]
        not_sent = sum(n for k, n in two.statuses.items() if k not in ("SENT", "PENDING"))
        not_sent += two.failed
        self.verdict(
            f"SendMessage, --workers 2, {connections} client channels",
            f"{num(two.rate)} sends/s ({num(one.rate)} with 1 worker); {num(not_sent)} not SENT",
            ">= 2,000 sends/s",
            two.rate >= 2000 and not_sent == 0,
        )

    # -- 3. realtime across replicas --------------------------------------------------

    def row_realtime(self) -> None:
        print("realtime: webhooks to replica A, Socket.IO client on replica B ...", flush=True)
        db = self.stores.new_database()
        deployment = Deployment(db, self.stores.redis.url, 1)
        a = self.gateway("realtime-a", deployment)
        b = self.gateway("realtime-b", deployment)
        try:
            duration = 5.0 if self.opts.quick else 20.0
            result = cross_replica_latency(a, b, 200.0, duration)
        finally:
            self.stop(a, b)
        self.details["realtime"] = asdict(result)
        self.sections.append(
            "## Webhook on replica A → Socket.IO client on replica B\n\n"
            + table(
                ["rate", "received", "p50 ms", "p99 ms", "max ms", "webhook 200 p50 ms", "non-2xx"],
                [
                    [
                        f"{num(result.rate)}/s for {result.duration_s:.0f} s",
                        f"{num(result.received)} / {num(result.sent)}",
                        ms(result.p50_ms),
                        ms(result.p99_ms),
                        ms(result.max_ms),
                        ms(result.post_p50_ms),
                        num(result.non2xx),
                    ]
                ],
            )
        )
        self.verdict(
            "webhook on replica A → Socket.IO client on replica B, 200 msg/s",
            f"p99 {ms(result.p99_ms)} ms (p50 {ms(result.p50_ms)}); "
            f"{num(result.received)} of {num(result.sent)} received",
            "p99 <= 50 ms",
            result.p99_ms <= 50 and result.received == result.sent and not result.non2xx,
        )

    # -- 4. coordination cost --------------------------------------------------------

    def row_coordination(self) -> None:
        runs: dict[int, IngestRun] = {}
        self.stores.pin(LOAD_CPU)
        try:
            for replicas in (1, 2):
                print(f"coordination: {replicas} replica(s) on core {GATEWAY_CPU} ...", flush=True)
                db = self.stores.new_database()
                deployment = Deployment(db, self.stores.redis.url, 1, cpus=GATEWAY_CPU)
                gws = [self.gateway(f"coord-{replicas}r", deployment) for _ in range(replicas)]
                try:
                    runs[replicas] = self.ingest_run(
                        f"{replicas} replica(s)", gws, db, load_cpus=LOAD_CPU
                    )
                finally:
                    self.stop(*gws)
        finally:
            self.stores.unpin()
        one, two = runs[1], runs[2]
        self.details["coordination"] = {"replicas_1": asdict(one), "replicas_2": asdict(two)}
        self.sections.append(
            f"## Coordination cost: gateways pinned to core {GATEWAY_CPU}; wrk, PostgreSQL "
            f"and Redis to core {LOAD_CPU}\n\n" + ingest_table([one, two])
        )
        stored = ratio(two.stored_per_s, one.stored_per_s)
        acked = ratio(two.acked_per_s, one.acked_per_s)
        self.details["coordination_ratio"] = stored
        self.verdict(
            "coordination: 2 replicas vs 1, pinned to the same core",
            f"stored {num(two.stored_per_s)} vs {num(one.stored_per_s)} /s = {stored:.2f}x "
            f"(acknowledged {acked:.2f}x)",
            ">= 0.85x",
            stored >= 0.85,
        )

    # -- 5. bots ----------------------------------------------------------------------

    def bot_run(
        self, mode: str, workers: int, rate: float = 0.0
    ) -> tuple[botload.BotLoadResult, Window]:
        opts = self.opts
        load = botload.BotLoad(mode, opts.conversations, opts.load_procs, opts.duration, rate)
        gw: Server | None = None
        try:
            load.start()
            config = self.group.tmpdir / f"bots-{mode}-{workers}-{uuid.uuid4().hex[:6]}.yaml"
            config.write_text(yaml.safe_dump({"tenants": load.tenants()}, sort_keys=False))
            db = self.stores.new_database()
            deployment = Deployment(db, self.stores.redis.url, workers, config_path=config)
            gw = self.gateway(f"bots-{mode}-w{workers}", deployment)
            start = load.go(gw.url)
            window = Window()
            sleep_until(start)
            with Meter(self.stores, [gw]).window(window):
                sleep_until(start + opts.duration)
            result = load.collect()
            window.generator = result.client_cpu_pct / 100 * window.seconds
            return result, window
        finally:
            load.close()
            if gw is not None:
                self.stop(gw)

    def row_bots(self) -> None:
        opts = self.opts
        runs: list[tuple[str, int, botload.BotLoadResult, Window]] = []
        for workers in (1, 2):
            print(f"bots: open loop at 200/s, --workers {workers} ...", flush=True)
            result, window = self.bot_run("open", workers, rate=200.0)
            runs.append(("open", workers, result, window))
        for workers in (1, 2):
            print(f"bots: closed loop, --workers {workers} ...", flush=True)
            result, window = self.bot_run("closed", workers)
            runs.append(("closed", workers, result, window))
        self.details["bots"] = [
            {"mode": m, "workers": w, **asdict(r), "cpu": asdict(c)} for m, w, r, c in runs
        ]
        self.sections.append(bots_section(runs, opts))
        self.bots = {(m, w): (r, c) for m, w, r, c in runs}
        by = {(m, w): r for m, w, r, _ in runs}
        open2 = by[("open", 2)]
        self.verdict(
            f"bots: webhook → menu reply, open loop 200 msg/s, {opts.conversations} "
            "conversations, --workers 2",
            f"p99 {ms(open2.p99_ms)} ms (p50 {ms(open2.p50_ms)}; 1 worker: p99 "
            f"{ms(by[('open', 1)].p99_ms)})",
            "p99 <= 30 ms",
            open2.p99_ms <= 30 and not open2.errors and open2.replies == open2.sent,
        )
        c1, c2 = by[("closed", 1)], by[("closed", 2)]
        gain = ratio(c2.replies_per_s, c1.replies_per_s)
        self.verdict(
            f"bots: closed loop, {opts.conversations} conversations, --workers 2 vs 1",
            f"{num(c2.replies_per_s)} vs {num(c1.replies_per_s)} replies/s = {gain:.2f}x "
            f"(p99 {ms(c2.p99_ms)} / {ms(c1.p99_ms)} ms)",
            ">= 1.5x",
            gain >= 1.5 and not c1.errors and not c2.errors,
        )


# -- helpers ----------------------------------------------------------------------------


def sleep_until(t: float) -> None:
    delay = t - time.time()
    if delay > 0:
        time.sleep(delay)


def ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def merge(name: str, results: list[WrkResult]) -> WrkResult:
    """Several wrk runs at once, as one: summed requests, the worst percentiles."""
    if len(results) == 1:
        return results[0]
    first = results[0]
    return WrkResult(
        target=name,
        requests=sum(r.requests for r in results),
        duration_s=max(r.duration_s for r in results),
        p50_ms=max(r.p50_ms for r in results),
        p90_ms=max(r.p90_ms for r in results),
        p99_ms=max(r.p99_ms for r in results),
        max_ms=max(r.max_ms for r in results),
        mean_ms=sum(r.mean_ms * r.requests for r in results)
        / max(1, sum(r.requests for r in results)),
        non2xx=sum(r.non2xx for r in results),
        codes={k: sum(r.codes.get(k, 0) for r in results) for r in results for k in r.codes},
        socket_errors={
            k: sum(r.socket_errors.get(k, 0) for r in results)
            for r in results
            for k in r.socket_errors
        },
        bodies=sum(r.bodies for r in results),
        wraps=max(r.wraps for r in results),
        first_bad=next((r.first_bad for r in results if r.first_bad), first.first_bad),
        cpu_s=sum(r.cpu_s for r in results),
    )


def ingest_table(runs: list[IngestRun]) -> str:
    rows = []
    for run in runs:
        w = run.wrk
        if w is None:
            continue
        stored = f"{num(run.stored_per_s)}" if run.drain_s is not None else "-"
        if run.acked:
            lost = run.acked - run.stored
            stored += " (all)" if lost <= 0 else f" ({num(lost)} acked, not stored)"
        drain = f"{run.drain_s:.1f}" if run.drain_s is not None else "-"
        rows.append(
            [
                run.name + (f" ({w.wraps} bodies resent)" if w.wraps and run.stores else ""),
                num(w.rps),
                ms(w.p50_ms),
                ms(w.p99_ms),
                num(w.non2xx),
                stored,
                drain,
                f"{run.cpu.pct(run.cpu.gateway):.0f} % / {num(run.us_per(run.cpu.gateway))}",
                f"{run.cpu.pct(run.cpu.postgres):.0f} % / {num(run.us_per(run.cpu.postgres))}"
                f" / {run.per(run.cpu.commits):.2f}",
                f"{run.cpu.pct(run.cpu.redis):.0f} %",
                f"{run.cpu.pct(run.cpu.generator):.0f} % / {num(run.us_per(run.cpu.generator))}",
                f"{num(run.backlog)}: {num(run.apply_per_s)}/s, {num(run.apply_us)} µs"
                if run.apply_us
                else f"{num(run.backlog)}",
            ]
        )
    headers = [
        "target",
        "acked req/s",
        "p50 ms",
        "p99 ms",
        "non-2xx",
        "stored/s",
        "drain s",
        "server CPU / µs per req",
        "PostgreSQL CPU / µs / commits",
        "Redis CPU",
        "wrk CPU / µs",
        "backlog at the end: applied/s, gateway µs each",
    ]
    return table(headers, rows)


def ingest_section(runs: list[IngestRun], opts: Options) -> str:
    return (
        f"## Webhook ingest: signed 1 KB Meta webhooks, wrk 2 threads x 32 connections, "
        f"{opts.duration:.0f} s after {opts.warmup:.0f} s warm-up; stored = acknowledged "
        "÷ (load + time until the inbox is applied)\n\n"
        + ingest_table(runs)
        + "\n\nCPU: % of one core during the measured window, and µs per acknowledged request."
    )


def send_section(results: dict[int, tuple[H2Result, Window]], opts: Options) -> str:
    rows = []
    for workers, (r, w) in sorted(results.items()):
        per = 1e6 / r.calls if r.calls else 0.0
        other = {k: v for k, v in r.statuses.items() if k != "SENT"}
        rows.append(
            [
                f"--workers {workers}",
                num(r.rate),
                ms(r.p50_ms),
                ms(r.p99_ms),
                num(r.statuses.get("SENT", 0)),
                ", ".join(f"{k} {v}" for k, v in sorted(other.items())) or "0",
                f"{w.pct(w.gateway):.0f} % / {num(w.gateway * per)}",
                f"{w.pct(w.postgres):.0f} % / {num(w.postgres * per)} / "
                f"{w.commits * per / 1e6:.2f}",
                f"{w.pct(w.fake):.0f} %",
                f"{w.pct(w.generator):.0f} % / {num(w.generator * per)}",
            ]
        )
    r0 = next(iter(results.values()))[0]
    return (
        f"## gRPC SendMessage: h2load, {r0.connections} connections (client channels) x "
        f"{r0.streams} streams = {r0.in_flight} calls in flight, {opts.duration:.0f} s after "
        f"{opts.warmup:.0f} s; statuses read from the database afterwards (warm-up "
        "included; PENDING: calls cut off when h2load stopped, not sent after 15 s)\n\n"
        + table(
            [
                "gateway",
                "sends/s",
                "p50 ms",
                "p99 ms",
                "SENT",
                "other",
                "gateway CPU / µs per send",
                "PostgreSQL CPU / µs / commits",
                "fake Graph CPU",
                "h2load CPU / µs",
            ],
            rows,
        )
    )


def bots_section(runs: list[tuple[str, int, botload.BotLoadResult, Window]], opts: Options) -> str:
    rows = []
    for mode, workers, r, w in runs:
        per = 1e6 / r.replies if r.replies else 0.0
        offered = f"{num(r.rate)}/s" if mode == "open" else "each waits"
        rows.append(
            [
                f"{mode} loop, --workers {workers}",
                offered,
                num(r.replies),
                num(r.replies_per_s),
                ms(r.ack_p50_ms),
                ms(r.p50_ms),
                ms(r.p99_ms),
                ", ".join(f"{k} {v}" for k, v in sorted(r.errors.items())) or "0",
                f"{w.pct(w.gateway):.0f} % / {num(w.gateway * per)}",
                f"{w.pct(w.postgres):.0f} % / {num(w.postgres * per)} / "
                f"{w.commits * per / 1e6:.2f}",
                f"{r.client_cpu_pct:.0f} % (max {r.client_max_cpu_pct:.0f} %)",
            ]
        )
    return (
        f"## Bots: webhook → the menu flow's reply at the fake provider, "
        f"{opts.conversations} conversations from {opts.load_procs} load processes, "
        f"{opts.duration:.0f} s\n\n"
        + table(
            [
                "run",
                "offered",
                "replies",
                "replies/s",
                "ack p50 ms",
                "p50 ms",
                "p99 ms",
                "errors",
                "gateway CPU / µs per reply",
                "PostgreSQL CPU / µs / commits",
                "load CPU",
            ],
            rows,
        )
    )


def print_report(scale: Scale, facts: dict[str, str]) -> None:
    for section in [*scale.sections, extrapolation(scale)]:
        if section:
            print("\n" + section)
    rows = [
        [
            v.what,
            v.measured,
            v.target,
            "-" if v.ok is None else ("PASS" if v.ok else "MISS"),
        ]
        for v in scale.verdicts
    ]
    print("\n## Scale-out: issue 12's table\n")
    print(table(["what", "measured", "target", ""], rows))
    print(
        f"\n{facts['nproc']} CPUs ({facts['cpu']}), Python {facts['python']}, Sanic "
        f"{facts['sanic']}, grpcio {facts['grpcio']}, wrk {facts['wrk']}; PostgreSQL "
        f"(fsync {'on' if scale.opts.fsync else 'off'}; an 8 KB write + fdatasync on its "
        f"disk: median {facts['fdatasync']}) and Redis on the same machine; the load "
        "generators share the cores."
    )


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="~3 s runs (smoke test)")
    parser.add_argument("--only", nargs="+", choices=ROWS, help="run these rows only")
    parser.add_argument("--duration", type=float, help="seconds per measured run (default 10)")
    parser.add_argument("--conversations", type=int, default=100, help="bots: conversations")
    parser.add_argument("--load-procs", type=int, default=2, help="bots: load processes")
    parser.add_argument(
        "--source", type=Path, help="run the gateway of another checkout (e.g. a worktree)"
    )
    parser.add_argument(
        "--pg-fsync",
        choices=["on", "off"],
        default="on",
        help="PostgreSQL's fsync (default on: commits are durable, as in production)",
    )
    args = parser.parse_args(argv)
    duration = args.duration or (3.0 if args.quick else 10.0)
    warmup = 1.0 if args.quick else 2.0
    return Options(
        args.quick,
        tuple(args.only or ROWS),
        duration,
        warmup,
        args.conversations,
        args.load_procs,
        args.source.resolve() if args.source else None,
        args.pg_fsync == "on",
    )


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    steps: dict[str, Callable[[Scale], None]] = {
        "ingest": Scale.row_ingest,
        "send": Scale.row_send,
        "realtime": Scale.row_realtime,
        "coordination": Scale.row_coordination,
        "bots": Scale.row_bots,
    }
    failed: list[str] = []
    print("scale: starting PostgreSQL and Redis ...", flush=True)
    stores = start_stores(fsync=opts.fsync)
    fsync_us = fdatasync_us(stores.pg.datadir.parent)
    try:
        with ProcessGroup() as group:
            graph = start_fake_graph(group)
            scale = Scale(group, stores, graph, opts)
            for row in opts.only:
                try:
                    steps[row](scale)
                except Exception as exc:  # one row's failure does not hide the others
                    failed.append(row)
                    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
                    why = lines[0] if len(lines) < 2 else f"{lines[0]} … {lines[-1]}"
                    scale.verdict(row, f"did not run: {why[:300]}", "", False)
                    print(f"{row} failed: {exc}", file=sys.stderr, flush=True)
    finally:
        stores.close()
    facts = machine_facts(ensure_wrk())
    facts["fdatasync"] = f"{fsync_us:,.0f} µs"
    print_report(scale, facts)
    save_json(
        RESULTS,
        {
            "options": asdict(opts),
            "machine": facts,
            "verdicts": [asdict(v) for v in scale.verdicts],
            **scale.details,
        },
    )
    print(f"\n(raw numbers: {Path(RESULTS).relative_to(REPO)})")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\nbench.scale: interrupted; child processes stopped", file=sys.stderr)
        sys.exit(130)
