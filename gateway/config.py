"""Configuration: YAML with ${VAR} expansion, then WAGATE_* environment overrides.

Errors are one line that names the offending key, because `wagate serve` prints
them and exits: an operator should see exactly what to fix. Every message starts
with the key's path as it is written in the file (`tenants[0].channels[1].app_secret:`),
or the file and the line and column for a YAML syntax error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.errors import ConfigError
from gateway.bots.common import PluginConfig
from gateway.bots.config import parse_bots
from providers.registry import provider_class

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TENANT_ID = re.compile(r"^[a-z0-9-]+$")
_CHANNEL_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
# The database's column widths (storage/models.py).
TENANT_ID_MAX = 64
# Keys of a `bots:` entry that hold secrets (masked in logs and admin API reads).
BOT_SECRET_KEYS = frozenset({"api_key"})


def boolean(raw: object) -> bool:
    """A YAML boolean, or its spelling in an environment variable."""
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in ("true", "yes", "on", "1"):
        return True
    if word in ("false", "no", "off", "0"):
        return False
    raise ValueError(word)


# Top-level keys; each may also be set by WAGATE_<KEY> in the environment.
_SERVER_KEYS: dict[str, Callable[[Any], Any]] = {
    "http_host": str,
    "http_port": int,
    "grpc_port": int,
    "database_url": str,
    "redis_url": str,
    # Processes sharing the ports (`wagate serve --workers N` overrides it).
    "workers": int,
    "log_level": str,
    # text | json; unset: text when stderr is a terminal, JSON otherwise.
    "log_format": str,
    # One log line per HTTP request (method, route, status, duration, tenant).
    "access_log": boolean,
    # Realtime (Socket.IO, event streams): the HMAC key of realtime tokens (replicas
    # must share it; unset means a random key per process), and the per-client buffer.
    "realtime_secret": str,
    "realtime_buffer": int,
    # Webhooks acknowledged and not applied yet, above which new ones are refused with
    # 503 and Retry-After so the provider retries later (0: no bound).
    "max_backlog": int,
    # Seconds a send's attempt is leased to the process making it; when that process
    # dies, another replica sends again after it (longer than a provider call lasts).
    "send_lease": float,
    # Media fetched for GET /api/v1/messages/{id}/media: where it is cached, and how much.
    "media_cache_dir": str,
    "media_cache_mb": int,
    # Encrypts the secrets the admin API stores (gateway/admin/secrets.py): "k1[,k2...]",
    # the first encrypts, every one decrypts (rotation).
    "secret_key": str,
}
# `admin_keys: [...]`: bearer tokens of the admin API, beside WAGATE_ADMIN_KEY.
_TOP_KEYS = {*_SERVER_KEYS, "tenants", "admin_keys"}
LOG_FORMATS = ("text", "json")
REDIS_SCHEMES = ("redis", "rediss", "unix")
_TENANT_KEYS = {"id", "api_keys", "channels", "bots", "timezone"}
# Keys every channel accepts, whatever its provider.
# `simulator: true` makes the channel a simulated one (gateway/simulator.py): its
# provider API is an in-process fake, and the console can play its customers.
_CHANNEL_COMMON = {"id", "provider", "rate_limit", "simulator"}
SIMULATED_PROVIDERS = ("meta_cloud", "qr_session")

DEFAULT_RATE_LIMIT = 80.0


@dataclass(frozen=True)
class ChannelConfig:
    id: str
    provider: str
    settings: dict[str, Any]
    rate_limit: float = DEFAULT_RATE_LIMIT
    simulator: bool = False


@dataclass(frozen=True)
class TenantConfig:
    id: str
    api_keys: tuple[str, ...]
    channels: tuple[ChannelConfig, ...]
    bots: tuple[PluginConfig, ...] = ()
    timezone: str = "UTC"


@dataclass(frozen=True)
class Settings:
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    grpc_port: int = 50051
    database_url: str = "sqlite://data/wagate.sqlite3"
    redis_url: str | None = None
    workers: int = 1
    log_level: str = "info"
    log_format: str | None = None
    access_log: bool = True
    realtime_secret: str | None = field(default=None, repr=False)
    realtime_buffer: int = 1000
    max_backlog: int = 100_000
    send_lease: float = 60.0
    media_cache_dir: str = "data/media-cache"
    media_cache_mb: int = 256
    secret_key: str | None = field(default=None, repr=False)
    tenants: tuple[TenantConfig, ...] = ()
    # Admin API keys (WAGATE_ADMIN_KEY and `admin_keys:`); none: the admin API is absent.
    admin_keys: tuple[str, ...] = field(default=(), repr=False)
    demo: bool = False
    # Every secret value in the config, so the log formatter can mask it.
    secrets: frozenset[str] = field(default=frozenset(), repr=False)


def _child(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _expand(value: Any, where: str, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in env or env[name] == "":
                raise ConfigError(f"{where}: environment variable {name} is not set")
            return env[name]

        return _VAR.sub(sub, value)
    if isinstance(value, list):
        return [_expand(v, f"{where}[{i}]", env) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _expand(v, _child(where, str(k)), env) for k, v in value.items()}
    return value


def _check_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in data:
        if key not in allowed:
            raise ConfigError(f"{where or 'top level'}: unknown key '{key}'")


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping")
    return value


def channel_config(raw: Any, where: str, secrets: set[str]) -> ChannelConfig:
    """One channel of a tenant's `channels:` list, validated; its secrets added to `secrets`.

    `where` is the channel's path (`tenants[0].channels[1]`), or "" for a channel that
    is a document of its own (the admin API's body): messages then start with its key.
    """
    data = _mapping(raw, where or "channel")
    cid = str(data.get("id") or "")
    if not _CHANNEL_ID.match(cid):
        raise ConfigError(f"{_child(where, 'id')}: missing or invalid channel id '{cid}'")
    kind = data.get("provider")
    if not kind:
        raise ConfigError(f"{_child(where, 'provider')}: missing key 'provider'")
    settings = {k: v for k, v in data.items() if k not in _CHANNEL_COMMON}
    try:
        cls = provider_class(str(kind))
        cls.from_channel(cid, settings)  # validates keys and secrets
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}" if where else str(exc)) from None
    secrets.update(str(settings[k]) for k in cls.secret_settings if settings.get(k))
    try:
        rate = float(data.get("rate_limit", DEFAULT_RATE_LIMIT))
    except (TypeError, ValueError):
        raise ConfigError(f"{_child(where, 'rate_limit')}: expected a number") from None
    if rate <= 0:
        raise ConfigError(f"{_child(where, 'rate_limit')}: must be positive")
    try:
        simulated = boolean(data.get("simulator", False))
    except ValueError:
        raise ConfigError(f"{_child(where, 'simulator')}: expected true or false") from None
    if simulated and kind not in SIMULATED_PROVIDERS:
        raise ConfigError(
            f"{_child(where, 'simulator')}: only {' and '.join(SIMULATED_PROVIDERS)} channels"
        )
    return ChannelConfig(
        id=cid, provider=str(kind), settings=settings, rate_limit=rate, simulator=simulated
    )


def check_tenant_id(raw: Any, where: str) -> str:
    """A tenant id as the file requires it; ConfigError naming `where` otherwise."""
    tid = str(raw or "") if isinstance(raw, str | int) or raw is None else ""
    if not _TENANT_ID.match(tid) or len(tid) > TENANT_ID_MAX:
        raise ConfigError(f"{where}: tenant id '{tid}' must match [a-z0-9-]+")
    return tid


def bots_config(raw: Any, where: str, secrets: set[str]) -> tuple[PluginConfig, ...]:
    """A tenant's `bots:` list, validated; its secrets added to `secrets`."""
    if not isinstance(raw, list) or not all(isinstance(b, dict) for b in raw):
        raise ConfigError(f"{where}: expected a list of mappings")
    parsed = parse_bots(where, raw)  # raises ConfigError naming the flow and node
    secrets.update(str(b[k]) for b in raw for k in BOT_SECRET_KEYS if b.get(k))
    return parsed


def _tenant(raw: Any, where: str, secrets: set[str]) -> TenantConfig:
    data = _mapping(raw, where)
    _check_keys(data, _TENANT_KEYS, where)
    tid = check_tenant_id(data.get("id"), f"{where}.id")
    keys = data.get("api_keys") or []
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
        raise ConfigError(f"{where}.api_keys: missing secret 'api_keys' (a list of keys)")
    secrets.update(keys)
    channels = data.get("channels") or []
    if not isinstance(channels, list):
        raise ConfigError(f"{where}.channels: expected a list")
    parsed = bots_config(data.get("bots") or [], f"{where}.bots", secrets)
    return TenantConfig(
        id=tid,
        api_keys=tuple(keys),
        channels=tuple(
            channel_config(c, f"{where}.channels[{i}]", secrets) for i, c in enumerate(channels)
        ),
        bots=parsed,
        timezone=str(data.get("timezone", "UTC")),
    )


def build_settings(
    data: Mapping[str, Any] | None, env: Mapping[str, str] | None = None, *, demo: bool = False
) -> Settings:
    """Validate a config mapping (already parsed YAML) and apply environment overrides."""
    env = os.environ if env is None else env
    data = _expand(dict(data or {}), "", env)
    _check_keys(data, _TOP_KEYS, "")
    values: dict[str, Any] = {}
    for key, typ in _SERVER_KEYS.items():
        raw = env.get(f"WAGATE_{key.upper()}") or data.get(key)
        if raw is None or raw == "":
            continue
        try:
            values[key] = typ(raw)
        except ValueError:
            raise ConfigError(
                f"{key}: expected {getattr(typ, '__name__', 'a value')}, got '{raw}'"
            ) from None
    secrets: set[str] = set()
    tenants_raw = data.get("tenants") or []
    if not isinstance(tenants_raw, list):
        raise ConfigError("tenants: expected a list")
    tenants = tuple(_tenant(t, f"tenants[{i}]", secrets) for i, t in enumerate(tenants_raw))
    _check_unique(tenants)
    if "redis_url" in values:
        secrets.add(values["redis_url"])
        if values["redis_url"].split("://", 1)[0] not in REDIS_SCHEMES:
            raise ConfigError("redis_url: expected a redis://, rediss:// or unix:// URL")
    if "realtime_secret" in values:
        secrets.add(values["realtime_secret"])
    if values.get("log_format", "text") not in LOG_FORMATS:
        raise ConfigError(f"log_format: expected text or json, got '{values['log_format']}'")
    if values.get("realtime_buffer", 1) < 1:
        raise ConfigError("realtime_buffer: must be at least 1")
    if values.get("max_backlog", 0) < 0:
        raise ConfigError("max_backlog: must be 0 (no bound) or more")
    if values.get("send_lease", 1) <= 0:
        raise ConfigError("send_lease: must be more than 0 seconds")
    if "database_url" in values and "@" in values["database_url"]:
        secrets.add(values["database_url"])
    if "secret_key" in values:
        secrets.add(values["secret_key"])
    admin_keys = _admin_keys(data.get("admin_keys"), env.get("WAGATE_ADMIN_KEY"))
    secrets.update(admin_keys)
    return Settings(
        **values, tenants=tenants, admin_keys=admin_keys, demo=demo, secrets=frozenset(secrets)
    )


def _admin_keys(raw: Any, env_key: str | None) -> tuple[str, ...]:
    """WAGATE_ADMIN_KEY, then `admin_keys:`."""
    if raw is None:
        raw = []
    if not isinstance(raw, list) or not all(isinstance(k, str) and k for k in raw):
        raise ConfigError("admin_keys: expected a list of keys")
    keys = [env_key, *raw] if env_key else raw
    return tuple(dict.fromkeys(keys))


def _check_unique(tenants: tuple[TenantConfig, ...]) -> None:
    seen_t: set[str] = set()
    seen_c: set[str] = set()
    seen_k: set[str] = set()
    for i, t in enumerate(tenants):
        if t.id in seen_t:
            raise ConfigError(f"tenants[{i}].id: duplicate tenant id '{t.id}'")
        seen_t.add(t.id)
        for j, c in enumerate(t.channels):
            if c.id in seen_c:
                raise ConfigError(f"tenants[{i}].channels[{j}].id: duplicate channel id '{c.id}'")
            seen_c.add(c.id)
        for k in t.api_keys:
            if k in seen_k:
                raise ConfigError(f"tenants[{i}].api_keys: an api key is also another tenant's")
            seen_k.add(k)


def load_settings(path: str | Path | None, env: Mapping[str, str] | None = None) -> Settings:
    """Load `path` (or WAGATE_CONFIG); with neither, return settings for the demo."""
    env = os.environ if env is None else env
    path = path or env.get("WAGATE_CONFIG")
    if not path:
        return build_settings({}, env, demo=True)
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path}: {_yaml_problem(exc)}") from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a mapping at the top")
    return build_settings(data, env)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """`invalid YAML at line 3, column 7: <what the parser found>`, counted from 1 as editors do."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or exc.__class__.__name__
    if mark is None:
        return f"invalid YAML: {problem}"
    return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"
