#!/usr/bin/env bash
# Browser end-to-end test of the teacher's everyday tools in both languages
# (tests/e2e/teacher_day.mjs): class code and invite link, joining by code, the live roster
# with mute/stage/remove, attendance, the gradebook download, the language switch. The
# release binary, its pages in headless Chromium through playwright-core; screenshots into
# build/e2e/ (E2E_SHOTS_DIR=docs/screenshots refreshes the ones in the docs).
set -euo pipefail
cd "$(dirname "$0")/../e2e"
. ../scripts/lib/tools.sh
need_browser e2e_teacher
exec timeout 300 "$NODE" teacher_day.mjs
