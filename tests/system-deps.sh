#!/usr/bin/env bash
# usage: system-deps.sh PYTHON [node] [postgres] [chromium] [redis]
# What wagate needs from the machine besides Python itself: the venv module, and for the
# tests Node.js and npm (the Node test clients, and buf for lint) and the PostgreSQL server
# binaries (initdb, pg_ctl, psql: tests start a throwaway server), and Chromium for the
# console's browser tests (Playwright drives Debian's build), and redis-server (tests start
# a throwaway one for the Redis bus). Missing ones are
# installed with apt-get when running as root, as on CI; otherwise this names them and fails.
set -euo pipefail
python=$1
shift
missing=()
"$python" -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
for need in "$@"; do
	case $need in
	node) command -v npm >/dev/null || missing+=(nodejs npm) ;;
	postgres)
		command -v initdb >/dev/null || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null ||
			missing+=(postgresql)
		;;
	chromium) command -v chromium >/dev/null || missing+=(chromium) ;;
	redis) command -v redis-server >/dev/null || missing+=(redis-server) ;;
	*) echo "system-deps.sh: unknown need '$need'" >&2 && exit 2 ;;
	esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
	echo "installing ${missing[*]} (apt-get)"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
	echo "missing: ${missing[*]} (e.g. sudo apt-get install ${missing[*]})" >&2
	exit 1
fi
