"""A tenant's `bots:` list, parsed once when the gateway loads its configuration.

Each entry names its plugin (`plugin:`), found in the `wagate.bots` entry-point
group; the plugin declares its keys and parses them. Errors are `ConfigError`s
with one line that names the tenant and the entry, e.g.
`tenants[0].bots[1]: unknown key 'tone'`.
"""

from __future__ import annotations

from typing import Any

from core.errors import ConfigError
from gateway.bots.common import COMMON_KEYS, PluginConfig, check_keys, common_values
from gateway.bots.registry import plugin_class


def parse_bots(where: str, bots: Any) -> tuple[PluginConfig, ...]:
    """Validate a tenant's `bots:` list; raises ConfigError naming what is wrong."""
    if not isinstance(bots, (list, tuple)):
        raise ConfigError(f"{where}: expected a list of mappings")
    out = []
    names: set[str] = set()
    for i, raw in enumerate(bots):
        here = f"{where}[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{here}: expected a mapping")
        cls = plugin_class(here, raw.get("plugin"))
        check_keys(here, raw, COMMON_KEYS | cls.keys)
        own = cls.parse(here, raw)
        cfg = cls.config(**common_values(here, raw, i), **own)
        if cfg.name in names:
            raise ConfigError(f"{here}: duplicate plugin name '{cfg.name}'")
        names.add(cfg.name)
        out.append(cfg)
    return tuple(out)
