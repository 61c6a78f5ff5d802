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
step "tests (vitest: unit, integration, e2e)"
mkdir -p .cache
status=0
vitest run --reporter=default --reporter=json --outputFile.json=.cache/vitest-report.json "$@" || status=$?
node scripts/summary.ts .cache/vitest-report.json || true
exit $status
