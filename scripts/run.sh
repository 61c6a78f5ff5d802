#!/usr/bin/env bash
# Entry point of every npm script: installs the pinned toolchain and dependencies (idempotently),
# then runs the requested task with Node 24 first on PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=toolchain.sh
source "$ROOT/scripts/toolchain.sh"

install_deps() {
  local stamp="node_modules/.install-stamp"
  local want
  want="$(cat pnpm-lock.yaml package.json pnpm-workspace.yaml */*/package.json schemas/package.json test/package.json 2>/dev/null | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "run: installing dependencies with pnpm" >&2
    if [ -n "${CI:-}" ]; then pnpm install --frozen-lockfile >&2; else pnpm install >&2; fi
    echo "$want" > "$stamp"
  fi
}

task="${1:-}"
shift || true
case "$task" in
  start)
    install_deps
    exec node services/embedded/src/main.ts "$@"
    ;;
  test)
    install_deps
    exec bash scripts/test.sh "$@"
    ;;
  bench)
    install_deps
    exec bash scripts/bench.sh "$@"
    ;;
  exec)
    install_deps
    exec "$@"
    ;;
  *)
    echo "usage: scripts/run.sh start|test|bench [name]|exec <command...>" >&2
    exit 2
    ;;
esac
