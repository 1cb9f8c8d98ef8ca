"""Acme Parrot: a fictional bot plugin that exists to prove the plugin interface."""
