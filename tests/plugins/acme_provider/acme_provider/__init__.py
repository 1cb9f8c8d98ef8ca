"""Acme Messaging: a fictional provider that exists to prove the plugin interface."""
