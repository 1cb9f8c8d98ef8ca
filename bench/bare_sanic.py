"""The baseline: a bare Sanic app with one POST route answering 200 "OK".

Same Sanic settings as `wagate serve`: one process, no access log, no debug.
Run as `python -m bench.bare_sanic --port N`; stops on SIGTERM/SIGINT.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = make_app()
    app.run(
        host=args.host,
        port=args.port,
        single_process=True,
        access_log=False,
        debug=False,
        motd=False,
    )


if __name__ == "__main__":
    main()
