#!/usr/bin/env bash
# Install Microsoft's JS Voice Live SDK (@azure/ai-voicelive, pinned by
# tests/emulator/js/package-lock.json) from the npm registry for the emulator's JS
# conformance test. Needs Node.js 20+ and npm; without them it says what to install and
# carries on (that test then skips with the same message).
set -euo pipefail
dir="$(cd "$(dirname "$0")/.." && pwd)/tests/emulator/js"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "node-deps: node and npm not found; install Node.js 20+ (e.g. https://github.com/nodesource/distributions, or apt-get install nodejs npm on Debian 13), then run scripts/node-deps.sh" >&2
    exit 0
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
    echo "node-deps: Node.js $(node --version) is too old; the JS conformance test needs Node.js 20+" >&2
    exit 0
fi
if [ -f "$dir/node_modules/.package-lock.json" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    exit 0  # already installed from this lockfile
fi
if ! npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error; then
    # Not fatal for the rest of the install: the JS test then skips, naming this script.
    echo "node-deps: npm ci failed (is the npm registry reachable?); rerun scripts/node-deps.sh" >&2
    exit 0
fi
echo "node-deps: installed the JS SDK into $dir/node_modules"
