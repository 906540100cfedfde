#!/usr/bin/env bash
# Browser end-to-end test of one live class across a city's replicas (tests/e2e/city_live.mjs):
# a real redis-server and three release binaries on loopback, the teacher's page on the
# course's home, the students' pages on the two other replicas, in headless Chromium through
# playwright-core (chat, hands, quiz, resume, and video: the students decode the teacher's
# camera from their own replica's SFU, relayed once per replica from the home's SFU and counted
# in /metrics, and a student on another replica publishes on stage to the home). Skips visibly
# when redis-server, node or Chromium is missing.
set -euo pipefail
cd "$(dirname "$0")/../e2e"
. ../scripts/lib/tools.sh
command -v redis-server >/dev/null || skip_test e2e_city "redis-server is not installed (scripts/install-deps.sh test)"
need_browser e2e_city
exec timeout 300 "$NODE" city_live.mjs
