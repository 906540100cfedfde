#!/usr/bin/env bash
# Browser end-to-end test of live video (tests/e2e/live_video.mjs): the release binary with
# its SFU on a random UDP port on 127.0.0.1, the teacher's fake camera to three students and
# then a student on stage to the others and the teacher, in headless Chromium, asserted from
# getStats(). Non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/../e2e"
command -v node >/dev/null || { echo "e2e_video: node is missing (scripts/install-deps.sh test)" >&2; exit 1; }
[ -x /usr/bin/chromium ] || [ -n "${CHROMIUM:-}" ] || { echo "e2e_video: chromium is missing" >&2; exit 1; }
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
exec timeout 120 node live_video.mjs
