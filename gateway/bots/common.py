"""The keys every entry of a tenant's `bots:` list has, whatever its plugin.

A plugin's own config is a frozen dataclass that subclasses `PluginConfig`, so
the host and the plugin read one parsed object (see docs/bots.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from core.errors import ConfigError

COMMON_KEYS = frozenset({"plugin", "name", "priority", "channels"})


@dataclass(frozen=True)
class PluginConfig:
    plugin: str
    name: str
    priority: int
    channels: tuple[str, ...] = ()


def own_keys(config: type[PluginConfig]) -> frozenset[str]:
    """The keys a plugin's config takes besides the common ones: its dataclass fields."""
    return frozenset(f.name for f in fields(config)) - COMMON_KEYS


def check_keys(where: str, data: Mapping[str, Any], allowed: set[str] | frozenset[str]) -> None:
    for key in data:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key '{key}'")


def common_values(where: str, raw: Mapping[str, Any], index: int) -> dict[str, Any]:
    """`PluginConfig`'s fields; the default priority keeps the list's order (100, 200, ...)."""
    channels = raw.get("channels") or []
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise ConfigError(f"{where}.channels: expected a list of channel ids")
    try:
        priority = int(raw.get("priority", (index + 1) * 100))
    except (TypeError, ValueError):
        raise ConfigError(f"{where}.priority: expected an integer") from None
    return {
        "plugin": raw["plugin"],
        "name": str(raw.get("name") or raw["plugin"]),
        "priority": priority,
        "channels": tuple(channels),
    }
