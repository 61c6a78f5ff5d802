#!/usr/bin/env bash
# `npm run bench[:name]`: each benchmark sets up what it needs, measures its own ceiling in the
# same run and prints its result as its last line (BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  names=()
  for f in test/bench/*.bench.ts; do names+=("$(basename "$f" .bench.ts)"); done
fi
for name in "${names[@]}"; do
  node "test/bench/$name.bench.ts"
done
