#!/usr/bin/env bash
# Browser end-to-end test of the live classroom (tests/e2e/live_class.mjs): the release
# binary, its pages in headless Chromium through playwright-core (installed here from the
# committed package-lock.json), screenshots into build/e2e/ (E2E_SHOTS_DIR=docs/screenshots
# refreshes the ones in the docs). Non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/../e2e"
. ../scripts/lib/tools.sh
need_browser e2e_live
exec timeout 300 "$NODE" live_class.mjs
