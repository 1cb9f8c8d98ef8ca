"""`python -m bench.profile [--kind ingest|bots|send] [--provider meta|kapso|qr] [--workers N]`:
where a gateway on PostgreSQL + Redis spends its CPU under load, sampled with py-spy.

Starts PostgreSQL, Redis and `wagate serve --workers N` (bench/stores.py), loads it
(`ingest`: wrk with signed Meta webhooks; `bots`: the closed-loop menu-flow load of
bench/botload.py; `send`: gRPC SendMessage), records every gateway process with
`py-spy record --subprocesses` and prints the functions with the largest share of
samples, on their own ("self") and with what they call ("total"). Needs py-spy
(`.venv/bin/pip install py-spy`; not a dependency of wagate) and root or ptrace rights.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import yaml

from bench import botload
from bench import send as send_mod
from bench.ingest import KINDS, IngestLoad, ensure_wrk
from bench.report import table
from bench.servers import (
    PYTHON,
    BenchError,
    Deployment,
    ProcessGroup,
    start_fake_graph,
    start_gateway,
)
from bench.stores import start_stores

_LINE = re.compile(r":\d+\)$")


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(PYTHON).with_name("py-spy"))
    if not Path(found).exists():
        raise BenchError("py-spy not found: `.venv/bin/pip install py-spy`")
    return found


def summarize(collapsed: Path, top: int) -> str:
    """Self and total shares of the functions in py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        # "function (file.py:line)" → "function (file.py)": one row per function.
        frames = [_LINE.sub(")", f) for f in stack.split(";") if not f.startswith("process ")]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    if not samples:
        return "no samples"

    def rows(counter: collections.Counter[str]) -> list[list[str]]:
        return [[f"{100 * n / samples:.1f} %", name[:150]] for name, n in counter.most_common(top)]

    return (
        f"{samples:,} samples\n\n### self\n\n"
        + table(["share", "function (file:line)"], rows(own))
        + "\n\n### total (with callees)\n\n"
        + table(["share", "function (file:line)"], rows(total))
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--kind", choices=["ingest", "bots", "send"], default="ingest")
    parser.add_argument(
        "--provider", choices=sorted(KINDS), default="meta", help="ingest: whose webhooks"
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("bench/results/profile.txt"))
    args = parser.parse_args(argv)
    spy = py_spy()
    stores = start_stores()
    load: botload.BotLoad | None = None
    try:
        with ProcessGroup() as group:
            graph = start_fake_graph(group)
            db = stores.new_database()
            config: Path | None = None
            if args.kind == "bots":
                load = botload.BotLoad("closed", 100, 2, args.seconds + 4, 0.0)
                load.start()
                config = group.tmpdir / "bots.yaml"
                config.write_text(yaml.safe_dump({"tenants": load.tenants()}))
            deployment = Deployment(db, stores.redis.url, args.workers, config_path=config)
            gw = start_gateway(group, "profiled", f"{graph.url}/v23.0", deployment=deployment)
            procs: list[subprocess.Popen[str]] = []
            if args.kind == "ingest":
                kind = KINDS[args.provider]
                wrk = IngestLoad(ensure_wrk(), group.tmpdir / "load", kind.url_path, kind.name)
                script = wrk.prepare(uuid.uuid4().hex[:8], 200_000)
                running = wrk.start(gw.port, script, args.seconds + 4)
            elif args.kind == "send":
                procs, _ = send_mod.start_workers(
                    gw.extra["grpc_port"],
                    clients=2,
                    concurrency=128,
                    warmup=0.0,
                    duration=args.seconds + 4,
                    channels=4,
                )
            elif load is not None:
                load.go(gw.url, lead=1.0)
            time.sleep(3.0)  # past start-up and warm-up
            collapsed = group.tmpdir / "profile.collapsed"
            subprocess.run(
                [
                    *(spy, "record", "--subprocesses", "--nonblocking", "--format", "raw"),
                    *("--rate", "200", "--duration", str(int(args.seconds))),
                    *("--output", str(collapsed), "--pid", str(gw.pid)),
                ],
                check=True,
                capture_output=True,
            )
            if args.kind == "ingest":
                result = running.finish("profiled")
                print(f"load: {result.rps:,.0f} req/s acknowledged")
            elif args.kind == "send":
                print(
                    send_mod.collect_workers(
                        procs, concurrency=128, duration=args.seconds + 4, timeout=90
                    ).rate
                )
            elif load is not None:
                print(f"load: {load.collect().replies_per_s:,.0f} replies/s")
            report = summarize(collapsed, args.top)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(report + "\n")
            print(report)
    finally:
        if load is not None:
            load.close()
        stores.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
