#!/usr/bin/env bash
# `make run`: starts the server on embedded defaults and prints where to point a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/release/edgeclass
[ -x "$BIN" ] || { echo "run: $BIN is missing; run 'make build'" >&2; exit 1; }
export EDGECLASS_DATA_DIR="${EDGECLASS_DATA_DIR:-./data}"
listen="${EDGECLASS_LISTEN:-127.0.0.1:8080}"
scheme=http
[ -n "${EDGECLASS_TLS_CERT:-}" ] && scheme=https  # README, "A class on a LAN (HTTPS)"
admin="${EDGECLASS_ADMIN_LISTEN:-127.0.0.1:9091}"
teacher=$("$BIN" token --sub teacher-1 --name "Teacher One" --role teacher --ttl 12h)
student=$("$BIN" token --sub student-1 --name "Student One" --role student --ttl 12h)
cat <<MSG

  edgeclass is starting on $scheme://$listen/  (data in $EDGECLASS_DATA_DIR)

  Teacher page:  $scheme://$listen/teacher.html#token=$teacher
  Student page:  $scheme://$listen/student.html#token=$student

  Teacher token: $teacher
  Try:  curl -H "Authorization: Bearer \$TOKEN" $scheme://$listen/api/v1/courses
  Metrics (admin listener): http://$admin/metrics
  More tokens:  $BIN token --sub ID --name NAME --role student|teacher|admin
  Stop with Ctrl-C.

MSG
exec "$BIN" serve
