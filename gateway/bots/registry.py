"""Bot plugin discovery through the `wagate.bots` entry-point group.

The host names no plugin: a new bot plugin is one package plus one entry point,
like a provider (providers/registry.py).
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

from core.errors import ConfigError
from gateway.bots.base import ConfiguredPlugin

GROUP = "wagate.bots"

PluginClass = type[ConfiguredPlugin[Any]]


@cache
def plugin_classes() -> dict[str, PluginClass]:
    found: dict[str, PluginClass] = {}
    for ep in entry_points(group=GROUP):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, ConfiguredPlugin)):
            raise TypeError(f"entry point {ep.name} is not a ConfiguredPlugin subclass")
        found[ep.name] = cls
    return found


def plugin_class(where: str, name: Any) -> PluginClass:
    classes = plugin_classes()
    if not isinstance(name, str) or name not in classes:
        known = ", ".join(sorted(classes)) or "none"
        raise ConfigError(f"{where}: unknown plugin '{name}' (installed: {known})")
    return classes[name]
