"""The baseline: a bare Sanic app with one POST route answering 200 "OK".

Same Sanic settings as `wagate serve`: one process, no access log, no debug.
Run as `python -m bench.bare_sanic --port N [--workers N]`; stops on SIGTERM/SIGINT.
With `--workers 2` it measures what the load generator can drive on this machine.
"""

from __future__ import annotations

import argparse

from sanic import DefaultSanic, Request, Sanic
from sanic.response import HTTPResponse, text


def make_app() -> DefaultSanic:
    app: DefaultSanic = Sanic("bench_bare")

    @app.post("/")
    async def ok(request: Request) -> HTTPResponse:
        return text("OK")

    return app


# At import: with several workers, Sanic starts each one by importing this module and
# looking the app up by name.
app = make_app()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    processes = {"single_process": True} if args.workers == 1 else {"workers": args.workers}
    app.run(host=args.host, port=args.port, access_log=False, debug=False, motd=False, **processes)


if __name__ == "__main__":
    main()
