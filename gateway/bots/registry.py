"""Bot plugin discovery through the `wagate.bots` entry-point group.

The host names no plugin: a new bot plugin is one package plus one entry point,
like a provider (providers/registry.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from core.errors import ConfigError
from gateway.bots.base import ConfiguredPlugin
from providers.registry import load_group, unknown

GROUP = "wagate.bots"

PluginClass = type[ConfiguredPlugin[Any]]


@cache
def plugin_classes() -> dict[str, PluginClass]:
    return load_group(GROUP, ConfiguredPlugin)


def plugin_class(where: str, name: Any) -> PluginClass:
    classes = plugin_classes()
    if not isinstance(name, str) or name not in classes:
        raise ConfigError(f"{where}: {unknown('plugin', name, classes)}")
    return classes[name]
