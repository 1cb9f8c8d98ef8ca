"""The `wagate` command: `serve`, `check-config`, `migrate` and `--version`.

Exit status: 0 done, 1 could not run (a port in use, the database unreachable),
2 bad configuration (also an unsupported `--workers`). Failures are one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from importlib.metadata import PackageNotFoundError, version

from core.errors import ConfigError
from gateway.config import Settings, load_settings
from gateway.logs import MaskingFormatter, setup_logging
from gateway.preflight import database_unreachable, port_in_use, unsupported_workers

CONFIG_HELP = "YAML config (default: $WAGATE_CONFIG; with neither, the demo tenant)"


def wagate_version() -> str:
    try:
        return version("wagate")
    except PackageNotFoundError:
        return "unknown"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="wagate", description="Multi-tenant WhatsApp gateway")
    top.add_argument("--version", action="version", version=f"wagate {wagate_version()}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    verbs = {
        "serve": "start the gateway (HTTP, Socket.IO and gRPC)",
        "check-config": "validate the config and the environment, then exit (0 valid, 2 not)",
        "migrate": "apply pending database migrations to WAGATE_DATABASE_URL, then exit",
    }
    for name, summary in verbs.items():
        verb = sub.add_parser(name, help=summary, description=summary[0].upper() + summary[1:])
        verb.add_argument("--config", metavar="PATH", help=CONFIG_HELP)
        if name == "serve":
            verb.add_argument(
                "--workers",
                type=int,
                metavar="N",
                help="processes sharing the ports (default: $WAGATE_WORKERS, else 1)",
            )
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"wagate: config error: {exc}", file=sys.stderr)
        return 2
    if args.command == "check-config":
        print(describe(settings))
        return 0
    setup_logging(settings.log_level, settings.secrets, settings.log_format)
    if args.command == "migrate":
        return migrate(settings)
    workers = settings.workers if args.workers is None else args.workers
    settings = dataclasses.replace(settings, workers=workers)
    simulated = settings.demo or any(c.simulator for t in settings.tenants for c in t.channels)
    unsupported = unsupported_workers(workers, settings.database_url, settings.redis_url, simulated)
    if unsupported:
        print(f"wagate: config error: {unsupported}", file=sys.stderr)
        return 2
    return serve(settings)


def describe(settings: Settings) -> str:
    """One line saying what `wagate serve` would run with this config."""
    if settings.demo:
        return "config ok: no config given, `wagate serve` runs the demo tenant"
    channels = sum(len(t.channels) for t in settings.tenants)
    return f"config ok: {len(settings.tenants)} tenant(s), {channels} channel(s)"


def migrate(settings: Settings) -> int:
    problem = migration_failure(settings)
    if problem:
        print(f"wagate: migrate failed: {problem}", file=sys.stderr)
        return 1
    mask = MaskingFormatter(settings.secrets).mask
    print(f"migrations applied: {mask(settings.database_url)} is up to date")
    return 0


def migration_failure(settings: Settings) -> str | None:
    """Apply pending migrations; why they could not be, in one masked line, or None."""
    from storage.db import apply_migrations

    try:
        asyncio.run(apply_migrations(settings.database_url))
    except Exception as exc:  # any cause (unreachable, refused, bad URL): one line
        return MaskingFormatter(settings.secrets).mask(f"{type(exc).__name__}: {exc}")
    return None


def serve(settings: Settings) -> int:
    """Check the ports and the database, then serve: in this process, or N workers."""
    problem = (
        port_in_use(settings.http_host, settings.http_port, "HTTP")
        or port_in_use(settings.http_host, settings.grpc_port, "gRPC")
        or database_unreachable(settings.database_url)
    )
    if problem:
        print(f"wagate: cannot start: {problem}", file=sys.stderr)
        return 1
    if settings.workers > 1:
        from gateway.workers import run_workers

        # Once, before the workers: N processes migrating a new database at the same
        # moment would each create the same tables, and all but one fail.
        failure = migration_failure(settings)
        if failure:
            print(f"wagate: cannot start: migrations failed: {failure}", file=sys.stderr)
            return 1
        return run_workers(settings)

    from gateway.app import create_app, run_app

    try:
        run_app(create_app(settings), settings)
    except OSError as exc:
        print(f"wagate: cannot start: {exc}", file=sys.stderr)
        return 1
    except ConfigError as exc:  # found at start (the admin API's stored configuration)
        print(f"wagate: config error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
