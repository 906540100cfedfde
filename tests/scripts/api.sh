#!/usr/bin/env bash
# REST API end-to-end tests (Python stdlib unittest) against a real binary: EDGECLASS_BIN
# (absolute, or relative to the checkout), default build/release/edgeclass. The sanitizer job
# (tests/scripts/asan.sh) runs them against build/asan/edgeclass.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${EDGECLASS_BIN:-build/release/edgeclass}
[ -x "$bin" ] || { echo "api.sh: no edgeclass binary at $bin (build it, or set EDGECLASS_BIN)" >&2; exit 1; }
export EDGECLASS_BIN=$(realpath "$bin")
cd tests/api
exec python3 -m unittest -v test_api test_hostile test_live_room test_teacher test_bundles test_request_path_hostile test_live_hostile 2>&1
