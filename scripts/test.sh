#!/usr/bin/env bash
# Builds everything in the release tree and runs every test (GoogleTest and the fuzz corpus
# replays via CTest, then the script and browser tests that need the real binary; among them
# tests/scripts/asan.sh, the sanitizer job, which builds build/asan and runs the API and live
# tests under ASan+UBSan). Ends with "N passed, M failed, K skipped".
# A test skips (exit 77 for a script, GTEST_SKIP for a GoogleTest) only when an external tool
# it needs is missing (tests/scripts/lib/tools.sh); every skip is listed with its reason.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=build/release
start=$SECONDS
[ -f $BUILD/build.ninja ] || cmake --preset release >/dev/null || exit 1
cmake --build $BUILD || exit 1
echo "--- build: $((SECONDS - start)) s"

passed=0
failed=0
skipped=0
failures=()
skips=()

ctest_out=$(mktemp)
t0=$SECONDS
ctest --test-dir $BUILD --output-on-failure -j2 --timeout 300 2>&1 | tee "$ctest_out"
echo "--- ctest: $((SECONDS - t0)) s"
p=$(grep -oP '\d+(?= tests passed|% tests passed)' "$ctest_out" | head -1)
summary=$(grep -oP '\d+% tests passed, \d+ tests failed out of \d+' "$ctest_out" | head -1)
if [ -n "$summary" ]; then
  f=$(echo "$summary" | grep -oP '\d+(?= tests failed)')
  t=$(echo "$summary" | grep -oP '(?<=out of )\d+')
  passed=$((passed + t - f))
  failed=$((failed + f))
  [ "$f" -gt 0 ] && failures+=("ctest: $f failed")
  # GTEST_SKIP'd tests count as passed in CTest's summary line; list them as skipped.
  while read -r name; do
    [ -n "$name" ] || continue
    passed=$((passed - 1)); skipped=$((skipped + 1)); skips+=("ctest: $name (reason: ctest --test-dir $BUILD -R '^$name\$' -V)")
  done < <(grep -oP '^\s*\d+ - \K\S+(?= \(Skipped\))' "$ctest_out")
else
  failed=$((failed + 1)); failures+=("ctest: no summary")
fi
rm -f "$ctest_out"

# Script tests: each tests/scripts/*.sh (and tests/wasm/wasm_test.sh) exits 0 on success.
run_script() {
  local t=$1 rc=0 out t0 took
  echo "=== $t"
  out=$(mktemp)
  t0=$SECONDS
  bash "$t" 2>&1 | tee "$out" || rc=${PIPESTATUS[0]}
  took="($((SECONDS - t0)) s)"
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1)); echo "--- PASS $t $took"
  elif [ "$rc" -eq 77 ]; then
    skipped=$((skipped + 1)); skips+=("$t: $(grep -m1 '^SKIP ' "$out" | cut -d: -f2- | sed 's/^ //')")
    echo "--- SKIP $t $took"
  else
    failed=$((failed + 1)); failures+=("$t"); echo "--- FAIL $t $took"
  fi
  rm -f "$out"
}

# Scripts that build a tree of their own (the sanitizer job's build/asan, the wasm32-wasi
# build/wasm of tests/wasm/wasm_test.sh) build it in the background at the lowest CPU priority
# while the other scripts run (most of their time is spent waiting on servers, timers and
# browsers), then run last, when their build is done. Each accepts EDGECLASS_BUILD_ONLY=1:
# build, then exit without testing. The background build yields the CPU to the tests
# (nice 19), so it cannot make them slower than a busy box would.
PREBUILT=(tests/scripts/asan.sh tests/wasm/wasm_test.sh)
mkdir -p build
prebuild_log=build/prebuild.log
(
  for t in "${PREBUILT[@]}"; do
    echo "=== prebuild $t"
    EDGECLASS_BUILD_ONLY=1 nice -n 19 bash "$t" || echo "--- prebuild $t failed (its run below builds again)"
  done
) >"$prebuild_log" 2>&1 &
prebuild_pid=$!

for t in tests/scripts/*.sh; do
  [ -e "$t" ] || continue
  [[ " ${PREBUILT[*]} " == *" $t "* ]] && continue
  run_script "$t"
done
t0=$SECONDS
wait "$prebuild_pid"
echo "--- background builds: waited $((SECONDS - t0)) s more; their log:"
tail -n 5 "$prebuild_log"
for t in "${PREBUILT[@]}"; do
  run_script "$t"
done

for s in "${skips[@]}"; do echo "SKIPPED: $s"; done
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "--- make test took $SECONDS s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
