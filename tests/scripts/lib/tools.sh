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

# The browser tests' folder (tests/e2e), found from this file when it is sourced.
_tools_e2e_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../e2e" && pwd)

# need_browser TEST [MODULE...]: what a browser test (tests/e2e/*.mjs in headless Chromium)
# needs: NODE, NPM and CHROMIUM (else it skips TEST), and tests/e2e/node_modules installed
# from the committed package-lock.json when playwright-core or one of MODULEs is not there.
need_browser() {
  local test=$1 module
  shift
  need_tool "$test" NODE "scripts/install-deps.sh test" node nodejs
  need_tool "$test" NPM "scripts/install-deps.sh test" npm
  need_tool "$test" CHROMIUM "scripts/install-deps.sh test" chromium chromium-browser
  for module in playwright-core "$@"; do
    if [ ! -d "$_tools_e2e_dir/node_modules/$module" ]; then
      (cd "$_tools_e2e_dir" && "$NPM" ci --no-audit --no-fund --loglevel=error)
      return
    fi
  done
}
