"""Prometheus metrics (text format at GET /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

REGISTRY = CollectorRegistry()

WEBHOOKS = Counter(
    "wagate_webhooks_total",
    "Webhook deliveries by provider and outcome",
    ["provider", "outcome"],
    registry=REGISTRY,
)
SENDS = Counter(
    "wagate_sends_total", "Outbound send attempts by outcome", ["outcome"], registry=REGISTRY
)
