#!/usr/bin/env bash
# HTTP edge cases and resource limits against the release binary (tests/api/test_limits.py):
# Host, HEAD, connection limits with the probe reserve, EMFILE, first-byte deadline, live
# sockets per user.
set -euo pipefail
cd "$(dirname "$0")/../api"
exec python3 -m unittest -v test_limits 2>&1
