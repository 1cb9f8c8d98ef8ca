"""Provider discovery through the `wagate.providers` entry-point group.

Core code names no provider: a new provider is one package plus one entry point.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from providers.base import ConfigError, Provider

GROUP = "wagate.providers"


@cache
def provider_classes() -> dict[str, type[Provider]]:
    found: dict[str, type[Provider]] = {}
    for ep in entry_points(group=GROUP):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, Provider)):
            raise TypeError(f"entry point {ep.name} is not a Provider subclass")
        found[ep.name] = cls
    return found


def provider_class(kind: str) -> type[Provider]:
    classes = provider_classes()
    if kind not in classes:
        known = ", ".join(sorted(classes)) or "none"
        raise ConfigError(f"unknown provider '{kind}' (installed: {known})")
    return classes[kind]


def provider_for_webhook(slug: str) -> type[Provider] | None:
    """The provider whose `webhook_slug` is `slug` (the `/webhooks/<slug>/...` path)."""
    return next((c for c in provider_classes().values() if c.webhook_slug == slug), None)
