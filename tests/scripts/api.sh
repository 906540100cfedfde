#!/usr/bin/env bash
# REST API end-to-end tests against the release binary (Python stdlib unittest).
set -euo pipefail
cd "$(dirname "$0")/../api"
exec python3 -m unittest -v test_api test_hostile test_live_room 2>&1
