#!/usr/bin/env bash
# Headless Chromium publishes to and subscribes from the real SFU over UDP on loopback, in a
# private network namespace, so no datagram can leave the machine. Chromium gathers ICE
# candidates when there is a default route, so the namespace routes everything to `lo`;
# --allow-loopback-in-peer-connection lets it use `lo`; the SFU listens on 127.0.0.1.
#   tests/media/browser/run.sh [BUILD_DIR]       (default build/release; runs in a new user+network namespace)
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${1:-build/release}
cmake --build "$BUILD" --target media_browser_harness >/dev/null
NODE_DIR=build/media-browser-node
if [ ! -d "$NODE_DIR/node_modules/playwright-core" ]; then
  "${NPM:-npm}" install --prefix "$NODE_DIR" --no-audit --no-fund --silent playwright-core@1.49.1 >/dev/null
fi
exec unshare -rn bash -c "ip link set lo up && ip route add default dev lo && NODE_PATH=$NODE_DIR/node_modules \
  ${NODE:-node} tests/media/browser/chromium_sfu.cjs $BUILD/tests/media/media_browser_harness"
