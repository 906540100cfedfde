#!/usr/bin/env bash
# HTTPS and WSS on the public listener (tests/api/test_tls.py, and hostile clients in
# test_tls_hostile.py): python's ssl module and `openssl s_client` against the real binary on
# 127.0.0.1, certificates from `edgeclass cert`.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/scripts/lib/tools.sh
command -v openssl >/dev/null || skip_test tls.sh "openssl (the command-line client) is not installed"
bin=${EDGECLASS_BIN:-build/release/edgeclass}
[ -x "$bin" ] || { echo "tls.sh: no edgeclass binary at $bin" >&2; exit 1; }
export EDGECLASS_BIN=$(realpath "$bin")
cd tests/api
exec python3 -m unittest -v test_tls test_tls_hostile 2>&1
