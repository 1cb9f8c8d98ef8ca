"""`wagate --version`, `check-config` and `migrate`, run as the real CLI in a subprocess."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from importlib.metadata import version
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
import yaml

from tests.support.procs import WAGATE, Postgres, free_port

# Every test here runs `wagate` as a process.
pytestmark = pytest.mark.integration

MIGRATIONS = sorted(
    p.stem for p in (Path(__file__).resolve().parents[2] / "storage" / "migrations").glob("0*.py")
)

GOOD = {
    "tenants": [
        {
            "id": "acme",
            "api_keys": ["acme-cli-key"],
            "channels": [
                {
                    "id": "acme-meta",
                    "provider": "meta_cloud",
                    "phone_number_id": "109876543210001",
                    "app_secret": "${CLI_TEST_APP_SECRET}",
                    "verify_token": "verify",
                    "access_token": "token",
                }
            ],
        }
    ]
}


def wagate(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WAGATE_")}
    return subprocess.run(
        [str(WAGATE), *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def write_config(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "wagate.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_version_is_the_package_version(tmp_path: Path) -> None:
    result = wagate(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"wagate {version('wagate')}"


@pytest.mark.parametrize("verb", ["serve", "check-config", "migrate"])
def test_each_verb_has_help(tmp_path: Path, verb: str) -> None:
    result = wagate(tmp_path, verb, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: wagate {verb}")
    assert "--config PATH" in result.stdout
    top = wagate(tmp_path, "--help")
    assert verb in top.stdout


def test_check_config_accepts_a_valid_file_without_starting(tmp_path: Path) -> None:
    path = write_config(tmp_path, GOOD)
    port = free_port()
    result = wagate(
        tmp_path,
        "check-config",
        "--config",
        path,
        env={"CLI_TEST_APP_SECRET": "s3cret-value", "WAGATE_HTTP_PORT": str(port)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "config ok: 1 tenant(s), 1 channel(s)"
    assert result.stderr == ""
    assert not (tmp_path / "data").exists()  # no database was opened


def test_check_config_reads_wagate_config(tmp_path: Path) -> None:
    path = write_config(tmp_path, GOOD)
    result = wagate(
        tmp_path, "check-config", env={"WAGATE_CONFIG": path, "CLI_TEST_APP_SECRET": "x" * 8}
    )
    assert result.returncode == 0, result.stderr
    assert "1 tenant(s)" in result.stdout


@pytest.mark.parametrize(
    ("change", "env", "reason"),
    [
        ({"bogus_key": 1}, {"CLI_TEST_APP_SECRET": "s3cret-value"}, "unknown key 'bogus_key'"),
        ({}, {}, "CLI_TEST_APP_SECRET is not set"),
        ({}, {"CLI_TEST_APP_SECRET": "x", "WAGATE_LOG_FORMAT": "xml"}, "log_format"),
        ({}, {"CLI_TEST_APP_SECRET": "x", "WAGATE_ACCESS_LOG": "maybe"}, "access_log"),
    ],
)
def test_check_config_rejects_with_one_line_and_exit_2(
    tmp_path: Path, change: dict[str, Any], env: dict[str, str], reason: str
) -> None:
    path = write_config(tmp_path, {**GOOD, **change})
    result = wagate(tmp_path, "check-config", "--config", path, env=env)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and reason in lines[0], lines
    assert result.stdout == ""


def test_check_config_names_a_missing_file(tmp_path: Path) -> None:
    result = wagate(tmp_path, "check-config", "--config", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "nope.yaml" in result.stderr and len(result.stderr.splitlines()) == 1


def test_migrate_creates_the_schema_and_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "state" / "wagate.sqlite3"
    env = {"WAGATE_DATABASE_URL": f"sqlite://{db}"}
    for _ in range(2):
        result = wagate(tmp_path, "migrate", env=env)
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        applied = sorted(r[0] for r in conn.execute("SELECT name FROM tortoise_migrations"))
    assert {"message", "conversation", "webhook_inbox", "event_log"} <= tables
    assert applied == MIGRATIONS


async def test_migrate_postgres(tmp_path: Path, postgres: Postgres) -> None:
    url = postgres.create_database("cli_migrate")
    result = wagate(tmp_path, "migrate", env={"WAGATE_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert "wagate:wagate@" not in result.stdout  # the URL's password is masked
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT name FROM tortoise_migrations")
    finally:
        await conn.close()
    assert sorted(r["name"] for r in rows) == MIGRATIONS


def test_migrate_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgres://wagate:pw-not-to-print@127.0.0.1:{port}/wagate"
    result = wagate(tmp_path, "migrate", env={"WAGATE_DATABASE_URL": url})
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("wagate: migrate failed:"), lines
    assert str(port) in lines[0]
    assert "pw-not-to-print" not in result.stderr
