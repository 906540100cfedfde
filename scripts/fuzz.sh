#!/usr/bin/env bash
# Builds every libFuzzer target (tests/fuzz/*_fuzz.cmake) with clang-14, ASan and UBSan, and
# runs each for FUZZ_SECONDS (default 30) on a scratch copy of its seed corpus
# (tests/fuzz/corpus/<target>/), so new inputs never land in the repo.
#   scripts/fuzz.sh [target ...]        (default: all targets)
# Ends with "N passed, M failed"; a crash leaves its input in build/fuzz/artifacts/.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=build/fuzz
SECONDS_PER_TARGET=${FUZZ_SECONDS:-30}
if [ ! -f $BUILD/build.ninja ]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B $BUILD -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DEDGECLASS_FUZZ=ON -DEDGECLASS_TESTS=OFF -DEDGECLASS_BENCH=OFF >/dev/null || exit 1
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(ninja -C $BUILD -t targets all | grep -oP '^[a-z0-9_]+_fuzz(?=: )' | grep -v '^cmake_' | sort -u)
fi
ninja -C $BUILD "${targets[@]}" || exit 1
mkdir -p $BUILD/artifacts
passed=0
failed=0
for t in "${targets[@]}"; do
  corpus=$BUILD/corpus/$t
  mkdir -p "$corpus"
  seeds=tests/fuzz/corpus/${t%_fuzz}
  [ -d "$seeds" ] && cp -n "$seeds"/* "$corpus"/ 2>/dev/null
  echo "=== $t (${SECONDS_PER_TARGET}s)"
  if "$BUILD/tests/fuzz/$t" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=0 \
       -artifact_prefix="$BUILD/artifacts/$t-" "$corpus" >"$BUILD/$t.log" 2>&1; then
    passed=$((passed + 1)); tail -1 "$BUILD/$t.log"
  else
    failed=$((failed + 1)); grep -m3 -E 'ERROR|SUMMARY|Test unit written' "$BUILD/$t.log"
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
