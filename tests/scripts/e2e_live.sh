#!/usr/bin/env bash
# Browser end-to-end test of the live classroom (tests/e2e/live_class.mjs): the release
# binary, its pages in headless Chromium through playwright-core (installed here from the
# committed package-lock.json), screenshots into build/e2e/ (E2E_SHOTS_DIR=docs/screenshots
# refreshes the ones in the docs). Non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/../e2e"
command -v node >/dev/null || { echo "e2e_live: node is missing (scripts/install-deps.sh test)" >&2; exit 1; }
[ -x /usr/bin/chromium ] || [ -n "${CHROMIUM:-}" ] || { echo "e2e_live: chromium is missing" >&2; exit 1; }
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
exec timeout 300 node live_class.mjs
