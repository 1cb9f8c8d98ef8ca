"""Plugin discovery through entry-point groups: providers (`wagate.providers`) here,
bot plugins (`wagate.bots`) in gateway/bots/registry.py.

Core code names no provider: a new provider is one package plus one entry point.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from providers.base import ConfigError, Provider

GROUP = "wagate.providers"


def load_group(group: str, base: type) -> dict[str, type[Any]]:
    """The classes the entry points of `group` name, by entry-point name; each
    subclasses `base`."""
    found: dict[str, type[Any]] = {}
    for ep in entry_points(group=group):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise TypeError(f"entry point {ep.name} is not a {base.__name__} subclass")
        found[ep.name] = cls
    return found


def unknown(what: str, name: object, installed: Mapping[str, object]) -> str:
    """The config error for a name no entry point has: `unknown provider 'x' (installed: ...)`."""
    return f"unknown {what} '{name}' (installed: {', '.join(sorted(installed)) or 'none'})"


@cache
def provider_classes() -> dict[str, type[Provider]]:
    return load_group(GROUP, Provider)


def provider_class(kind: str) -> type[Provider]:
    classes = provider_classes()
    if kind not in classes:
        raise ConfigError(unknown("provider", kind, classes))
    return classes[kind]


def provider_for_webhook(slug: str) -> type[Provider] | None:
    """The provider whose `webhook_slug` is `slug` (the `/webhooks/<slug>/...` path)."""
    return next((c for c in provider_classes().values() if c.webhook_slug == slug), None)
