# Sourced by tests/scripts/*.sh: finding the external tools a test needs (they cannot be
# vendored: Chromium, node/npm, promtool, later a WasmEdge runtime).
#
# A tool is looked up in its documented variable first (CHROMIUM, NODE, NPM, PROMTOOL), then on
# PATH under its usual names. When it is missing, the test is skipped, never silently: it
# prints "SKIP <test>: <why>" and exits 77, which scripts/test.sh counts and lists as skipped.
# EDGECLASS_REQUIRE_TOOLS=1 makes a missing tool a failure instead (for a machine that is
# supposed to have everything, e.g. after scripts/install-deps.sh test).
EDGECLASS_SKIP=77

# skip_test NAME REASON: skip (exit 77) or, with EDGECLASS_REQUIRE_TOOLS=1, fail (exit 1).
skip_test() {
  if [ "${EDGECLASS_REQUIRE_TOOLS:-0}" = 1 ]; then
    echo "FAIL $1: $2 (EDGECLASS_REQUIRE_TOOLS=1)" >&2
    exit 1
  fi
  echo "SKIP $1: $2"
  exit $EDGECLASS_SKIP
}

# find_tool VAR NAME... : prints the tool's path: $VAR if set (it must be executable), else
# the first NAME found on PATH. Returns 1 when there is none.
find_tool() {
  local var=$1 name path
  shift
  path=${!var:-}
  if [ -n "$path" ]; then
    [ -x "$path" ] || path=$(command -v "$path" 2>/dev/null) || return 1
    echo "$path"
    return 0
  fi
  for name in "$@"; do
    path=$(command -v "$name" 2>/dev/null) && { echo "$path"; return 0; }
  done
  return 1
}

# need_tool TEST VAR HINT NAME...: sets VAR to the tool's path (exported), or skips TEST.
need_tool() {
  local test=$1 var=$2 hint=$3 path
  shift 3
  path=$(find_tool "$var" "$@") ||
    skip_test "$test" "$1 not found (set $var or put one of [$*] on PATH; $hint)"
  export "$var=$path"
}
