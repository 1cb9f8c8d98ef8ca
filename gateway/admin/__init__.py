"""The admin API: runtime provisioning of tenants, keys, channels and bots (docs/admin.md)."""
