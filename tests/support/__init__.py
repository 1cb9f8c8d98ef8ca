"""Test support: real processes (gateway, PostgreSQL) started on free ports."""
