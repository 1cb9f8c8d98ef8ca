"""Every Prometheus metric wagate exports (text format at `GET /metrics`), in one place.

At the bottom of the import graph beside core.errors, so that any layer (storage,
realtime, providers' callers, bots) records a measurement with a one-line call and
imports nothing upward. docs/metrics.md says what each one means and how to read it;
grafana/wagate.json charts them. Label values are bounded sets (route patterns,
provider kinds, outcomes), never ids or free text.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()

# Latency buckets in seconds: from a cached lookup to a provider call that times out.
_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_AI_SECONDS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)


def _counter(name: str, doc: str, *labels: str) -> Counter:
    return Counter(name, doc, labels, registry=REGISTRY)


def _gauge(name: str, doc: str, *labels: str) -> Gauge:
    return Gauge(name, doc, labels, registry=REGISTRY)


def _histogram(
    name: str, doc: str, *labels: str, buckets: tuple[float, ...] = _SECONDS
) -> Histogram:
    return Histogram(name, doc, labels, buckets=buckets, registry=REGISTRY)


# -- HTTP ---------------------------------------------------------------------------------

HTTP_REQUEST_SECONDS = _histogram(
    "wagate_http_request_duration_seconds",
    "HTTP requests by method, route pattern and status, from the request to the response",
    *("method", "route", "status"),
)

# -- webhooks and ingest (after the ack) --------------------------------------------------

WEBHOOKS = _counter(
    "wagate_webhooks_total",
    "Webhook deliveries by provider and outcome "
    "(accepted, bad_signature, bad_payload, unknown_channel, backlog, unrecorded)",
    *("provider", "outcome"),
)
INGEST_BACKLOG_ROWS = _gauge(
    "wagate_ingest_backlog_rows",
    "Webhook deliveries acknowledged and not applied yet (read at scrape time)",
)
INGEST_BACKLOG_AGE = _gauge(
    "wagate_ingest_backlog_oldest_age_seconds",
    "Age of the oldest acknowledged delivery not applied yet; 0 when none waits",
)
INGEST_APPLY_SECONDS = _histogram(
    "wagate_ingest_apply_seconds",
    "One batch of deliveries applied: its events stored and the rows marked done",
)

# -- sending ------------------------------------------------------------------------------

SENDS = _counter(
    "wagate_sends_total",
    "Send attempts by provider, status (sent, retrying, failed) and error class "
    "(retryable, rate_limited, permanent, auth_expired; empty when sent)",
    *("provider", "status", "error_class"),
)
PROVIDER_CALL_SECONDS = _histogram(
    "wagate_provider_call_seconds",
    "Calls to a provider's API by provider and operation (send, mark_read, typing)",
    *("provider", "operation"),
)
OUTBOX_PENDING = _gauge(
    "wagate_outbox_pending",
    "Outbound messages stored and not yet accepted by their provider (read at scrape time)",
)
OUTBOX_RETRIES = _counter(
    "wagate_outbox_retries_total",
    "Sends scheduled for another attempt after a retryable failure, by provider",
    "provider",
)

# -- realtime -----------------------------------------------------------------------------

SOCKETIO_CONNECTIONS = _gauge(
    "wagate_socketio_connections", "Socket.IO clients connected to this process"
)
GRPC_STREAMS = _gauge(
    "wagate_grpc_streams", "Open gRPC streams by method (event streams, remote bots)", "method"
)

# -- bots ---------------------------------------------------------------------------------

BOT_RUNS = _counter(
    "wagate_bot_runs_total",
    "Turns offered to a bot plugin, by plugin name and outcome (handled, pass, handoff, error)",
    *("plugin", "outcome"),
)
REMOTE_BOTS = _gauge(
    "wagate_remote_bots",
    "Remote bots connected to any replica, as this process's bot chains see them, by tenant",
    "tenant",
)
REMOTE_BOT_TURNS = _gauge(
    "wagate_remote_bot_turns",
    "Turns this process's bot chains hold on a remote bot: waiting for its reply or acting on it",
)
AI_REQUEST_SECONDS = _histogram(
    "wagate_ai_request_seconds",
    "Model calls of the ai plugin by provider, model and outcome (ok, error)",
    *("provider", "model", "outcome"),
    buckets=_AI_SECONDS,
)
AI_TOKENS = _counter(
    "wagate_ai_tokens_total",
    "Tokens of the ai plugin's model calls by provider, model and direction (input, output)",
    *("provider", "model", "direction"),
)
AI_BREAKER_OPEN = _gauge(
    "wagate_ai_breaker_open",
    "1 while the ai plugin's breaker of a tenant's model is open (calls skipped), else 0",
    *("tenant", "provider", "model"),
)
