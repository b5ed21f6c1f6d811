#!/usr/bin/env bash
# Build the libFuzzer targets (fuzz/) with clang and run one or all of them.
#
#   scripts/fuzz.sh TARGET|all [SECONDS] [extra libFuzzer flags...]
#   scripts/fuzz.sh list
#
# TARGET is a name from fuzz/fuzz_<name>.c: rangecoder, block, archive,
# model, names, roundtrip. Each runs for SECONDS (default 60), one worker,
# under AddressSanitizer and UndefinedBehaviorSanitizer, starting from its
# seeds in tests/fuzz-corpus/<target>/ plus what earlier runs found
# (build-fuzz/corpus/<target>/, never committed). "all" runs them one after
# another. A crash, leak, timeout or out-of-memory input is written to
# build-fuzz/artifacts/<target>/ and this script exits 1 naming it: copy
# the file into tests/fuzz-corpus/<target>/ and the ctest regress_<target>
# replays it from then on. The last line printed per target is the summary
# (executions, executions per second, coverage: libFuzzer's cov and ft).
#
# Installs clang-14 and libclang-rt-14-dev (Debian) when missing. Runs at
# nice 10 so that it does not starve other work on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=()
for f in fuzz/fuzz_*.c; do t=${f#fuzz/fuzz_}; targets+=("${t%.c}"); done
if [[ ${1:-} == list || $# -lt 1 ]]; then
  echo "usage: scripts/fuzz.sh TARGET|all [SECONDS] [libFuzzer flags...]"
  echo "targets: ${targets[*]}"
  [[ ${1:-} == list ]] && exit 0 || exit 1
fi
what=$1; shift
secs=${1:-60}; [[ $# -gt 0 ]] && shift

packages=(clang-14 libclang-rt-14-dev cmake pkg-config libhdf5-dev libxxhash-dev libopenblas-openmp-dev
          libjpeg62-turbo-dev libpng-dev libflac-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "fuzz: installing ${missing[*]}" >&2
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

B=build-fuzz
san="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O2"
if [[ ! -f $B/CMakeCache.txt ]]; then
  CC=clang-14 cmake -S . -B $B -DCMAKE_BUILD_TYPE=Debug -DLMZ_CUDA=OFF -DLMZ_FUZZ=ON \
    -DCMAKE_C_FLAGS="$san" >/dev/null
fi
build_targets=()
for t in "${targets[@]}"; do build_targets+=(--target "fuzz_$t"); done
nice -n 10 cmake --build $B -j"$(nproc 2>/dev/null || echo 2)" "${build_targets[@]}" >$B/build.log 2>&1 ||
  { tail -30 $B/build.log; echo "fuzz: build failed (log: $B/build.log)" >&2; exit 1; }

# Per target: the longest input worth trying, and a time limit per input
# (the model-running targets decode with the tiny model, ~50 KB/s).
max_len() {
  case $1 in
    roundtrip) echo 2600 ;; names) echo 9000 ;; rangecoder|block) echo 8192 ;; *) echo 131072 ;;
  esac
}
timeout_of() { case $1 in roundtrip|archive) echo 120 ;; *) echo 30 ;; esac; }

# HDF5 leaks a little on some failed opens of damaged files (tests/lsan.supp).
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

run_one() {
  local t=$1 corpus=$B/corpus/$1 art=$B/artifacts/$1 log=$B/logs/$1.log
  shift
  mkdir -p "$corpus" "$art" "$B/logs"
  echo "fuzz: $t for ${secs}s (log: $log)" >&2
  local rc=0
  nice -n 10 "$B/fuzz_$t" "$corpus" "tests/fuzz-corpus/$t" -max_total_time="$secs" \
    -max_len="$(max_len "$t")" -timeout="$(timeout_of "$t")" -rss_limit_mb=4096 \
    -artifact_prefix="$art/" -print_final_stats=1 "$@" >"$log" 2>&1 || rc=$?
  local done_line; done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
  [[ -n $done_line ]] || done_line=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  local execs; execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
  local eps; eps=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}' || true)
  if ((rc != 0)); then
    echo "fuzz: $t: FINDING (exit $rc); see $log and $art/" >&2
    grep -E 'ERROR|invariant|SUMMARY|Test unit written' "$log" | head -8 >&2 || true
    return 1
  fi
  echo "fuzz: $t: ${secs}s, ${execs:-?} executions, ${eps:-?} exec/s, no finding; last: $done_line"
}

status=0
if [[ $what == all ]]; then
  for t in "${targets[@]}"; do run_one "$t" "$@" || status=1; done
else
  [[ -f fuzz/fuzz_$what.c ]] || { echo "fuzz: no target '$what' (have: ${targets[*]})" >&2; exit 1; }
  run_one "$what" "$@" || status=1
fi
exit $status
