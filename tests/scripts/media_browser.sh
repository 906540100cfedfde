#!/usr/bin/env bash
# The SFU with real Chromium: tests/media/browser/run.sh against the release build (publish,
# subscribe, decode, continuity across a teacher reload), in a private network namespace.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/scripts/lib/tools.sh
need_tool media_browser NODE "scripts/install-deps.sh test" node nodejs
need_tool media_browser NPM "scripts/install-deps.sh test" npm
need_tool media_browser CHROMIUM "scripts/install-deps.sh test" chromium chromium-browser
command -v unshare >/dev/null && command -v ip >/dev/null ||
  skip_test media_browser "unshare or ip not found (util-linux, iproute2)"
exec timeout 300 tests/media/browser/run.sh build/release
