"""Config loading: validation errors name the key, ${VAR} expansion, env overrides, CLI."""

from __future__ import annotations

import copy
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from core.errors import ConfigError
from gateway.config import build_settings, load_settings
from tests.support.procs import WAGATE, Gateway, free_port


def base_config() -> dict[str, Any]:
    return {
        "tenants": [
            {
                "id": "acme",
                "api_keys": ["acme-key"],
                "channels": [
                    {
                        "id": "acme-cloud",
                        "provider": "meta_cloud",
                        "phone_number_id": "106540352242922",
                        "app_secret": "app-secret-value",
                        "verify_token": "verify-token-value",
                        "access_token": "access-token-value",
                        "api_base_url": "http://127.0.0.1:1/v23.0",
                    }
                ],
            },
            {
                "id": "globex",
                "api_keys": ["globex-key"],
                "channels": [
                    {
                        "id": "globex-cloud",
                        "provider": "meta_cloud",
                        "phone_number_id": "206540352242922",
                        "app_secret": "g-app-secret",
                        "verify_token": "g-verify",
                        "access_token": "g-access",
                    }
                ],
            },
        ]
    }


def with_change(path: list[str | int], value: Any, delete: bool = False) -> dict[str, Any]:
    data = copy.deepcopy(base_config())
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


def config_error(data: Any, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        build_settings(data, env or {})
    message = str(info.value)
    assert "\n" not in message
    return message


# -- the valid case -------------------------------------------------------------------


def test_valid_config_builds_settings() -> None:
    settings = build_settings(base_config(), {})
    assert [t.id for t in settings.tenants] == ["acme", "globex"]
    acme = settings.tenants[0]
    assert acme.api_keys == ("acme-key",)
    [channel] = acme.channels
    assert (channel.id, channel.provider) == ("acme-cloud", "meta_cloud")
    assert channel.settings["phone_number_id"] == "106540352242922"
    assert "id" not in channel.settings and "provider" not in channel.settings
    assert [c.id for c in settings.tenants[1].channels] == ["globex-cloud"]
    assert (settings.http_host, settings.http_port, settings.grpc_port) == (
        "127.0.0.1",
        8080,
        50051,
    )
    assert settings.database_url == "sqlite://data/wagate.sqlite3"
    assert settings.redis_url is None
    assert not settings.demo
    for secret in ("acme-key", "app-secret-value", "verify-token-value", "access-token-value"):
        assert secret in settings.secrets


# -- unknown keys ---------------------------------------------------------------------


def test_unknown_top_level_key() -> None:
    data = {**base_config(), "tenantz": []}
    assert "'tenantz'" in config_error(data)


def test_unknown_tenant_key() -> None:
    message = config_error(with_change(["tenants", 1, "api_key"], ["x"]))
    assert "'api_key'" in message and "tenants[1]" in message


def test_unknown_channel_key_for_meta_cloud() -> None:
    message = config_error(with_change(["tenants", 0, "channels", 0, "webhook_secret"], "x"))
    assert "'webhook_secret'" in message and "acme-cloud" in message


def test_unknown_provider() -> None:
    message = config_error(with_change(["tenants", 0, "channels", 0, "provider"], "telegram"))
    assert "'telegram'" in message


# -- ${VAR} expansion -----------------------------------------------------------------


def test_env_vars_are_expanded() -> None:
    data = with_change(["tenants", 0, "channels", 0, "app_secret"], "${META_APP_SECRET}")
    data["tenants"][0]["api_keys"] = ["${ACME_API_KEY}", "static-${SUFFIX}-key"]
    env = {"META_APP_SECRET": "from-env-secret", "ACME_API_KEY": "k-env", "SUFFIX": "mid"}
    settings = build_settings(data, env)
    assert settings.tenants[0].channels[0].settings["app_secret"] == "from-env-secret"
    assert settings.tenants[0].api_keys == ("k-env", "static-mid-key")
    assert "from-env-secret" in settings.secrets


def test_missing_env_var_is_named() -> None:
    data = with_change(["tenants", 0, "channels", 0, "access_token"], "${META_TOKEN_MISSING}")
    message = config_error(data, {"OTHER": "x"})
    assert "META_TOKEN_MISSING" in message and "access_token" in message
    assert "META_TOKEN_MISSING" in config_error(data, {"META_TOKEN_MISSING": ""})


# -- secrets and ids ------------------------------------------------------------------


@pytest.mark.parametrize("key", ["app_secret", "verify_token", "access_token"])
def test_missing_secret_is_named(key: str) -> None:
    empty = config_error(with_change(["tenants", 0, "channels", 0, key], ""))
    assert f"'{key}'" in empty and "secret" in empty
    absent = config_error(with_change(["tenants", 0, "channels", 0, key], None, delete=True))
    assert f"'{key}'" in absent


def test_missing_phone_number_id_is_named() -> None:
    message = config_error(
        with_change(["tenants", 0, "channels", 0, "phone_number_id"], None, delete=True)
    )
    assert "'phone_number_id'" in message


def test_missing_api_keys_is_named() -> None:
    assert "api_keys" in config_error(with_change(["tenants", 0, "api_keys"], []))
    assert "api_keys" in config_error(with_change(["tenants", 0, "api_keys"], [""]))


@pytest.mark.parametrize("bad", ["Acme", "acme_corp", "acme corp", "", "ácme", "acme/1"])
def test_bad_tenant_id(bad: str) -> None:
    message = config_error(with_change(["tenants", 0, "id"], bad))
    assert "tenants[0].id" in message


def test_duplicate_channel_id() -> None:
    data = with_change(["tenants", 1, "channels", 0, "id"], "acme-cloud")
    assert "duplicate channel id 'acme-cloud'" in config_error(data)


def test_duplicate_tenant_id() -> None:
    data = with_change(["tenants", 1, "id"], "acme")
    assert "duplicate tenant id 'acme'" in config_error(data)


def test_api_key_shared_by_two_tenants() -> None:
    data = with_change(["tenants", 1, "api_keys"], ["acme-key"])
    message = config_error(data)
    assert "api key" in message
    assert "acme-key" not in message  # the error names the problem, not the secret


# -- every message starts with the key's path as written in the file -----------------


@pytest.mark.parametrize(
    ("path", "value", "prefix"),
    [
        (["tenants"], "not-a-list", "tenants: "),
        (["tenants", 0, "api_keys"], ["${UNSET_KEY_VAR}"], "tenants[0].api_keys[0]: "),
        (["tenants", 0, "channels", 0, "provider"], "telegram", "tenants[0].channels[0]: "),
        (["tenants", 0, "channels", 0, "app_secrett"], "x", "tenants[0].channels[0]: "),
        (["tenants", 1, "id"], "acme", "tenants[1].id: "),
        (["tenants", 1, "api_keys"], ["acme-key"], "tenants[1].api_keys: "),
        (["tenants", 1, "channels", 0, "id"], "acme-cloud", "tenants[1].channels[0].id: "),
        (["tenantz"], [], "top level: "),
    ],
)
def test_errors_start_with_the_key_path(path: list[Any], value: Any, prefix: str) -> None:
    message = config_error(with_change(path, value))
    assert message.startswith(prefix), message
    assert not message.startswith("config"), message


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('tenants:\n  - id: acme\n    api_keys: ["k"\n  - id: b\n', 4, 3),
        ("http_port: 8080\n  grpc_port: 1\n", 2, 12),
        ("tenants:\n\t- id: x\n", 2, 1),
    ],
)
def test_yaml_syntax_error_names_line_and_column(
    tmp_path: Path, text: str, line: int, column: int
) -> None:
    path = tmp_path / "wagate.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, {})
    message = str(info.value)
    assert f"line {line}, column {column}" in message and str(path) in message
    assert "\n" not in message


# -- environment overrides ------------------------------------------------------------


def test_env_overrides_beat_the_file() -> None:
    data = {
        **base_config(),
        "http_port": 9000,
        "grpc_port": 9001,
        "http_host": "0.0.0.0",
        "database_url": "sqlite://file.sqlite3",
    }
    from_file = build_settings(data, {})
    assert (from_file.http_port, from_file.grpc_port, from_file.http_host) == (
        9000,
        9001,
        "0.0.0.0",
    )
    env = {
        "WAGATE_HTTP_PORT": "9100",
        "WAGATE_DATABASE_URL": "postgres://u:p@db:5432/wagate",
        "WAGATE_LOG_LEVEL": "debug",
    }
    settings = build_settings(data, env)
    assert settings.http_port == 9100
    assert settings.grpc_port == 9001  # not overridden: the file's value
    assert settings.database_url == "postgres://u:p@db:5432/wagate"
    assert settings.log_level == "debug"
    assert "postgres://u:p@db:5432/wagate" in settings.secrets


def test_bad_port_from_env_is_named() -> None:
    message = config_error(base_config(), {"WAGATE_HTTP_PORT": "eighty"})
    assert "http_port" in message and "eighty" in message


def test_empty_env_override_keeps_the_file_value() -> None:
    data = {**base_config(), "http_port": 9000}
    assert build_settings(data, {"WAGATE_HTTP_PORT": ""}).http_port == 9000


# -- load_settings --------------------------------------------------------------------


def test_load_settings_reads_yaml_and_expands(tmp_path: Path) -> None:
    data = with_change(["tenants", 0, "channels", 0, "app_secret"], "${SECRET_FROM_ENV}")
    path = tmp_path / "wagate.yaml"
    path.write_text(yaml.safe_dump(data))
    settings = load_settings(path, {"SECRET_FROM_ENV": "s3cr3t", "WAGATE_GRPC_PORT": "6000"})
    assert settings.tenants[0].channels[0].settings["app_secret"] == "s3cr3t"
    assert settings.grpc_port == 6000
    via_env = load_settings(None, {"WAGATE_CONFIG": str(path), "SECRET_FROM_ENV": "x"})
    assert [t.id for t in via_env.tenants] == ["acme", "globex"]


def test_load_settings_without_config_is_the_demo() -> None:
    settings = load_settings(None, {})
    assert settings.demo


def test_load_settings_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.yaml"):
        load_settings(tmp_path / "missing.yaml", {})
    bad = tmp_path / "bad.yaml"
    bad.write_text("tenants: [\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_settings(bad, {})
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_settings(listing, {})
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(yaml.safe_dump({**base_config(), "bogus_key": 1}))
    with pytest.raises(ConfigError, match="bogus_key"):
        load_settings(unknown, {})


# -- the CLI --------------------------------------------------------------------------


def run_serve(tmp_path: Path, config: Any, extra_env: dict[str, str] | None = None) -> Any:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAGATE_")}
    env.update(extra_env or {})
    return subprocess.run(
        [str(WAGATE), "serve", "--config", str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=60,
    )


@pytest.mark.integration
def test_cli_unknown_key_exits_with_one_line(tmp_path: Path) -> None:
    data = with_change(["tenants", 0, "channels", 0, "app_secrett"], "typo")
    result = run_serve(tmp_path, data)
    assert result.returncode != 0
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert "'app_secrett'" in lines[0]
    assert result.stdout == b""


@pytest.mark.integration
def test_cli_missing_env_var_exits_with_one_line(tmp_path: Path) -> None:
    data = with_change(["tenants", 0, "channels", 0, "access_token"], "${NOT_SET_ANYWHERE_XYZ}")
    result = run_serve(tmp_path, data)
    assert result.returncode != 0
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert "NOT_SET_ANYWHERE_XYZ" in lines[0]
    # No secret of the (valid) rest of the config is echoed.
    assert "app-secret-value" not in lines[0]


@pytest.mark.integration
def test_cli_missing_config_file_exits_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAGATE_")}
    result = subprocess.run(
        [str(WAGATE), "serve", "--config", str(tmp_path / "nope.yaml")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and "nope.yaml" in lines[0], lines


@pytest.mark.integration
def test_cli_unreachable_database_is_one_line_naming_host_and_port(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    url = f"postgres://wagate:secret-pw@127.0.0.1:{port}/wagate"
    result = run_serve(tmp_path, base_config(), {"WAGATE_DATABASE_URL": url})
    assert result.returncode != 0
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines  # no traceback before the reason
    assert lines[0].startswith(f"wagate: cannot start: database 127.0.0.1:{port} is unreachable")
    assert "secret-pw" not in lines[0]


def test_empty_config_starts_with_a_warning(gateways: Callable[..., Gateway]) -> None:
    gw = gateways({"tenants": []})
    warnings = [
        orjson.loads(line)
        for line in gw.logs().splitlines()
        if line.startswith("{") and '"warning"' in line
    ]
    assert any("no tenants" in w["msg"] for w in warnings), gw.logs()[-2000:]


# -- scale-out keys -------------------------------------------------------------------


def test_scale_out_keys_from_the_environment() -> None:
    env = {"WAGATE_REDIS_URL": "redis://:pw@10.0.0.7:6379/0", "WAGATE_WORKERS": "1"}
    settings = build_settings({**base_config(), "max_backlog": 500}, env)
    assert (settings.redis_url, settings.workers, settings.max_backlog) == (
        "redis://:pw@10.0.0.7:6379/0",
        1,
        500,
    )
    assert "redis://:pw@10.0.0.7:6379/0" in settings.secrets
    assert build_settings(base_config(), {}).max_backlog == 100_000


def test_scale_out_keys_rejected_with_one_line() -> None:
    assert config_error(base_config(), {"WAGATE_REDIS_URL": "10.0.0.7:6379"}) == (
        "redis_url: expected a redis://, rediss:// or unix:// URL"
    )
    assert config_error({**base_config(), "max_backlog": -1}) == (
        "max_backlog: must be 0 (no bound) or more"
    )
    assert config_error(base_config(), {"WAGATE_WORKERS": "two"}) == (
        "workers: expected int, got 'two'"
    )
