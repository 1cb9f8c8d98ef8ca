#!/usr/bin/env bash
# What the test suite needs from the machine besides Python: the venv module, Node.js and
# npm (the Node test clients, and buf for lint), and the PostgreSQL server binaries
# (initdb, pg_ctl, psql: tests start a throwaway server). Missing ones are installed with
# apt-get when running as root, as on CI; otherwise this names them and fails.
set -euo pipefail
python=${1:-python3}
missing=()
"$python" -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v npm >/dev/null || missing+=(nodejs npm)
command -v initdb >/dev/null || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null ||
	missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
	echo "installing ${missing[*]} (apt-get)"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
	echo "the tests need: ${missing[*]} (e.g. sudo apt-get install ${missing[*]})" >&2
	exit 1
fi
