"""Versioned schema migrations (tortoise), applied in order at start; never edited once
released: a change is a new file (docs/contributing.md, "Migrations")."""
