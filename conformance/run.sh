#!/usr/bin/env bash
# GraphQL-over-HTTP conformance: starts the server on a fresh embedded database with the demo
# (anonymous reads on), runs the graphql-http server audit against it, and fails when any
# MUST or SHOULD audit fails. Usage: conformance/run.sh [path/to/portfolio]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-${CARGO_TARGET_DIR:-$here/../target}/debug/portfolio}"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" --database-url "sqlite://$work/audit.db?mode=rwc" serve --demo --bind "127.0.0.1:$port" \
  >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
if [ ! -d "$here/node_modules/graphql-http" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --silent)
fi
node "$here/audit.mjs" "http://127.0.0.1:$port/graphql"
