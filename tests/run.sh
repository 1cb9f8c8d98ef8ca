#!/usr/bin/env bash
# Runs the whole suite. Tests start what they need themselves: gateway processes,
# a throwaway PostgreSQL (initdb/pg_ctl in a temp dir), fake provider servers.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/pytest -q -p no:cacheprovider "$@"
