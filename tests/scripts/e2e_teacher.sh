#!/usr/bin/env bash
# Browser end-to-end test of the teacher's everyday tools in both languages
# (tests/e2e/teacher_day.mjs): class code and invite link, joining by code, the live roster
# with mute/stage/remove, attendance, the gradebook download, the language switch. The
# release binary, its pages in headless Chromium through playwright-core; screenshots into
# build/e2e/ (E2E_SHOTS_DIR=docs/screenshots refreshes the ones in the docs).
set -euo pipefail
cd "$(dirname "$0")/../e2e"
. ../scripts/lib/tools.sh
need_tool e2e_teacher NODE "scripts/install-deps.sh test" node nodejs
need_tool e2e_teacher NPM "scripts/install-deps.sh test" npm
need_tool e2e_teacher CHROMIUM "scripts/install-deps.sh test" chromium chromium-browser
if [ ! -d node_modules/playwright-core ]; then
  "$NPM" ci --no-audit --no-fund --loglevel=error
fi
exec timeout 300 "$NODE" teacher_day.mjs
