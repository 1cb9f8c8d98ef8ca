#!/usr/bin/env bash
# Runs the suite (`make test`; `make test-fast` adds -m "not integration"); extra arguments
# go to pytest. Tests start what they need themselves: gateway processes, a throwaway
# PostgreSQL (initdb/pg_ctl in a temp dir), fake provider servers, Node clients. The test
# plugins are put on the path by tests/conftest.py (tests/support/plugins.py).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/pytest -q -p no:cacheprovider "$@"
