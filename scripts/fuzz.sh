#!/usr/bin/env bash
# Builds every libFuzzer target (tests/fuzz/*_fuzz.cmake) with clang-14, ASan and UBSan, and
# runs each for FUZZ_SECONDS (default 180), one after the other, one process at a time, on a
# working copy of its seed corpus (build/fuzz/corpus/<target>, kept between runs and seeded
# from tests/fuzz/corpus/<name>/; new inputs never land in the repo's corpus).
#   scripts/fuzz.sh [target ...]        (default: all targets)
#   FUZZ_SECONDS=600 scripts/fuzz.sh http_body_fuzz
# Figures are appended to build/fuzz/summary.txt (one line per target and run).
# libFuzzer runs in fork mode (-fork=1) and keeps going after a crash, timeout or OOM, so one
# run finds more than the first bug. Every such input is kept twice: build/fuzz/artifacts/
# and tests/fuzz/pending/<name>/ (not replayed by make test). Triage: fix the bug, then move
# the input to tests/fuzz/regressions/<name>/, which make test replays (tests/fuzz/README.md).
# Prints one line of figures per target (executions, coverage, features, corpus, crashes) into
# build/fuzz/summary.txt as well; ends with "N passed, M failed" (failed: crashes were found).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=build/fuzz
SECONDS_PER_TARGET=${FUZZ_SECONDS:-180}
if [ ! -f $BUILD/build.ninja ]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B $BUILD -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DEDGECLASS_FUZZ=ON -DEDGECLASS_TESTS=OFF -DEDGECLASS_BENCH=OFF >/dev/null || exit 1
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(ninja -C $BUILD -t targets all | grep -oP '^[a-z0-9_]+_fuzz(?=: )' | grep -v '^cmake_' | sort -u)
fi
# FUZZ_NO_BUILD=1: run what is built (e.g. while another ninja builds the rest).
if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
  ninja -C $BUILD -j2 "${targets[@]}" || exit 1
fi
mkdir -p $BUILD/artifacts
summary=$BUILD/summary.txt

# Per-target libFuzzer flags: input size and time bounds where an input can cost a lot, and
# dictionaries (tests/fuzz/dicts/; libFuzzer takes one, so they are concatenated).
flags_for() {
  local dicts=()
  case "$1" in
    policy_rego_fuzz) echo -n "-max_len=2048 -timeout=10 " ;;  # small policies; step-bounded eval
    policy_eval_fuzz) echo -n "-max_len=4096 -timeout=10 "; dicts=(json) ;;
    http_request_fuzz) echo -n "-max_len=8192 -timeout=20 "; dicts=(http json) ;;
    http_body_fuzz) echo -n "-max_len=8192 -timeout=20 "; dicts=(json) ;;
    http_fast_head_fuzz) echo -n "-max_len=4096 -timeout=10 "; dicts=(http) ;;
    classroom_live_fuzz) echo -n "-max_len=8192 -timeout=20 "; dicts=(live json) ;;
    *) echo -n "-timeout=10 " ;;
  esac
  if [ ${#dicts[@]} -gt 0 ]; then
    local out=$BUILD/$1.dict
    for d in "${dicts[@]}"; do cat "tests/fuzz/dicts/$d.dict"; done >"$out"
    echo -n "-dict=$out"
  fi
}

passed=0
failed=0
for t in "${targets[@]}"; do
  name=${t%_fuzz}
  corpus=$BUILD/corpus/$t
  mkdir -p "$corpus"
  seeds=tests/fuzz/corpus/$name
  [ -d "$seeds" ] && cp -n "$seeds"/* "$corpus"/ 2>/dev/null
  before=$(ls $BUILD/artifacts/ | grep "^$t-" | sort)
  echo "=== $t (${SECONDS_PER_TARGET}s)"
  # shellcheck disable=SC2046
  "$BUILD/tests/fuzz/$t" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -rss_limit_mb=2048 \
    $(flags_for "$t") -artifact_prefix="$BUILD/artifacts/$t-" "$corpus" >"$BUILD/$t.log" 2>&1
  rc=$?
  # Fork mode's status lines: "#N: cov: C ft: F corp: K exec/s E oom/timeout/crash: a/b/c time: Ts"
  last=$(grep -E '^#[0-9]+: cov:' "$BUILD/$t.log" | tail -1)
  execs=$(echo "$last" | grep -oP '^#\K[0-9]+')
  cov=$(echo "$last" | grep -oP 'cov: \K[0-9]+')
  ft=$(echo "$last" | grep -oP 'ft: \K[0-9]+')
  corp=$(echo "$last" | grep -oP 'corp: \K[0-9]+')
  bad=$(echo "$last" | grep -oP 'oom/timeout/crash: \K[0-9/]+')
  rate=$(echo "$last" | grep -oP 'exec/s:? \K[0-9]+')
  mapfile -t new_artifacts < <(comm -13 <(echo "$before") <(ls $BUILD/artifacts/ | grep "^$t-" | sort) | grep .)
  for a in "${new_artifacts[@]}"; do
    mkdir -p "tests/fuzz/pending/$name"
    cp "$BUILD/artifacts/$a" "tests/fuzz/pending/$name/${a#"$t"-}"
  done
  line=$(printf '%-22s %5ss execs %-9s exec/s %-6s cov %-6s ft %-6s corpus %-6s oom/timeout/crash %-8s kept %s' \
    "$t" "$SECONDS_PER_TARGET" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${bad:-?}" \
    "${#new_artifacts[@]}")
  echo "$line" | tee -a "$summary"
  if [ $rc -eq 0 ] && [ ${#new_artifacts[@]} -eq 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    [ ${#new_artifacts[@]} -gt 0 ] && echo "    kept in tests/fuzz/pending/$name/: ${new_artifacts[*]}"
    [ $rc -ne 0 ] && echo "    libFuzzer exited $rc; see $BUILD/$t.log"
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
