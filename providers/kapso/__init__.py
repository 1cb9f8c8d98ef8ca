"""Kapso provider: Kapso event webhooks and Meta-forwarded payloads in, Kapso's
Meta-compatible proxy out (https://docs.kapso.ai/docs/platform/webhooks/overview).

Kapso runs on Meta's Cloud API, so the message objects inside its events and the proxy's
send bodies and errors are Meta's, handled by providers.meta_cloud.
"""
