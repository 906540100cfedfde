#!/usr/bin/env bash
# Builds everything in the release tree and runs every test (GoogleTest and the fuzz corpus
# replays via CTest, then the script and browser tests that need the real binary; among them
# tests/scripts/asan.sh, the sanitizer job, which builds build/asan and runs the API and live
# tests under ASan+UBSan). Ends with "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=build/release
[ -f $BUILD/build.ninja ] || cmake --preset release >/dev/null || exit 1
cmake --build $BUILD || exit 1

passed=0
failed=0
failures=()

ctest_out=$(mktemp)
ctest --test-dir $BUILD --output-on-failure -j2 --timeout 300 2>&1 | tee "$ctest_out"
p=$(grep -oP '\d+(?= tests passed|% tests passed)' "$ctest_out" | head -1)
summary=$(grep -oP '\d+% tests passed, \d+ tests failed out of \d+' "$ctest_out" | head -1)
if [ -n "$summary" ]; then
  f=$(echo "$summary" | grep -oP '\d+(?= tests failed)')
  t=$(echo "$summary" | grep -oP '(?<=out of )\d+')
  passed=$((passed + t - f))
  failed=$((failed + f))
  [ "$f" -gt 0 ] && failures+=("ctest: $f failed")
else
  failed=$((failed + 1)); failures+=("ctest: no summary")
fi
rm -f "$ctest_out"

# Script tests: each tests/scripts/*.sh exits 0 on success.
for t in tests/scripts/*.sh; do
  [ -e "$t" ] || continue
  echo "=== $t"
  if bash "$t"; then
    passed=$((passed + 1)); echo "--- PASS $t"
  else
    failed=$((failed + 1)); failures+=("$t"); echo "--- FAIL $t"
  fi
done

for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
