#!/usr/bin/env bash
# Browser end-to-end test of live video (tests/e2e/live_video.mjs): the release binary with
# its SFU on a random UDP port on 127.0.0.1, the teacher's fake camera to three students (a
# frozen camera shown as a stall and recovered), then a student on stage to the others and the
# teacher, then a shared screen next to the camera, the device pickers and the end of the
# session (every track released), in headless Chromium, asserted from getStats(). Non-zero on
# failure.
set -euo pipefail
cd "$(dirname "$0")/../e2e"
. ../scripts/lib/tools.sh
need_browser e2e_video
exec timeout 300 "$NODE" live_video.mjs
