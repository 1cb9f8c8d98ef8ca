"""`wagate serve`: HTTP (webhooks, REST) and gRPC in one process."""

from __future__ import annotations

import argparse
import sys

from gateway.config import load_settings
from gateway.logs import setup_logging
from providers.base import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wagate", description="Multi-tenant WhatsApp gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the gateway")
    serve.add_argument("--config", help="YAML config (default: $WAGATE_CONFIG, else the demo)")
    args = parser.parse_args(argv)

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"wagate: config error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.secrets)

    from gateway.app import create_app

    app = create_app(settings)
    try:
        app.run(
            host=settings.http_host,
            port=settings.http_port,
            single_process=True,
            access_log=False,
            motd=False,
        )
    except OSError as exc:
        print(f"wagate: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
