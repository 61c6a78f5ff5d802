#!/usr/bin/env bash
# `npm test`: typecheck, lint, format check, schema drift, then unit + integration + e2e tests.
# Called by scripts/run.sh with the pinned toolchain on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*"; }

step "typecheck (tsc -b)"
tsc -b
step "lint (eslint)"
eslint --max-warnings 0 .
step "format (prettier --check)"
prettier --check --log-level warn .
if [ -f schemas/src/generate.ts ]; then
  step "schema drift (schemas/json)"
  node schemas/src/generate.ts --check
fi
step "unit tests (vitest --project unit)"
mkdir -p .cache
status=0
vitest run --project unit --reporter=default --reporter=json --outputFile.json=.cache/vitest-unit.json "$@" || status=$?
step "integration and e2e tests on real PostgreSQL and Kafka (vitest --project integration)"
# One PostgreSQL and one Kafka for the whole run, owned by this script (not by a test worker):
# found from DATABASE_URL / KAFKA_BROKERS, a container runtime, or started as local processes.
state=.cache/infra.json
node packages/testkit/src/infraServer.ts "$state" &
infra_pid=$!
trap 'kill -TERM $infra_pid 2>/dev/null; wait $infra_pid 2>/dev/null' EXIT
for _ in $(seq 1 600); do
  [ -s "$state" ] && break
  kill -0 $infra_pid 2>/dev/null || break
  sleep 0.5
done
if [ ! -s "$state" ] || grep -q '"error"' "$state"; then
  echo "test infrastructure did not start:" >&2
  [ -s "$state" ] && node -e 'console.error(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).error)' "$state" >&2
  exit 1
fi
DATABASE_URL="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).databaseUrl)' "$state")"
KAFKA_BROKERS="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).kafkaBrokers.join(","))' "$state")"
export DATABASE_URL KAFKA_BROKERS
vitest run --project integration --reporter=default --reporter=json --outputFile.json=.cache/vitest-integration.json "$@" || status=$?
node scripts/summary.ts .cache/vitest-unit.json .cache/vitest-integration.json || true
exit $status
