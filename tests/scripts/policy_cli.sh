#!/usr/bin/env bash
# The policy CLI on the default policies: unit tests (`edgeclass policy test`) and an eval.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=build/release/edgeclass
"$BIN" policy test policies
out=$("$BIN" policy eval -d policies -i <(echo '{"action":"join","user":{"role":"student"},"course":{"status":"active","capacity":2,"enrolled":2}}') data.edgeclass.allow)
echo "$out"
[ "$out" = '{"result":[{"expressions":[{"value":false,"text":"data.edgeclass.allow"}]}]}' ]
# A failing test must fail the command.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp policies/education.rego "$tmp/"
printf 'package t\nimport rego.v1\ntest_wrong if data.edgeclass.allow with input as {"action": "join"}\n' >"$tmp/t_test.rego"
if "$BIN" policy test "$tmp" >/dev/null; then echo "a failing Rego test did not fail" >&2; exit 1; fi
echo "policy CLI ok"
