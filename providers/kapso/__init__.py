"""Kapso provider: Kapso event webhooks and Meta-forwarded payloads in, Kapso's
Meta-compatible proxy out."""
