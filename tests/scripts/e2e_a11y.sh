#!/usr/bin/env bash
# Accessibility pass (tests/e2e/a11y.mjs): axe-core through @axe-core/playwright on the
# teacher and student pages, in English and Chinese, against the release binary in headless
# Chromium. Fails on any serious or critical violation.
set -euo pipefail
cd "$(dirname "$0")/../e2e"
. ../scripts/lib/tools.sh
need_tool e2e_a11y NODE "scripts/install-deps.sh test" node nodejs
need_tool e2e_a11y NPM "scripts/install-deps.sh test" npm
need_tool e2e_a11y CHROMIUM "scripts/install-deps.sh test" chromium chromium-browser
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/@axe-core/playwright ]; then
  "$NPM" ci --no-audit --no-fund --loglevel=error
fi
exec timeout 300 "$NODE" a11y.mjs
