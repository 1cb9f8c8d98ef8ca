"""Provider adapters: each turns one provider's wire format into wagate.v1 and back.

One package per provider, registered through the `wagate.providers` entry-point group
(registry.py), so the gateway names none of them. docs/providers.md describes the
providers that ship and how to add one.
"""
