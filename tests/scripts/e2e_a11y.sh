#!/usr/bin/env bash
# Accessibility pass (tests/e2e/a11y.mjs): axe-core through @axe-core/playwright on the
# teacher and student pages, in English and Chinese, against the release binary in headless
# Chromium. Fails on any serious or critical violation.
set -euo pipefail
cd "$(dirname "$0")/../e2e"
. ../scripts/lib/tools.sh
need_browser e2e_a11y @axe-core/playwright
exec timeout 300 "$NODE" a11y.mjs
