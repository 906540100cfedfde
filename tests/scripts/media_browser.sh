#!/usr/bin/env bash
# The SFU with real Chromium: tests/media/browser/run.sh against the release build (publish,
# subscribe, decode, continuity across a teacher reload), in a private network namespace.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v node >/dev/null || { echo "media_browser: node is missing (scripts/install-deps.sh test)" >&2; exit 1; }
[ -x /usr/bin/chromium ] || { echo "media_browser: chromium is missing" >&2; exit 1; }
exec timeout 300 tests/media/browser/run.sh build/release
