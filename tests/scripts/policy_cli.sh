#!/usr/bin/env bash
# The policy CLI on the default policies: unit tests (`edgeclass policy test`) and an eval.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=build/release/edgeclass
"$BIN" policy test policies
out=$("$BIN" policy eval -d policies -i <(echo '{"action":"join","user":{"role":"student"},"course":{"status":"active","capacity":2,"enrolled":2,"students":["s1","s2"]}}') data.education.allow)
echo "$out"
[ "$out" = '{"result":[{"expressions":[{"value":false,"text":"data.education.allow"}]}]}' ]
# A failing test must fail the command.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp policies/education.rego "$tmp/"
printf 'package t\nimport rego.v1\ntest_wrong if data.education.allow with input as {"action": "join"}\n' >"$tmp/t_test.rego"
if "$BIN" policy test "$tmp" >/dev/null; then echo "a failing Rego test did not fail" >&2; exit 1; fi
# Capabilities in OPA's format: JSON with the builtins we claim (the full diff against OPA's
# file is tests/policy/capabilities_test.cc).
"$BIN" policy capabilities >"$tmp/caps.json"
python3 - "$tmp/caps.json" <<'PY'
import json, sys
caps = json.load(open(sys.argv[1]))
names = {b["name"]: b for b in caps["builtins"]}
assert len(names) >= 190, len(names)
assert names["plus"]["infix"] == "+", names["plus"]
assert names["count"]["decl"]["result"] == {"type": "number"}, names["count"]
assert "test.sleep" not in names
PY
echo "policy CLI ok"
