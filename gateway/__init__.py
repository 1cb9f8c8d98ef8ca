"""The application: composition root, config, webhooks, ingest, outbox, REST and gRPC APIs,
bots and the `wagate` CLI. See docs/architecture.md for how the pieces fit.
"""
