"""Run `wagate serve` where it is expected to refuse to start: its status and its one line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from tests.support.procs import WAGATE, free_port


def refused_serve(
    cwd: Path, *args: str, env: dict[str, str], config: dict[str, object] | None = None
) -> subprocess.CompletedProcess[str]:
    """`wagate serve` on fresh ports and a SQLite file in `cwd`, unless `env` says otherwise."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WAGATE_")}
    base = {
        "WAGATE_HTTP_PORT": str(free_port()),
        "WAGATE_GRPC_PORT": str(free_port()),
        "WAGATE_DATABASE_URL": f"sqlite://{cwd}/second.sqlite3",
    }
    argv = [str(WAGATE), "serve", *args]
    if config is not None:
        path = cwd / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        argv += ["--config", str(path)]
    return subprocess.run(
        argv, cwd=cwd, env={**clean, **base, **env}, capture_output=True, text=True, timeout=60
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The only line on its stderr (fails when there are more)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]
