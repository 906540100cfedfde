#!/usr/bin/env bash
# Browser end-to-end test of the live classroom (tests/e2e/live_class.mjs): the release
# binary, its pages in headless Chromium through playwright-core (installed here from the
# committed package-lock.json), screenshots into build/e2e/ (E2E_SHOTS_DIR=docs/screenshots
# refreshes the ones in the docs). Non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/../e2e"
. ../scripts/lib/tools.sh
need_tool e2e_live NODE "scripts/install-deps.sh test" node nodejs
need_tool e2e_live NPM "scripts/install-deps.sh test" npm
need_tool e2e_live CHROMIUM "scripts/install-deps.sh test" chromium chromium-browser
if [ ! -d node_modules/playwright-core ]; then
  "$NPM" ci --no-audit --no-fund --loglevel=error
fi
exec timeout 300 "$NODE" live_class.mjs
