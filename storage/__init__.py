"""Persistence: the tortoise models and migrations, raw-SQL batch writes for the hot
paths (inbox, ingest, outbox), the event log, and the time conversions they share.
SQLite and PostgreSQL alike; docs/ingest.md describes the writer."""
